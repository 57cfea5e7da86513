"""Does reading further help on long articles? One saved model, its dev and test articles each read in up to 4
windows (the title leading each), scored once; macro-F1 of the mean of the first k windows' logits, k = 1..4.

    python docs/reports/recipe-check/windows.py runs/rc/ant-long runs/recipe-check/data/ant-long-6000.jsonl \
        docs/reports/recipe-check/windows-ant-long.json
"""
import json
import sys
import time

from eval.protocols import _model_splits, _reading_scorer, window_scores
from model import TopicClassifier
from model.scores import aggregate_windows

model_dir, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
splits, _ = _model_splits(model_dir, data)
classifier = TopicClassifier.from_pretrained(model_dir)
classifier.settings.max_windows = 4
result = {"model": model_dir, "data": data, "window_tokens": classifier.settings.max_length,
          "backend": classifier.backend}
for part in ("dev", "test"):
    dataset = splits[part]
    started = time.perf_counter()
    scores, owner, rank = window_scores(classifier, list(dataset["text"]), list(dataset["title"]))
    seconds = time.perf_counter() - started
    macro_f1 = _reading_scorer(classifier, dataset)
    result[part] = {"articles": len(dataset), "windows": len(owner), "seconds": round(seconds, 1),
                    "macro_f1_by_windows": {k: round(macro_f1(aggregate_windows(scores[rank < k], owner[rank < k],
                                                                                len(dataset), "mean")), 4)
                                            for k in (1, 2, 3, 4)}}
    print(part, result[part], flush=True)
open(out, "w").write(json.dumps(result, indent=1) + "\n")
