"""`arabic-topics benchmark-train` on the tiny BERT and the ANT sample: both arms train, are timed and scored."""
import json
import re

import pytest
import yaml

from model import UserError
from training.throughput import main

from .conftest import DATA


def recipe(tiny_base, tmp_path):
    """A tiny recipe in the shape of training/recipes/default.yaml: lower layer frozen, with a feature cache."""
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({
        "base": str(tiny_base), "max_length": 64, "freeze_layers": 1, "feature_cache": str(tmp_path / "cache"),
        "batch_size": 8, "learning_rate": 1e-3, "dev_size": 0.2, "test_size": 0.2, "seed": 0}))
    return path


def test_both_arms_are_timed_and_scored(tiny_base, tmp_path, capsys):
    out = tmp_path / "result.json"
    assert main(["--config", str(recipe(tiny_base, tmp_path)), "--data", str(DATA / "ant"), "--steps", "4",
                 "--dev-n", "40", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    ours, plain = result["arms"]["ours"], result["arms"]["plain"]
    for arm in (ours, plain):
        assert arm["steps"] == 4 and arm["docs"] == 32 and arm["stopped_by"] == "steps"
        assert arm["docs_per_s"] > 0 and 0 <= arm["dev_macro_f1"] <= 1 and arm["peak_rss_mb"] > 0
    # ours' headline counts its trunk encoding; plain has none to count
    assert ours["cache_s"] > 0 and ours["docs_per_s"] < ours["docs_per_s_excluding_cache"]
    assert plain["cache_s"] == 0 and plain["docs_per_s"] == plain["docs_per_s_excluding_cache"]
    # the baseline is a full fine-tune; ours leaves the embedding matrix as the base has it
    assert plain["embeddings_trained"] and not ours["embeddings_trained"]
    assert plain["trainable_parameters"] > ours["trainable_parameters"] and not plain["bf16"]
    assert result["recipe"]["max_length"] == 64 and result["command"].startswith("arabic-topics benchmark-train")
    # a fresh temporary cache, never the recipe's: a warm cache would hide the encoding cost
    assert not (tmp_path / "cache").exists()
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"training throughput ours / plain: \d+\.\d\d×", last)
    assert float(last.split(": ")[1][:-1]) == pytest.approx(result["ratio_ours_vs_plain"], abs=0.005)


def test_time_budget_stops_each_arm(tiny_base, tmp_path):
    out = tmp_path / "result.json"
    main(["--config", str(recipe(tiny_base, tmp_path)), "--data", str(DATA / "ant"), "--steps", "50",
          "--budget-s", "0.001", "--dev-n", "40", "--out", str(out)])
    for arm in json.loads(out.read_text())["arms"].values():
        assert arm["steps"] == 1 and arm["stopped_by"] == "budget" and 0 <= arm["dev_macro_f1"] <= 1


def test_bad_options_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="--steps"):
        main(["--data", str(DATA / "ant"), "--steps", "0", "--out", str(tmp_path / "r.json")])


PSD_COLUMNS = ["--data", str(DATA / "psd.jsonl"), "--text-column", "text", "--title-column", "title",
               "--id-column", "id"]


def test_multi_label_recipe_is_benchmarked(tiny_base, tmp_path):
    out = tmp_path / "result.json"
    main(["--config", str(recipe(tiny_base, tmp_path)), *PSD_COLUMNS, "--label-column", "labels", "--steps", "2",
          "--dev-n", "8", "--out", str(out)])
    for arm in json.loads(out.read_text())["arms"].values():
        assert arm["steps"] == 2 and 0 <= arm["dev_macro_f1"] <= 1


def test_partial_label_recipe_is_refused(tiny_base, tmp_path):
    with pytest.raises(UserError, match="partial-label"):
        main(["--config", str(recipe(tiny_base, tmp_path)), *PSD_COLUMNS, "--label-column", "section",
              "--label-map", "training/recipes/psd-topics.yaml", "--out", str(tmp_path / "r.json")])
