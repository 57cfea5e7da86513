"""Probe (2026-11-29): logistic regression per label on the head features of trained models, 400 annotated
articles outside training/recipes/psd-test-ids.txt -> the 200 test ids. Output: probes.txt beside this file."""
import numpy as np, json, dataclasses, time
from sklearn.metrics import f1_score
from model import TopicClassifier
from eval.few_shot import annotated_articles
from training.add_label import fit_label
from training.partial_labels import read_annotations, read_ids
import transformers; transformers.logging.set_verbosity_error()
D="../shared/datasets/"
ann=D+"ant-politics-security-diplomacy/labels.jsonl"
arts, _ = annotated_articles(D+"ant-multisource-v2.1", ann, "politics")
A=read_annotations(ann); test=set(read_ids("training/recipes/psd-test-ids.txt"))
ist=np.array([i in test for i in arts["id"]])
Y={l: np.array([A[i][l] for i in arts["id"]]) for l in ("politics","security","diplomacy")}
texts, titles = list(arts["text"]), list(arts["title"])
for m in ("runs/multi-label","runs/default"):
  for w in (1,4):
    t=time.time()
    c=TopicClassifier.from_pretrained(m); c.settings.max_windows=w; c.settings.aggregate="mean"
    F=c.head_features(texts,titles)
    res={}
    for l,y in Y.items():
        wts,b=fit_label(F[~ist],y[~ist]); res[l]=f1_score(y[ist],F[ist]@wts+b>=0)
    line=f"{m} windows={w} LR-on-head-features: "+" ".join(f"{k} {v:.3f}" for k,v in res.items())+f" macro {np.mean(list(res.values())):.3f}"
    if m=="runs/multi-label":
        P=c.predict_proba(texts,titles); th=c.settings.thresholds
        r2={l: f1_score(Y[l][ist], P[ist, c.labels.index(l)]>=th[l]) for l in Y}
        line+=" | model itself: "+" ".join(f"{k} {v:.3f}" for k,v in r2.items())+f" macro {np.mean(list(r2.values())):.3f}"
    print(line, f"({time.time()-t:.0f}s)", flush=True)
