from collections import Counter

import pytest
from datasets import Dataset

from model import UserError
from training.corpus import read_corpus
from training.hygiene import LabelMapping, body_key, clean, format_report, random_split, source_split

from .conftest import DATA


@pytest.fixture(scope="module")
def ant():
    return read_corpus(DATA / "ant")


def test_cross_label_duplicates_are_found_and_reported(ant):
    cleaned, report = clean(ant)
    assert report["duplicate_groups"] == 1 and report["duplicates_removed"] == 1
    assert report["conflicting_label_groups"] == 1
    (group,) = report["conflicting_examples"]
    assert len(group["ids"]) == 2 and len(group["labels"]) == 2
    assert len(cleaned) == len(ant) - 1
    assert group["ids"][0] in cleaned["id"] and group["ids"][1] not in cleaned["id"]
    assert "1 duplicate groups carried conflicting labels" in format_report(report)


def test_conflicting_groups_can_be_dropped_entirely(ant):
    cleaned, report = clean(ant, conflicts="drop")
    assert len(cleaned) == len(ant) - 2
    assert not set(report["conflicting_examples"][0]["ids"]) & set(cleaned["id"])


def test_duplicates_are_found_after_normalisation():
    data = Dataset.from_list([
        {"id": "a", "text": "وزير الدفاع الأمريكي", "title": "", "label": "x", "source": "s"},
        {"id": "b", "text": "وزيـر  الدِّفاع الامريكي", "title": "", "label": "x", "source": "s"},
        {"id": "c", "text": "   ", "title": "", "label": "x", "source": "s"},
    ])
    cleaned, report = clean(data)
    assert cleaned["id"] == ["a"]
    assert report["empty_removed"] == 1 and report["empty_ids"] == ["c"] and report["duplicates_removed"] == 1
    assert body_key("مُحَمَّد") == body_key("محمد")


def test_label_mapping_renames_merges_drops(tmp_path, ant):
    path = tmp_path / "map.yaml"
    path.write_text("labels:\n  internationalNews: world\n  middleEast: world\n  sport: sports\n"
                    "drop: [culture]\nunmapped: keep\ndisplay_names:\n  world: العالم\n", encoding="utf-8")
    mapping = LabelMapping.from_yaml(path)
    mapped = mapping.apply(ant)
    counts, before = Counter(mapped["label"]), Counter(ant["label"])
    assert "culture" not in counts and "internationalNews" not in counts
    assert counts["world"] == before["internationalNews"] + before["middleEast"]
    assert counts["sports"] == before["sport"] and counts["economy"] == before["economy"]
    assert len(mapped) == len(ant) - before["culture"]
    assert mapping.display_names == {"world": "العالم"}


def test_label_mapping_unmapped_policies(ant):
    kept = LabelMapping({"sport": "sports"}, unmapped="drop").apply(ant)
    assert set(kept["label"]) == {"sports"}
    with pytest.raises(UserError, match="'culture' is neither mapped nor dropped"):
        LabelMapping({"sport": "sports"}, unmapped="error").apply(ant)


def test_label_mapping_on_multi_label():
    data = Dataset.from_list([{"id": "a", "text": "t", "title": "", "label": ["politic", "society"], "source": ""},
                              {"id": "b", "text": "u", "title": "", "label": ["diverse"], "source": ""}])
    mapped = LabelMapping({"politic": "politics"}, drop=["diverse"]).apply(data)
    assert mapped["label"] == [["politics", "society"]]


def test_bad_mapping_file(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("lables: {a: b}\n")
    with pytest.raises(UserError, match="unknown label-mapping keys: lables"):
        LabelMapping.from_yaml(path)


def test_random_split_is_stratified_disjoint_and_seeded():
    data = read_corpus(DATA / "jawhara").filter(lambda r: r["label"] in ("sport", "economy"))
    data = Dataset.from_list([dict(r, id=f"{r['id']}-{k}") for k in range(10) for r in data])  # 40 articles
    first = random_split(data, 0.25, 0.25, seed=1)
    again = random_split(data, 0.25, 0.25, seed=1)
    other = random_split(data, 0.25, 0.25, seed=2)
    assert first["test"]["id"] == again["test"]["id"] and first["test"]["id"] != other["test"]["id"]
    ids = [set(first[s]["id"]) for s in ("train", "dev", "test")]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert sum(map(len, ids)) == 40
    assert Counter(first["test"]["label"]) == {"sport": 5, "economy": 5}


def test_random_split_adds_fixed_test_ids_and_keeps_the_rest_unchanged():
    data = read_corpus(DATA / "jawhara").filter(lambda r: r["label"] in ("sport", "economy"))
    data = Dataset.from_list([dict(r, id=f"{r['id']}-{k}") for k in range(10) for r in data])  # 40 articles
    fixed = list(data["id"][:4])
    plain = random_split(data, 0.25, 0.25, seed=1)
    with_ids = random_split(data, 0.25, 0.25, seed=1, test_ids=fixed)
    assert set(fixed) <= set(with_ids["test"]["id"])
    assert not set(fixed) & (set(with_ids["train"]["id"]) | set(with_ids["dev"]["id"]))
    assert sum(len(with_ids[s]) for s in ("train", "dev", "test")) == 40
    assert random_split(data, 0.25, 0.25, seed=1, test_ids=[])["test"]["id"] == plain["test"]["id"]
    with pytest.raises(UserError, match="1 of the 1 test ids are not in the corpus"):
        random_split(data, 0.25, 0.25, seed=1, test_ids=["no-such-article"])


def test_source_split_holds_out_outlets(ant):
    splits = source_split(ant, ["bbc", "CNN"], dev_size=0.2)
    assert {s.lower() for s in splits["test"]["source"]} == {"bbc", "cnn"}
    assert not {s.lower() for s in list(splits["train"]["source"]) + list(splits["dev"]["source"])} & {"bbc", "cnn"}
    assert len(splits["train"]) + len(splits["dev"]) + len(splits["test"]) == len(ant)
    with pytest.raises(UserError, match="test sources not in the corpus: reuters"):
        source_split(ant, ["Reuters"])
