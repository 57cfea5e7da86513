"""A saved model carries the recipe files it needs to be re-evaluated (training/bundle.py), so it can be
evaluated from any working directory; models saved before keep working from where they were trained."""
import shutil
from pathlib import Path

import pytest
import yaml

import model as model_package
from eval.protocols import model_split, training_config
from model import UserError
from training.bundle import bundle_recipe_files, resolve_model_paths
from training.hygiene import LabelMapping
from training.partial_labels import read_ids

from .conftest import DATA, RECIPE_MAP

REPO = Path(__file__).parent.parent


@pytest.fixture
def recipe_dir(tmp_path, half_annotated):
    """A working directory holding a recipe's label mapping and fixed test ids, as training ran there."""
    _, records = half_annotated
    where = tmp_path / "training-cwd"
    (where / "recipes").mkdir(parents=True)
    shutil.copyfile(REPO / RECIPE_MAP, where / "recipes" / "map.yaml")
    (where / "recipes" / "ids.txt").write_text("".join(r["id"] + "\n" for r in records[20:26]))
    return where


def saved_with(model_dir: Path, tmp_path: Path, name: str, **fields) -> Path:
    copy = shutil.copytree(model_dir, tmp_path / name)
    config = yaml.safe_load((copy / "training_config.yaml").read_text())
    config.update(fields)
    (copy / "training_config.yaml").write_text(yaml.safe_dump(config))
    return copy


def test_a_bundled_model_is_evaluated_from_another_directory(partial_model, recipe_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(recipe_dir)
    bundled_model = saved_with(partial_model, tmp_path, "bundled", label_map="recipes/map.yaml",
                               test_ids="recipes/ids.txt")
    config = yaml.safe_load((bundled_model / "training_config.yaml").read_text())
    rewritten = bundle_recipe_files(config, bundled_model)
    assert rewritten["label_map"] == "label_map.yaml" and rewritten["test_ids"] == "test_ids.txt"
    assert {k: v for k, v in rewritten.items() if k not in ("label_map", "test_ids")} == \
        {k: v for k, v in config.items() if k not in ("label_map", "test_ids")}
    assert (bundled_model / "label_map.yaml").read_bytes() == (recipe_dir / "recipes" / "map.yaml").read_bytes()
    assert (bundled_model / "test_ids.txt").read_bytes() == (recipe_dir / "recipes" / "ids.txt").read_bytes()
    (bundled_model / "training_config.yaml").write_text(yaml.safe_dump(rewritten))
    old_model = saved_with(partial_model, tmp_path, "old", label_map="recipes/map.yaml", test_ids="recipes/ids.txt")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    metrics = model_split(bundled_model, str(DATA / "psd.jsonl"), tmp_path / "report", baseline=False)
    assert metrics["data"]["articles"] == 6  # the bundled fixed test ids
    with pytest.raises(UserError, match="recipes/map.yaml: cannot read label mapping"):
        model_split(old_model, str(DATA / "psd.jsonl"), tmp_path / "report-old", baseline=False)
    monkeypatch.chdir(recipe_dir)  # where it was trained, the old model still finds its files
    assert model_split(old_model, str(DATA / "psd.jsonl"), tmp_path / "report-old",
                       baseline=False)["data"]["articles"] == 6


def test_resolving_leaves_absolute_and_unbundled_paths_as_given(tmp_path):
    (tmp_path / "label_map.yaml").write_text("labels: {}\n")
    config = {"label_map": "label_map.yaml", "test_ids": "ids.txt", "data": "label_map.yaml"}
    resolved = resolve_model_paths(config, tmp_path)
    assert resolved == {**config, "label_map": str(tmp_path / "label_map.yaml")}  # only bundled fields move
    absolute = {"label_map": str(DATA / "psd.jsonl"), "test_ids": None}
    assert resolve_model_paths(absolute, tmp_path) == absolute


def test_bundling_needs_the_files_and_can_run_in_place(tmp_path):
    with pytest.raises(UserError, match="missing.yaml: label_map file not found"):
        bundle_recipe_files({"label_map": str(tmp_path / "missing.yaml")}, tmp_path)
    (tmp_path / "label_map.yaml").write_text("labels: {}\n")
    # a model retrained into its own directory from its own training_config: the file is already there
    config = resolve_model_paths({"label_map": "label_map.yaml", "test_ids": None}, tmp_path)
    assert bundle_recipe_files(config, tmp_path) == {"label_map": "label_map.yaml", "test_ids": None}
    assert (tmp_path / "label_map.yaml").read_text() == "labels: {}\n"


@pytest.mark.parametrize("folder, test_ids, count", [("default", "teacher-test-ids.txt", 3184),
                                                     ("default/teacher", "psd-test-ids.txt", 200)])
def test_the_shipped_models_carry_their_recipe_files(folder, test_ids, count, tmp_path, monkeypatch):
    shipped = Path(model_package.__file__).parent / folder
    monkeypatch.chdir(tmp_path)  # nowhere near training/recipes
    config = training_config(shipped)
    assert Path(config.label_map) == shipped / "label_map.yaml" and Path(config.test_ids) == shipped / "test_ids.txt"
    assert LabelMapping.from_yaml(config.label_map).targets == ["culture", "economy", "sports", "technology"]
    assert len(read_ids(config.test_ids)) == count
    for bundled, recipe in (("label_map.yaml", "psd-topics.yaml"), ("test_ids.txt", test_ids)):
        assert (shipped / bundled).read_bytes() == (REPO / "training" / "recipes" / recipe).read_bytes()
