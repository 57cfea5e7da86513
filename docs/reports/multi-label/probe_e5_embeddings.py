"""Probe (2026-11-29): TF-IDF + balanced LinearSVC and the offline e5-small base (mean-pooled, "passage: ")
+ logistic regression per label, 400 annotated articles -> the 200 fixed test ids. Output: probes.txt."""
import numpy as np, time, torch
from sklearn.metrics import f1_score
from sklearn.linear_model import LogisticRegression
from eval.few_shot import annotated_articles, tfidf_f1
from eval.baseline import baseline_texts
from training.partial_labels import read_annotations, read_ids
from model.bases import resolve_base
from transformers import AutoModel, AutoTokenizer
import transformers; transformers.logging.set_verbosity_error()
D="../shared/datasets/"
ann=D+"ant-politics-security-diplomacy/labels.jsonl"
arts, _ = annotated_articles(D+"ant-multisource-v2.1", ann, "politics")
A=read_annotations(ann); test=set(read_ids("training/recipes/psd-test-ids.txt"))
ist=np.array([i in test for i in arts["id"]])
Y={l: np.array([A[i][l] for i in arts["id"]]) for l in ("politics","security","diplomacy")}
bt=baseline_texts(arts)
r={l: tfidf_f1([bt[i] for i in np.flatnonzero(~ist)], Y[l][~ist], [bt[i] for i in np.flatnonzero(ist)], Y[l][ist]) for l in Y}
print("tfidf (balanced svc)", {k: round(v,3) for k,v in r.items()}, np.mean(list(r.values())))
path,_=resolve_base("e5-small")
tok=AutoTokenizer.from_pretrained(path); m=AutoModel.from_pretrained(path).eval()
docs=["passage: "+(f"{t}\n{x}" if t else x) for x,t in zip(arts["text"],arts["title"])]
for L in (256,512):
    t0=time.time(); E=[]
    with torch.inference_mode(), torch.autocast("cpu",dtype=torch.bfloat16):
        for i in range(0,len(docs),16):
            b=tok(docs[i:i+16],truncation=True,max_length=L,padding=True,return_tensors="pt")
            h=m(**b).last_hidden_state.float(); mk=b["attention_mask"][...,None].float()
            E.append(((h*mk).sum(1)/mk.sum(1)))
    E=torch.nn.functional.normalize(torch.cat(E),dim=-1).numpy()
    for C in (1,10,100):
        res={l: f1_score(Y[l][ist], LogisticRegression(C=C,class_weight="balanced",max_iter=3000).fit(E[~ist],Y[l][~ist]).predict(E[ist])) for l in Y}
        print(f"e5 mean-pool L={L} C={C}", {k: round(v,3) for k,v in res.items()}, round(np.mean(list(res.values())),3), f"{time.time()-t0:.0f}s", flush=True)
