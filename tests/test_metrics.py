"""The single-label scores every part of the package reports (training's dev and test, evaluate, the benchmark)."""
import pytest
from sklearn.metrics import f1_score

from training.metrics import single_label_scores


def test_macro_f1_averages_the_gold_labels_even_when_an_absent_label_is_predicted():
    # an outlet without a culture section: one article read as culture costs economy its recall, but culture
    # itself is not averaged in (sklearn's default would average it in at F1 0 and drop the figure by a quarter)
    gold = ["economy", "economy", "politics", "politics", "sports", "sports", "technology", "technology"]
    predicted = ["economy", "culture", "politics", "politics", "sports", "sports", "technology", "economy"]
    scores = single_label_scores(gold, predicted)
    over_gold = f1_score(gold, predicted, labels=["economy", "politics", "sports", "technology"], average="macro")
    assert scores["macro_f1"] == pytest.approx(over_gold)
    assert scores["macro_f1"] > f1_score(gold, predicted, average="macro", zero_division=0)
    # whether the absent label is predicted or not, the same four labels are averaged
    without = single_label_scores(gold, ["economy", "politics"] + predicted[2:])
    assert without["macro_f1"] == pytest.approx(
        f1_score(gold, ["economy", "politics"] + predicted[2:], labels=sorted(set(gold)), average="macro"))
    assert scores["accuracy"] == pytest.approx(6 / 8)
