"""The small recipe files a saved model needs to be re-evaluated, kept inside the model directory.

training_config.yaml records paths as given when training ran (relative to that working directory), so a model
moved, installed or evaluated from elsewhere could not find its label mapping or its fixed test ids. Training
copies them into the model (`bundle_recipe_files`) and readers resolve them there (`resolve_model_paths`). The
corpus, annotations and teacher are not copied: they are data, large, and the model predicts without them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from model import UserError

# training_config.yaml field -> the file name it is saved under in the model directory
BUNDLED = {"label_map": "label_map.yaml", "test_ids": "test_ids.txt"}


def bundle_recipe_files(config_dict: dict, model_dir: Path) -> dict:
    """Copy the files named by the BUNDLED fields of `config_dict` into `model_dir`; return the config with
    those fields rewritten to the bundled names (relative to the model directory)."""
    model_dir = Path(model_dir)
    bundled = dict(config_dict)
    for field, name in BUNDLED.items():
        if not config_dict.get(field):
            continue
        source, target = Path(config_dict[field]), model_dir / name
        if not source.is_file():
            raise UserError(f"{source}: {field} file not found, so it cannot be saved with the model")
        if not (target.exists() and source.resolve() == target.resolve()):  # retraining in place: already there
            shutil.copyfile(source, target)
        bundled[field] = name
    return bundled


def resolve_model_paths(config: dict, model_dir: str | Path) -> dict:
    """The BUNDLED fields of a model's training config resolved against the model directory when the file is
    there; otherwise as given (relative to the working directory: models saved before files were bundled)."""
    resolved = dict(config)
    for field in BUNDLED:
        value = config.get(field)
        if value and not Path(value).is_absolute() and (Path(model_dir) / value).is_file():
            resolved[field] = str(Path(model_dir) / value)
    return resolved
