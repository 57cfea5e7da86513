"""The shipped models on a corpus none of them was trained on: ANT JawharaFM (one Tunisian outlet, 2014-2017,
median 90 words against ANT multi-source's 207), its topical sections mapped onto the 5 topics by
training/recipes/jawhara-topics.yaml (politic and internationalNews -> politics; localNews, society and diverse
dropped), every remaining article with a body scored, duplicates kept. Each model is read as every documented topic figure
reads it (TopicView, residual politics), beside TF-IDF char 2-5-grams + LinearSVC trained on that model's own
training articles with the topical labels. Nothing here is tuned: the models and their readings are the shipped
ones.

With --titles each article is its title alone (another text shape: headlines, median 19 tokens), read by the
models and the baselines (trained on whole articles as before) alike; the articles without a title are left out.

    python docs/reports/cross-corpus/jawhara.py [--titles] ANT_CORPUS JAWHARA_CORPUS OUT.json MODEL [MODEL ...]
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "fast"))

from eval.evaluate import score  # noqa: E402
from model.tfidf import TfidfBaseline, baseline_texts  # noqa: E402
from topic_split import RECIPES, documented_topic_split  # noqa: E402
from training.corpus import read_corpus  # noqa: E402
from training.hygiene import LabelMapping  # noqa: E402

titles_only = "--titles" in sys.argv
ant, jawhara, out, *models = [a for a in sys.argv[1:] if a != "--titles"]
mapped = LabelMapping.from_yaml(RECIPES / "jawhara-topics.yaml").apply(read_corpus(jawhara))
test = mapped.filter(lambda r: r["text"].strip() != "")  # a few files have a title and no body
if titles_only:
    test = test.filter(lambda r: (r["title"] or "").strip() != "")
    test = test.remove_columns("text").add_column("text", list(test["title"])) \
        .remove_columns("title").add_column("title", [""] * len(test))
result = {"test": jawhara, "reading": "titles only" if titles_only else "title and body", "articles": len(test),
          "left_out": len(mapped) - len(test),
          "per_label_articles": {lab: list(test["label"]).count(lab) for lab in sorted(set(test["label"]))},
          "models": {}}
for model_dir in models:
    started = time.time()
    parts, config, view = documented_topic_split(model_dir, ant)
    scored = {"model": score(view, test)[0]}
    model_seconds = time.time() - started
    tfidf = TfidfBaseline().fit(baseline_texts(parts["train"]), list(parts["train"]["label"]))
    assert tfidf.labels == view.labels
    scored["tfidf"] = score(tfidf, test)[0]
    row = {"training_articles": len(parts["train"]), "model_seconds": round(model_seconds)}
    for name, metrics in scored.items():  # evaluate's scores, as every report of `arabic-topics evaluate`
        row[name] = {"macro_f1": round(metrics["macro_f1"], 4), "accuracy": round(metrics["accuracy"], 4),
                     "f1": {lab: round(per["f1"], 3) for lab, per in metrics["per_label"].items()}}
    row["difference_points"] = round(100 * (row["model"]["macro_f1"] - row["tfidf"]["macro_f1"]), 2)
    result["models"][model_dir] = row
    print(json.dumps({model_dir: row}), flush=True)
Path(out).write_text(json.dumps(result, indent=1) + "\n")
