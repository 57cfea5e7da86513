"""The model shipped in model/default: light, rebuilt offline on the e5-small base, and it classifies real
articles (the ANT sample in tests/data; many of them were in its training split, so this checks that the
shipped artefact works, not how accurate it is: docs/default-model.md has that)."""
import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from model import TopicClassifier, default_model_dir, predict
from training.corpus import read_corpus
from training.hygiene import LabelMapping

from .conftest import DATA, LOAD_REPORT, stderr_of_python


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARABIC_TOPICS_CACHE", str(tmp_path_factory.mktemp("cache")))  # a fresh base build
        mp.delenv("ARABIC_TOPICS_MODEL", raising=False)
        yield default_model_dir(), TopicClassifier.from_pretrained(default_model_dir())


def test_the_shipped_model_is_light_and_names_its_base(shipped):
    directory, clf = shipped
    assert (directory / "delta.json").is_file() and not (directory / "model.safetensors").exists()
    # the three deltas (student 11 MB, teacher 7 MB, title model 29 MB) against 470 MB for one full checkpoint
    assert sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) < 50_000_000
    assert clf.labels == ["culture", "diplomacy", "economy", "politics", "security", "sports", "technology"]
    assert clf.settings.multi_label and set(clf.settings.thresholds) == set(clf.labels)
    assert clf.settings.display_names["politics"] == "سياسة" and clf.settings.display_names["security"] == "أمن"


def test_the_shipped_model_classifies_real_articles(shipped):
    """Its `label` is always one of the five topics (security and diplomacy are facets, in `labels` only)."""
    _, clf = shipped
    data = LabelMapping.from_yaml("training/recipes/topics.yaml").apply(read_corpus(DATA / "ant"))
    results = clf.predict(list(data["text"]), titles=list(data["title"]))
    assert {r["label"] for r in results} <= {"politics", "economy", "sports", "culture", "technology"}
    correct = sum(r["label"] == gold for r, gold in zip(results, data["label"]))
    assert correct / len(data) >= 0.8, [(r["label"], g) for r, g in zip(results, data["label"])]


def test_an_article_scores_the_same_whatever_shares_its_batch(shipped):
    """On the shipped backend (onnx-int8, activations quantised dynamically): alone, in a batch, in another
    order, with texts of other lengths beside it, within 1e-4."""
    _, clf = shipped
    data = read_corpus(DATA / "ant")
    texts, titles = list(data["text"][:12]) + ["خبر عن مباراة كرة القدم"], list(data["title"][:12]) + [None]
    together = clf.predict_proba(texts, titles)
    alone = np.stack([clf.predict_proba([t], [h])[0] for t, h in zip(texts, titles)])
    reversed_ = clf.predict_proba(texts[::-1], titles[::-1])[::-1]
    small_batches = clf.predict_proba(texts, titles, batch_size=3)
    for other in (alone, reversed_, small_batches):
        assert np.abs(other - together).max() <= 1e-4


def test_predict_without_a_model_uses_the_shipped_one(shipped, monkeypatch):
    _, clf = shipped
    monkeypatch.delenv("ARABIC_TOPICS_MODEL", raising=False)
    text = "التقى وزير الخارجية نظيره الفرنسي لبحث الأزمة السياسية وتشكيل الحكومة الجديدة"
    assert predict(text)["label"] == clf.predict(text)[0]["label"] == "politics"


def test_the_shipped_model_says_all_that_an_article_is_about(shipped):
    """The 40 annotated sample articles: politics, security and diplomacy, each decided on its own."""
    _, clf = shipped
    rows = [json.loads(line) for line in (DATA / "psd.jsonl").read_text().splitlines()]
    annotated = {r["id"]: r for r in map(json.loads, (DATA / "psd-labels.jsonl").read_text().splitlines())}
    results = clf.predict([r["text"] for r in rows], titles=[r["title"] for r in rows])
    labels = ["politics", "security", "diplomacy"]
    gold = np.array([[annotated[r["id"]][lab] for lab in labels] for r in rows])
    predicted = np.array([[lab in result["labels"] for lab in labels] for result in results])
    assert gold.sum(1).max() > 1 and predicted.sum(1).max() > 1  # several labels per article, both sides
    assert f1_score(gold, predicted, average="micro") >= 0.75


def test_the_shipped_model_loads_quietly_as_the_default(shipped):
    """Its delta rebuilds the classifier on a base without one: transformers must not report that as missing."""
    _, clf = shipped
    err = stderr_of_python(f"""
from model import TopicClassifier, predict
assert TopicClassifier.from_pretrained(None).labels == {clf.labels!r}
assert predict("التقى وزير الخارجية نظيره الفرنسي لبحث الأزمة السياسية")["label"] == "politics"
""")
    assert not [word for word in LOAD_REPORT if word in err], err


def test_the_shipped_model_is_the_fast_student_run_by_onnx_runtime(shipped):
    """4 layers, one 120-token window, int8 weights under ONNX Runtime, exported once into the user cache."""
    directory, clf = shipped
    assert clf.backend == "onnx-int8" and clf.model is None
    assert json.loads((directory / "config.json").read_text())["num_hidden_layers"] == 4
    assert (clf.settings.max_length, clf.settings.max_windows) == (120, 1)


def test_the_teacher_ships_beside_it_and_agrees(shipped):
    directory, clf = shipped
    teacher = TopicClassifier.from_pretrained(directory / "teacher", backend="fp32")
    assert teacher.labels == clf.labels
    assert json.loads((directory / "teacher" / "config.json").read_text())["num_hidden_layers"] == 12
    text = "التقى وزير الخارجية نظيره الفرنسي لبحث الأزمة السياسية وتشكيل الحكومة الجديدة"
    assert teacher.predict(text)[0]["label"] == clf.predict(text)[0]["label"] == "politics"


@pytest.mark.parametrize("part", [".", "teacher", "titles"])
def test_the_shipped_training_configs_state_the_reading_they_ship(shipped, part):
    """Each committed training_config.yaml states how its model reads: the window (`read_length`, else the
    length trained at), the windows per article and how they combine, and the backend where one is pinned."""
    from training.config import parse_args

    folder = shipped[0] / part
    config = parse_args(["--config", str(folder / "training_config.yaml")])
    reads = json.loads((folder / "topic_config.json").read_text(encoding="utf-8"))
    assert (config.read_length or config.max_length) == reads["max_length"]
    assert (config.max_windows, config.window_overlap, config.aggregate, config.title_in_every_window) == \
        (reads["max_windows"], reads["window_overlap"], reads["aggregate"], reads["title_in_every_window"])
    assert (config.backend or "") == reads.get("backend", "")


def test_the_recipes_rebuild_the_shipped_settings(shipped):
    """train-fast.sh lays training/recipes/fast-reading.json over the student's settings, and trains the title
    model with training/recipes/titles.yaml: both say what ships."""
    import yaml

    reads = json.loads((shipped[0] / "topic_config.json").read_text(encoding="utf-8"))
    laid = json.loads(open("training/recipes/fast-reading.json", encoding="utf-8").read())
    assert {key: reads.get(key) for key in laid} == laid
    recipe = yaml.safe_load(open("training/recipes/titles.yaml", encoding="utf-8"))
    trained = yaml.safe_load((shipped[0] / "titles" / "training_config.yaml").read_text(encoding="utf-8"))
    assert {key: trained[key] for key in recipe if key != "output_dir"} == \
        {key: value for key, value in recipe.items() if key != "output_dir"}


@pytest.mark.parametrize("card", ["README.md", "teacher/README.md"])
def test_the_shipped_cards_instructions_run_from_another_directory(shipped, card, tmp_path):
    import re
    import subprocess
    import sys

    directory, _ = shipped
    blocks = re.findall(r"```python\n(.*?)```", (directory / card).read_text(encoding="utf-8"), re.S)
    assert blocks
    for code in blocks:
        # the module's fresh cache (the fixture's ARABIC_TOPICS_CACHE) is inherited
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
