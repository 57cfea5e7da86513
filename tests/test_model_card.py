"""Model cards are generated from facts, and every instruction in them works from another directory."""
import re
import subprocess
import sys

from .conftest import DATA  # noqa: F401  (the fixtures' data)


def python_blocks(card: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", card, re.S)


def run_elsewhere(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)


def test_a_trained_models_card_runs_from_another_directory(trained, tmp_path):
    card = (trained / "README.md").read_text(encoding="utf-8")
    blocks = python_blocks(card)
    assert len(blocks) == 2 and "AutoModelForSequenceClassification" in blocks[1]
    for code in blocks:
        done = run_elsewhere(code, tmp_path)
        assert done.returncode == 0, done.stderr


def test_an_exported_delta_card_says_light_and_runs(trained, tmp_path):
    out = tmp_path / "light"
    done = subprocess.run([sys.executable, "-m", "arabic_topics", "export", "--model", str(trained), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "light directory" in card and "plain transformers checkpoint" not in card
    blocks = python_blocks(card)
    assert len(blocks) == 1 and str(out.resolve()) in blocks[0]
    ran = run_elsewhere(blocks[0], tmp_path)
    assert ran.returncode == 0, ran.stderr
