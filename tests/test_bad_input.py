"""Bad and odd input to predict (docs/guarantees.md): errors per item, warnings for odd text, and
properties that hold for arbitrary Unicode (hypothesis)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import NormalizerConfig, TopicClassifier, UserError, normalize
from model.inputs import input_error

ARABIC = "أعلنت وزارة الاقتصاد عن خطة جديدة لدعم الصادرات"
RESULT_KEYS = {"label", "score", "labels", "scores", "low_confidence", "warnings"}


@pytest.fixture(scope="module")
def clf(trained):
    return TopicClassifier.from_pretrained(trained)


def test_each_bad_item_gets_its_own_error_and_the_others_their_results(clf):
    items = [ARABIC, None, b"\xd8\xa7", "", "  \n\t", 5, "The central bank raised rates.",
             f"{ARABIC} Reuters reported on Monday that the ministry said", "a\ud800b"]
    results = clf.predict(items)
    assert len(results) == len(items)
    assert results[1] == {"error": "NoneType, not text"}
    assert results[2] == {"error": "bytes, not text: decode it first (e.g. data.decode('utf-8'))"}
    assert results[3] == results[4] == {"error": "empty text"}
    assert results[5] == {"error": "int, not text"}
    assert results[8] == {"error": "not valid Unicode (unpaired surrogate at position 1)"}
    for i in (0, 6, 7):
        assert set(results[i]) == RESULT_KEYS
    assert results[0]["warnings"] == []
    assert results[6]["warnings"] == ["no Arabic letters: the model was trained on Arabic news"]
    assert results[7]["warnings"][0].startswith("mostly non-Arabic text")
    alone = clf.predict([ARABIC])[0]
    assert alone == results[0]  # its neighbours changed nothing


def test_a_huge_text_is_read_in_bounded_windows_and_says_so(clf):
    huge = (ARABIC + " ") * 120_000  # ~5.6 MB
    assert len(huge.encode()) > 5_000_000
    assert len(clf.windows(huge)) == clf.settings.max_windows
    (result,) = clf.predict([huge])
    assert any(w.startswith("very long text (") for w in result["warnings"])


def test_a_news_length_text_beyond_the_windows_gets_no_warning(clf):
    """Articles run longer than the windows; only a text longer than any news article is worth a warning."""
    from model.classifier import LONG_TEXT_CHARS

    article = (ARABIC + " ") * (LONG_TEXT_CHARS // (len(ARABIC) + 1))
    assert len(article) <= LONG_TEXT_CHARS and len(clf.windows(article)) == clf.settings.max_windows
    assert clf._read(article, None)[1]  # it goes on beyond the windows
    assert clf.predict([article])[0]["warnings"] == []
    assert clf.predict([article + " " + ARABIC])[0]["warnings"] != []


def test_predict_proba_names_the_bad_item(clf):
    with pytest.raises(UserError, match="text 1: empty text"):
        clf.predict_proba([ARABIC, " "])
    with pytest.raises(UserError, match="a string or a list of strings"):
        clf.predict(42)


CONFIGS = st.builds(NormalizerConfig, **{name: st.booleans() for name in NormalizerConfig.__dataclass_fields__})


@given(text=st.text(), config=CONFIGS)
@settings(max_examples=300, deadline=None)
def test_normalisation_never_raises_and_is_idempotent(text, config):
    once = normalize(text, config)
    assert normalize(once, config) == once


@given(text=st.text(alphabet=st.sampled_from(list("&;<>/ab#x0123456789 \n\tampltgإأىـًّ٣")), max_size=60))
@settings(max_examples=300, deadline=None)
def test_normalisation_is_idempotent_on_markup_and_arabic(text):
    once = normalize(text)
    assert normalize(once) == once


@given(items=st.lists(st.one_of(st.text(), st.text(alphabet="ابتثجحخدذرسشصضطظعغفقكلمنهوي "), st.none(),
                                st.binary(max_size=8), st.integers()), max_size=6))
@settings(max_examples=40, deadline=None)
def test_batch_predict_returns_one_entry_per_input_in_order(clf, items):
    results = clf.predict(items)
    assert len(results) == len(items)
    for item, result in zip(items, results):
        problem = input_error(item)
        if problem is None:
            assert set(result) == RESULT_KEYS and result["label"] in clf.labels
        else:
            assert result == {"error": problem}
