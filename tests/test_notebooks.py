"""Both notebooks run top to bottom on the committed samples; a failing cell fails the test."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import DATA

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def execute(name: str, env: dict, monkeypatch) -> nbformat.NotebookNode:
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        f"{name} must be committed without outputs"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def test_explore_data_notebook(monkeypatch):
    notebook = execute("explore_data.ipynb", {"ARABIC_TOPICS_DATA": DATA / "ant"}, monkeypatch)
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3


def test_evaluate_notebook(trained, tmp_path, monkeypatch):
    execute("evaluate.ipynb", {"ARABIC_TOPICS_MODEL": trained, "ARABIC_TOPICS_DATA": DATA / "ant",
                               "ARABIC_TOPICS_REPORT": tmp_path}, monkeypatch)
    assert (tmp_path / "report.md").is_file() and (tmp_path / "confusion_matrix.png").is_file()


@pytest.mark.parametrize("name", ["explore_data.ipynb", "evaluate.ipynb"])
def test_a_failing_cell_fails(name, monkeypatch, tmp_path):
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError):
        execute(name, {"ARABIC_TOPICS_DATA": tmp_path / "missing", "ARABIC_TOPICS_MODEL": tmp_path / "none"},
                monkeypatch)
