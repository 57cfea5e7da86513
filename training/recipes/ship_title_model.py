"""Ships a trained title model beside a shipped default (model/default/titles): the light (delta) export of
RUN without its TF-IDF blend, as the default's title mean was measured on the model alone, and run under fp32
ONNX (`backend: onnx`), as int8 cost it 1.1 macro-F1 points on dev titles (docs/default-model.md#the-title-model).

    python training/recipes/ship_title_model.py runs/title-reader model/default/titles
"""
import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from model.cli import add_export_arguments, run_export
from model.errors import UserError


def fail(message: str):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


if len(sys.argv) != 3:
    fail("usage: python training/recipes/ship_title_model.py RUN OUT")
run, out = Path(sys.argv[1]), Path(sys.argv[2])
if not (run / "topic_config.json").is_file():
    fail(f"{run} is not a trained model directory (no topic_config.json)")
with tempfile.TemporaryDirectory() as tmp:
    unblended = Path(tmp) / run.name
    shutil.copytree(run, unblended, ignore=shutil.ignore_patterns("tfidf", "checkpoint-*"))
    settings_file = unblended / "topic_config.json"
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    settings.pop("fusion", None)
    settings["backend"] = "onnx"
    settings_file.write_text(json.dumps(settings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    recipe_file = unblended / "training_config.yaml"  # which states the reading it ships
    recipe_file.write_text(re.sub(r"(?m)^backend: .*$", "backend: onnx", recipe_file.read_text(encoding="utf-8")),
                           encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_export_arguments(parser)  # arabic-topics export, as training may call it (model/, not the CLI above it)
    try:
        sys.exit(run_export(parser.parse_args(["--model", str(unblended), "--out", str(out)])))
    except UserError as error:
        fail(str(error))
