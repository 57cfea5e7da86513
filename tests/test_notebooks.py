"""Every notebook runs top to bottom on the committed samples; a failing cell fails the test."""
import json
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


def test_train_your_own_notebook(tiny_base, tmp_path, monkeypatch):
    notebook = execute("train_your_own.ipynb", {"ARABIC_TOPICS_BASE": tiny_base, "ARABIC_TOPICS_OUTPUT": tmp_path},
                       monkeypatch)
    assert (tmp_path / "model" / "config.json").is_file()
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["data"]["articles"] == 13 and "baseline" in metrics  # the whole held-out file, beside the baseline
    last = notebook.cells[-1]["outputs"][0]["data"]["text/plain"]
    assert "score" in last and len(last.splitlines()) == 4  # a header and the three texts classified


def test_explain_notebook(trained, monkeypatch):
    notebook = execute("explain.ipynb", {"ARABIC_TOPICS_MODEL": trained}, monkeypatch)
    shown = [o["data"]["text/html"] for c in notebook.cells for o in c.get("outputs", [])
             if "text/html" in o.get("data", {})]
    assert any('<span style="background:' in page for page in shown)  # the highlighted article


def test_notebook_samples_are_the_committed_articles():
    """notebooks/data is made from tests/data by its script: the same articles, the recipes' labels."""
    import pandas as pd

    from training.corpus import read_corpus

    train = pd.read_csv(NOTEBOOKS / "data" / "train.csv")
    assert set(train["text"]) == set(read_corpus(DATA / "ant")["text"])
    assert train["label"].value_counts().to_dict() == {"politics": 14, "culture": 6, "economy": 6, "sports": 6,
                                                       "technology": 6}
    heldout = pd.read_csv(NOTEBOOKS / "data" / "heldout.csv")
    assert set(heldout["text"]) <= set(read_corpus(DATA / "jawhara")["text"]) and len(heldout) == 13


@pytest.mark.parametrize("name", ["explore_data.ipynb", "evaluate.ipynb", "train_your_own.ipynb", "explain.ipynb"])
def test_a_failing_cell_fails(name, monkeypatch, tmp_path):
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError):
        execute(name, {"ARABIC_TOPICS_DATA": tmp_path / "missing", "ARABIC_TOPICS_MODEL": tmp_path / "none",
                       "ARABIC_TOPICS_BASE": tmp_path / "no-base", "ARABIC_TOPICS_OUTPUT": tmp_path},
                monkeypatch)
