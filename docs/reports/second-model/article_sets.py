"""The three article sets the handover reports of this folder score (handover.py, handover_windows.py): the fast
default's dev split (where their choices are made), the 12-layer model's ANT test split without the 200 fixed
annotated ids (its 2,984 random-split articles), and JawharaFM (a corpus neither model saw), each labelled with
the 5 topics; a model's topic scores over one of them, saved for the next run; and the macro-F1 of `label`
over them."""
from pathlib import Path

import numpy as np

from eval.protocols import topic_parts
from training.corpus import read_corpus
from training.hygiene import LabelMapping
from training.metrics import single_label_scores
from training.partial_labels import first_copies, read_ids

RECIPES = Path("training/recipes")


def article_sets(ant: str, jawhara: str) -> dict:
    dev = topic_parts("model/default", ant, RECIPES / "topics.yaml")[0]["dev"]
    psd_ids = set(read_ids(RECIPES / "psd-test-ids.txt"))
    test = first_copies(LabelMapping.from_yaml(RECIPES / "topics.yaml").apply(read_corpus(ant)),
                        set(read_ids(RECIPES / "teacher-test-ids.txt"))).filter(lambda r: r["id"] not in psd_ids)
    jawhara_rows = LabelMapping.from_yaml(RECIPES / "jawhara-topics.yaml").apply(read_corpus(jawhara)) \
        .filter(lambda r: r["text"].strip() != "")
    return {"ANT dev (chosen here)": dev, "ANT test": test, "JawharaFM articles": jawhara_rows}


def topic_scores(clf, part, file: Path | None, label: str) -> np.ndarray:
    """`clf`'s topic scores (as it is set now) over every row of `part`; with `file` (.npy), read back where an
    earlier run saved them, else saved there."""
    if file is not None and file.is_file():
        return np.load(file)
    rows = clf.topic_proba(clf.predict_proba(list(part["text"]), list(part["title"])))
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.save(file, rows)
    print(label, "read", flush=True)
    return rows


def topic_f1(part, rows, topics: list[str]) -> float:
    """Macro-F1 of the best topic of each row of topic scores (columns: topics) against the part's labels."""
    return round(single_label_scores(list(part["label"]), [topics[i] for i in rows.argmax(1)])["macro_f1"], 4)
