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


def test_a_card_says_the_blend_only_where_the_directory_holds_it():
    from model.card import baseline_line

    metrics = {"baseline": {"dev": {"macro_f1": 0.81}, "test": {"macro_f1": 0.82}, "train_articles": 100},
               "fusion": {"adopted": True, "weight": 0.7},
               "transformer_alone": {"dev": {"macro_f1": 0.8241}, "test": {"macro_f1": 0.8255}}}
    assert "blends the transformer" in baseline_line(metrics, blended=True)
    left_out = baseline_line(metrics, blended=False)  # a directory saved without its tfidf/ (model/default/titles)
    assert "blends" not in left_out and "leaves out" in left_out and "dev 0.8241, test 0.8255" in left_out
