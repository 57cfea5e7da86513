"""Explanations (model/explain.py): Arabic sentence splitting, effects that are the probability differences they
claim to be, bounded cost on a huge text, `predict --explain`, and bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest

from model import TopicClassifier, UserError
from model.scores import probabilities
from model.explain import split_sentences
from training.corpus import read_corpus

from .conftest import DATA


def pieces(text):
    return [text[start:end] for start, end in split_sentences(text)]


def test_sentences_split_on_arabic_and_latin_punctuation_and_line_breaks():
    text = ("أعلن الوزير أن الحكومة ستخفض الضرائب، وقال إن ذلك سيبدأ قريبا؛ فهل ينجح الإصلاح هذا العام؟ "
            "ارتفع النمو إلى 3.5 في المئة. يا له من عام حافل بالأحداث!\nوفي سطر جديد يبدأ خبر آخر تماما")
    assert pieces(text) == ["أعلن الوزير أن الحكومة ستخفض الضرائب،", "وقال إن ذلك سيبدأ قريبا؛",
                            "فهل ينجح الإصلاح هذا العام؟", "ارتفع النمو إلى 3.5 في المئة.",
                            "يا له من عام حافل بالأحداث!", "وفي سطر جديد يبدأ خبر آخر تماما"]


def test_short_pieces_join_the_next_sentence():
    assert pieces("قال، إن الاجتماع انتهى دون اتفاق. نعم") == ["قال، إن الاجتماع انتهى دون اتفاق. نعم"]
    assert pieces("   \n  ") == []


@pytest.fixture(scope="module")
def classifier(trained):
    return TopicClassifier.from_pretrained(trained, backend="fp32")


@pytest.fixture(scope="module")
def article():
    data = read_corpus(DATA / "ant")
    return next(t for t in data["text"] if len(split_sentences(t)) >= 4)


def test_an_effect_is_the_probability_with_the_sentence_minus_without(classifier, article):
    label = classifier.labels[0]
    result = classifier.explain(article, labels=[label], top_n=100)
    items = result["explanations"][label]
    assert len(items) == result["sentences_scored"] == result["sentences_read"] <= len(split_sentences(article))
    column = classifier.labels.index(label)
    with_it = classifier.predict_proba([article])[0, column]
    for item in items:
        without = classifier.predict_proba([article[: item["start"]] + " " + article[item["end"]:]])[0, column]
        assert item["effect"] == pytest.approx(with_it - without, abs=1e-5)
        assert item["sentence"] == article[item["start"]: item["end"]]
    effects = [item["effect"] for item in items]
    assert effects == sorted(effects, reverse=True)
    # the article's own prediction, read in the same pass as its variants, is predict's
    alone = classifier.predict(article)[0]
    assert result["labels"] == alone["labels"] and result["warnings"] == alone["warnings"]
    assert result["scores"] == pytest.approx(alone["scores"], abs=1e-5)


def test_by_default_each_returned_label_gets_top_n_sentences(classifier, article):
    result = classifier.explain(article, top_n=2)
    assert list(result["explanations"]) == result["labels"]
    assert all(len(items) == 2 for items in result["explanations"].values())


def test_an_article_of_one_sentence_is_explained_by_it(classifier):
    text = "مقال قصير من جملة واحدة عن الاقتصاد والأسواق المالية"
    result = classifier.explain(text, top_n=5)
    label = result["labels"][0]
    (item,) = result["explanations"][label]
    column = classifier.labels.index(label)
    # without its only sentence the article is blank: the model reads the prefix alone
    without = probabilities(classifier.logits([" "]), classifier.settings.multi_label)[0, column]
    with_it = classifier.predict_proba([text])[0, column]
    assert item["sentence"] == text and item["effect"] == pytest.approx(with_it - without, abs=1e-5)


def test_a_huge_text_scores_at_most_max_sentences_and_says_so(classifier):
    huge = "هذه جملة عن الاقتصاد والأسواق المالية. " * 130_000  # about 5 MB
    result = classifier.explain(huge, max_sentences=3)
    assert result["sentences_scored"] == 3 < result["sentences_read"] and result["text_beyond_read"]
    assert "3 sentence(s) scored" in result["note"] and "after the part read" in result["note"]
    assert result["read_chars"] < classifier.read_limit()  # the part read, not the part tokenised


def test_only_the_sentences_the_model_reads_are_scored(classifier):
    """An article longer than the windows: every scored sentence changes the windows when removed, the first
    sentence after them does not, and the note names the part read."""
    sentences = [f"هذه الجملة رقم {n} عن الاقتصاد والأسواق المالية في البلاد." for n in range(200)]
    text = " ".join(sentences)
    result = classifier.explain(text, max_sentences=200)
    read, end = result["sentences_read"], result["read_chars"]
    assert 0 < read < len(sentences) and result["sentences_scored"] == read and result["text_beyond_read"]
    windows = classifier.windows(text)
    last_read = text.rindex(sentences[read - 1])
    assert classifier.windows(text[:last_read] + " " + text[end:]) != windows  # the last one scored is read
    after = text.index(sentences[read], end)
    assert classifier.windows(text[:after] + " " + text[after + len(sentences[read]):]) == windows  # the next is not
    assert f"the first {read} sentence(s), characters 0-{end} of {len(text)}" in result["note"]
    assert f"{classifier.settings.max_windows} window(s) of {classifier.settings.max_length} tokens" in result["note"]


def test_bad_input_to_explain_is_a_user_error(classifier, article):
    for bad, match in ((None, "NoneType"), ("   ", "empty text")):
        with pytest.raises(UserError, match=match):
            classifier.explain(bad)
    with pytest.raises(UserError, match="unknown label"):
        classifier.explain(article, labels=["weather"])
    with pytest.raises(UserError, match="at least 1"):
        classifier.explain(article, top_n=0)


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "arabic_topics", *map(str, args)], capture_output=True, text=True,
                          input=stdin)


def test_predict_explain_json_has_a_list_per_label(trained, article, tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(article, encoding="utf-8")
    done = cli("predict", "--model", trained, "--explain", "--json", "--top-n", "2", path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["explanations"]) == set(result["labels"]) and result["sentences_scored"] >= 4
    for items in result["explanations"].values():
        assert len(items) == 2 and all(set(item) == {"sentence", "start", "end", "effect"} for item in items)
    shown = cli("predict", "--model", trained, "--explain", path)
    assert shown.returncode == 0 and "because of:" in shown.stdout and "sentence(s) scored" in shown.stdout


def test_predict_explain_bad_input_is_one_line(trained, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    for args in (["--explain", empty], ["--explain", "--top-n", "0", empty],
                 ["--explain", empty, "--out", tmp_path / "o.jsonl"]):
        done = cli("predict", "--model", trained, *args)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert np.all([line.startswith("arabic-topics: error:") for line in done.stderr.splitlines()])
