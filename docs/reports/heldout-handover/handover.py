"""Score the default's reading on a held-out outlet, at the held-out sweep's scale (run.sh trains the models):
every article of the outlet read by the student alone, by the 12-layer model alone (1 and 2 windows), and by
the student handing texts to the 12-layer model exactly as model/default does: the shipped folder layout and
settings (`second_model: teacher`, its margin and short-text length from model/default/topic_config.json, the
12-layer model reading 2 windows as model/default/teacher does), predict's `label`, onnx-int8. Beside them the
TF-IDF baseline training fitted on the same 4,000 articles. Nothing is chosen here.

    python docs/reports/heldout-handover/handover.py RUNS OUT.json OUTLET ...
"""
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

from eval.protocols import topic_parts
from model import TopicClassifier
from training.metrics import single_label_scores

runs, out, outlets = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
shipped = json.loads(Path("model/default/topic_config.json").read_text())
teacher_windows = json.loads(Path("model/default/teacher/topic_config.json").read_text())["max_windows"]
reading = {key: shipped[key] for key in ("second_model_tokens", "second_model_margin")}
BACKEND = shipped["backend"]


def linked(source: Path, folder: Path, settings: dict) -> Path:
    """`folder` holding links to the files of `source`, its topic_config.json updated with `settings`."""
    folder.mkdir(exist_ok=True)
    for file in source.iterdir():
        if file.is_file() and file.name != "topic_config.json" and not (folder / file.name).exists():
            os.symlink(file.resolve(), folder / file.name)
    config = json.loads((source / "topic_config.json").read_text()) | settings
    (folder / "topic_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    return folder


def f1(gold, predicted) -> float:
    return round(single_label_scores(gold, predicted)["macro_f1"], 4)


result = {"reading": reading | {"teacher_windows": teacher_windows, "backend": BACKEND}, "outlets": {}}
for outlet in outlets:
    student_dir, teacher_dir = runs / f"{outlet}-l4-f1", runs / f"{outlet}-l12-f10"
    default_dir = linked(student_dir, runs / f"{outlet}-default", {"second_model": "teacher", **reading})
    linked(teacher_dir, default_dir / "teacher", {"max_windows": teacher_windows})
    test = topic_parts(student_dir, None, "training/recipes/topics.yaml")[0]["test"]
    texts, titles, gold = list(test["text"]), list(test["title"]), list(test["label"])
    default = TopicClassifier.from_pretrained(default_dir, backend=BACKEND)
    teacher = default.second_reader()  # the 12-layer model the default hands over to, loaded once
    rows = {"articles": len(texts)}
    with_second = default.settings
    default.settings = with_second.alone()
    student = default.topic_proba(default.predict_proba(texts, titles))
    rows["student alone"] = f1(gold, [default.topics[i] for i in student.argmax(1)])
    ranked = np.sort(student, axis=1)
    rows["handed over"] = round(float((ranked[:, -1] - ranked[:, -2] < reading["second_model_margin"]).mean()), 4)
    for windows in (1, teacher_windows):
        teacher.settings = dataclasses.replace(teacher.settings, max_windows=windows)
        own = teacher.topic_proba(teacher.predict_proba(texts, titles))
        rows[f"12-layer alone, {windows} window(s)"] = f1(gold, [teacher.topics[i] for i in own.argmax(1)])
    default.settings = with_second
    rows["default reading (predict's label)"] = f1(gold, [r["label"] for r in default.predict(texts, titles=titles)])
    metrics = {shape: json.loads((runs / f"{outlet}-{shape}" / "metrics.json").read_text())
               for shape in ("l4-f1", "l12-f10")}
    rows["TF-IDF (same 4,000 training articles)"] = round(metrics["l4-f1"]["baseline"]["test"]["macro_f1"], 4)
    rows["dev macro-F1 (student, 12-layer)"] = [round(m["dev"]["macro_f1"], 4) for m in metrics.values()]
    result["outlets"][outlet] = rows
    print(outlet, json.dumps(rows), flush=True)
out.write_text(json.dumps(result, indent=1) + "\n")
