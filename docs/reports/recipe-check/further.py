"""Saved long-article models on articles that none of their splits held: the transformer alone, the model as
saved (the TF-IDF blend where training adopted it), and TF-IDF char 2-5-grams + LinearSVC trained on the
same training articles; macro-F1 on every article of FURTHER. A figure measured on 600 test articles moves
by a point with a few articles; this one says whether it holds elsewhere.

    python docs/reports/recipe-check/further.py runs/recipe-check/data/ant-long-6000.jsonl \
        runs/recipe-check/data/ant-long-eval-1200.jsonl docs/reports/recipe-check/further-ant-long.json \
        runs/rc/ant-long [MODEL ...]
"""
import json
import sys

from sklearn.metrics import f1_score

from eval.protocols import _model_splits
from model import TopicClassifier
from model.tfidf import TfidfBaseline, baseline_texts, fuse, texts_with_titles
from training.corpus import read_corpus

data, further, out, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
articles = read_corpus(further)
texts, titles, gold = list(articles["text"]), list(articles["title"]), list(articles["label"])
result = {"data": data, "further": further, "articles": len(gold), "models": {}}


def macro_f1(predicted) -> float:
    return round(f1_score(gold, predicted, average="macro"), 4)


for model_dir in models:
    splits, config = _model_splits(model_dir, data)
    train_ids = set(splits["train"]["id"]) | set(splits["dev"]["id"]) | set(splits["test"]["id"])
    assert not train_ids & set(articles["id"]), "FURTHER must hold articles outside the model's splits"
    classifier = TopicClassifier.from_pretrained(model_dir)
    tfidf, classifier.tfidf = classifier.tfidf, None  # the fine-tuned encoder alone
    alone = classifier._logits(texts, titles, 32)[0]
    # as saved: the same logits blended as predict blends them (model/classifier.py _logits), not read twice
    saved = alone if tfidf is None else fuse(alone, tfidf.decision_function(texts_with_titles(texts, titles)),
                                             classifier.settings.fusion, classifier.settings.multi_label)
    baseline = TfidfBaseline().fit(baseline_texts(splits["train"]), list(splits["train"]["label"]))
    labels = classifier.labels
    alone_predicted = [labels[j] for j in alone.argmax(1)]
    baseline_predicted = baseline.predict(baseline_texts(articles))
    row = {"recipe": {k: getattr(config, k) for k in ("freeze_layers", "epochs", "max_length", "learning_rate")},
           "transformer_alone": macro_f1(alone_predicted),
           "as_saved": macro_f1([labels[j] for j in saved.argmax(1)]), "blend_adopted": tfidf is not None,
           "tfidf": macro_f1(baseline_predicted)}
    row["per_label"] = {name: {"transformer_alone": round(a, 4), "tfidf": round(t, 4)} for name, a, t in zip(
        labels, f1_score(gold, alone_predicted, labels=labels, average=None),
        f1_score(gold, baseline_predicted, labels=labels, average=None))}
    row["alone_minus_tfidf"] = round(100 * (row["transformer_alone"] - row["tfidf"]), 2)
    row["saved_minus_tfidf"] = round(100 * (row["as_saved"] - row["tfidf"]), 2)
    result["models"][model_dir] = row
    print(model_dir, row, flush=True)
open(out, "w").write(json.dumps(result, indent=1) + "\n")
