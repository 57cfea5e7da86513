"""Each rule of the recipe picker that docs/usage.md states, on the tiny BERT and the real ANT sample, each
test failing when its rule breaks: the time budget (the plan cut to fit, the wall clock held, the best
checkpoint saved), short texts trained deeper at a learning rate
following the layers trained, long articles cut to their lead and the top third's epochs before the top
sixth, class weights from 3:1, early stopping and its patience, the blend adopted on a gain
confirmed by cross-validation."""
import dataclasses
import functools
import json
import math
import time

import numpy as np
import pytest

from model import TopicClassifier
from training import fusion, recipe
from training.corpus import read_corpus
from training.train import build_model, train

from .conftest import DATA, tiny_config

BUDGET_S = 6.0
# What the run may take beyond --time-budget + 10 %: the first of the test's calls into the Trainer
OVERHEAD_S = 2.0


def test_the_budget_holds_and_the_best_checkpoint_is_saved(tiny_base, tmp_path):
    """1,000 epochs asked (minutes of training on the sample), a budget of 6 seconds given."""
    config = tiny_config(tiny_base, tmp_path / "m", epochs=1000, time_budget=BUDGET_S / 60, early_stopping_patience=0)
    started = time.monotonic()
    out = train(config)
    wall = time.monotonic() - started
    assert wall <= 1.1 * BUDGET_S + OVERHEAD_S
    run = json.loads((out / "metrics.json").read_text())
    clock = run["time"]
    assert clock["stopped_by_budget"] and run["training"]["steps"] < clock["planned_steps"]
    # metrics.json rounds the elapsed time to 0.1 s, so it may exceed the wall clock by up to 0.05 s
    assert clock["budget_seconds"] == BUDGET_S and 0 < clock["elapsed_seconds"] <= wall + 0.05
    # the model kept is the best one evaluated, not the last: its dev score is the best of the evaluations
    scores = [e["dev_macro_f1"] for e in run["evaluations"]]
    assert len(scores) >= 2 and run["dev"]["macro_f1"] == pytest.approx(max(scores))
    assert run["best_epoch"] == run["evaluations"][scores.index(max(scores))]["epoch"]
    assert not (out / "checkpoints").exists()
    texts = read_corpus(DATA / "jawhara")["text"][:3]
    assert len(TopicClassifier.from_pretrained(out).predict(texts)) == 3


@pytest.fixture(scope="module")
def picker(tiny_base, tmp_path_factory):
    """recipe.choose on a tiny 6-layer BERT (the tiny base's vocabulary and width), over the ANT sample's
    articles repeated to 2,280 training articles."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    base = tmp_path_factory.mktemp("six-layers")
    BertModel(BertConfig.from_pretrained(tiny_base, num_hidden_layers=6)).save_pretrained(base)
    AutoTokenizer.from_pretrained(tiny_base).save_pretrained(base)
    ant = read_corpus(DATA / "ant")
    texts, labels = list(ant["text"]) * 60, list(ant["label"]) * 60
    config = tiny_config(base, tmp_path_factory.mktemp("picker"), epochs=None, max_length=None,
                         learning_rate=None, batch_size=32)
    model, tokenizer, _, _ = build_model(config, sorted(set(labels)), multi_label=False)

    def choose(labels=labels, texts=texts, **settings):
        return recipe.choose(dataclasses.replace(config, **settings), labels, texts, len(texts) + 400, 200,
                             tokenizer, model, bf16=False, n_test=200)

    return choose


def test_the_recipe_cuts_its_plan_to_fit_the_budget_and_says_what_it_would_need(picker):
    """Layer timings vary between calls on shared cores (a tiny layer's by 10x), so each call is checked against
    its own estimates: a budget no plan fits gets every cut, in order, and the run is told; any budget gets
    the first plan, in order of preference, that fits it."""
    free_config, free = picker(time_budget=10_000.0)
    assert not free["budget"]["cut"] and free["budget"]["fits"] and free["budget"]["lines"] == []
    # the top third of the 6 layers trained; 2,500 steps are 35 epochs of 72 steps: 15; the encoder's 126 tokens
    assert (free_config.freeze_layers, free_config.epochs, free_config.max_length, free_config.max_train_samples) \
        == (4, 15, 126, None)
    assert free_config.learning_rate == 3e-4 and free["estimate_seconds"] > 0
    # 6 ms: every cut, down to its floor: the top sixth, 15 epochs to 3, 126 tokens to 94, 2,280 articles to 1,000
    floor_config, floor = picker(time_budget=0.0001)
    assert (floor_config.freeze_layers, floor_config.epochs, floor_config.max_length,
            floor_config.max_train_samples) == (5, recipe.MIN_EPOCHS, 94, recipe.MIN_TRAIN_SAMPLES)
    assert floor["chosen"]["max_train_samples"] == recipe.MIN_TRAIN_SAMPLES
    assert floor["budget"]["cut"] and not floor["budget"]["fits"] and floor["budget"]["needed_minutes"] >= 1
    shown = recipe.describe(floor)
    assert "would need about" in shown and "training stops in time to end within it" in shown
    # in between: the first plan that fits, its cuts in order (layers, epochs, the length, then articles)
    budget_s = 0.2 * free["estimate_seconds"]
    mid_config, mid = picker(time_budget=budget_s / 60)
    if mid["budget"]["fits"]:
        assert mid["estimate_seconds"] <= budget_s + 0.05  # (rounded to 0.1 s)
    else:
        assert mid_config.max_train_samples == recipe.MIN_TRAIN_SAMPLES
    if mid_config.epochs < free_config.epochs and mid_config.freeze_layers == 4:  # the top third's floor: 750 steps
        assert mid_config.epochs >= math.ceil(recipe.TOP_THIRD_MIN_STEPS / 72)
    if mid_config.max_length < free_config.max_length:
        assert mid_config.epochs == recipe.MIN_EPOCHS
    if mid_config.max_train_samples:
        assert mid_config.max_length == 94
    # a setting the user gave is never cut: the deadline holds the budget instead, and the run is told
    given_config, given = picker(time_budget=0.0001, freeze_layers=4, epochs=15.0, max_length=96,
                                 max_train_samples=10**6)
    assert (given_config.freeze_layers, given_config.epochs, given_config.max_length,
            given_config.max_train_samples) == (4, 15, 96, 10**6)
    assert not given["budget"]["cut"] and "training stops in time" in recipe.describe(given)
    # every layer trained: the learning rate in inverse proportion to the layers trained (a third: 3e-4)
    assert picker(time_budget=10_000.0, freeze_layers=0)[0].learning_rate == pytest.approx(1e-4)


def test_short_texts_train_deeper_where_the_budget_gives_it_enough_steps(picker, monkeypatch):
    """Titles (95 % within 64 tokens): every layer trained while DEEP_MIN_STEPS steps of it fit the budget, then
    the top two thirds, then the plan of long texts (the top third); the learning rate follows the layers
    trained. The layer timing is fixed, so each plan costs the same in every call."""
    monkeypatch.setattr(recipe, "time_layer", lambda *args: (0.02, 0.1))  # seconds per layer and batch
    titles = list(read_corpus(DATA / "ant")["title"]) * 60  # 2,280 titles
    # batches of 8: 285 steps per epoch, so about 2,500 steps are 9 epochs and 1,500 steps 6
    choose = functools.partial(picker, labels=list(read_corpus(DATA / "ant")["label"]) * 60, texts=titles,
                               batch_size=8)
    assert recipe.DEEP_MIN_STEPS == 1500

    def seconds(frozen: int, epochs: float) -> float:
        return choose(time_budget=10_000.0, freeze_layers=frozen, epochs=epochs)[1]["estimate_seconds"]

    free, chosen = choose(time_budget=10_000.0)
    assert (free.freeze_layers, free.epochs, free.max_length, free.max_train_samples) == (0, 9, 64, None)
    assert free.learning_rate == pytest.approx(1e-4) and not chosen["budget"]["cut"]
    assert "short texts" in chosen["reasons"]["freeze_layers"]
    # (frozen layers, epochs that must still fit, learning rate): every layer down to 6 epochs, the top 4 of 6
    # down to 6, then the top third at its 9 epochs
    for frozen, epochs, rate in ((0, 6, 1e-4), (2, 6, 1.5e-4), (4, 9, 3e-4)):
        fits, _ = choose(time_budget=(seconds(frozen, epochs) + 0.1) / 60)
        assert (fits.freeze_layers, fits.learning_rate) == (frozen, pytest.approx(rate))
        assert fits.epochs >= epochs and fits.max_length == 64 and fits.max_train_samples is None
        if frozen < 4:  # a little less: the next, shallower plan
            cut, _ = choose(time_budget=(seconds(frozen, epochs) - 0.1) / 60)
            assert cut.freeze_layers > frozen
    # long texts (the ANT articles) never get the deeper plans, whatever the budget
    assert picker(time_budget=10_000.0)[0].freeze_layers == 4


def test_long_articles_keep_the_top_third_at_their_lead_before_the_top_sixth(picker, monkeypatch):
    """The ANT articles fill the tiny encoder's 126 tokens; with the lead at 94 tokens (one cut of 32), a budget
    the top third misses at 126 tokens is met by reading 94 with every epoch kept; a smaller one cuts the top
    third's epochs down to TOP_THIRD_MIN_STEPS (750 steps: 11 epochs of 72), and only a budget below that gets
    the top sixth, with every epoch back. A layer's time is fixed in proportion to the tokens, so each plan
    costs the same in every call; each plan's length is timed itself, not scaled from another's."""
    monkeypatch.setattr(recipe, "LEAD_LENGTH", 94)
    timed = []

    def time_layer(layer, batch, length, *args):
        timed.append(length)
        return 2e-4 * length, 1e-3 * length

    monkeypatch.setattr(recipe, "time_layer", time_layer)
    free, _ = picker(time_budget=10_000.0)
    assert timed == [126]  # one plan costed: timed once, at its length
    assert (free.freeze_layers, free.epochs, free.max_length) == (4, 15, 126)

    def seconds(frozen: int, epochs: float, length: int) -> float:
        return picker(time_budget=10_000.0, freeze_layers=frozen, epochs=epochs, max_length=length)[1]["estimate_seconds"]

    assert recipe.TOP_THIRD_MIN_STEPS == 750 and math.ceil(750 / 72) == 11
    lead, floor, sixth = seconds(4, 15, 94), seconds(4, 11, 94), seconds(5, 15, 94)
    assert seconds(4, 15, 126) > lead > floor > sixth
    cut, chosen = picker(time_budget=(lead + 0.1) / 60)
    assert (cut.freeze_layers, cut.epochs, cut.max_length) == (4, 15, 94) and chosen["budget"]["cut"]
    assert timed[-2:] == [126, 94]  # each length a plan reads is timed at that length, once
    fewer, _ = picker(time_budget=(lead - 0.1) / 60)
    assert (fewer.freeze_layers, fewer.max_length) == (4, 94) and 11 <= fewer.epochs < 15
    assert picker(time_budget=(floor + 0.1) / 60)[0].freeze_layers == 4
    shallower, _ = picker(time_budget=(floor - 0.1) / 60)
    assert (shallower.freeze_layers, shallower.epochs, shallower.max_length) == (5, 15, 94)


@pytest.mark.parametrize("largest, weighted", [(30, True), (29, False)])
def test_class_weights_from_a_three_to_one_imbalance(picker, largest, weighted):
    texts = (list(read_corpus(DATA / "ant")["text"]) * 2)[: largest + 10]
    config, chosen = picker(labels=["sport"] * largest + ["economy"] * 10, texts=texts, time_budget=10_000.0)
    assert config.class_weights is weighted and chosen["chosen"]["class_weights"] is weighted


@pytest.fixture(scope="module")
def no_learning(tiny_base, tmp_path_factory):
    """A run that cannot improve (learning rate 0): every dev evaluation scores the same. Blend left to the data."""
    out = train(tiny_config(tiny_base, tmp_path_factory.mktemp("flat") / "m", epochs=8, learning_rate=0.0,
                            fusion=None))
    return json.loads((out / "metrics.json").read_text())


def test_early_stopping_after_patience_evaluations_without_gain(no_learning):
    """The default patience is 3: the first evaluation, then 3 without gain, and training stops."""
    evaluations = no_learning["evaluations"]
    assert [e["epoch"] for e in evaluations] == [1.0, 2.0, 3.0, 4.0] and no_learning["best_epoch"] == 1.0
    assert no_learning["training"]["steps"] == 4 * no_learning["time"]["planned_steps"] // 8


def test_the_blend_is_adopted_on_its_confirmed_gain(no_learning):
    blend = no_learning["fusion"]
    assert blend["cross_validated"]["folds"] == fusion.FOLDS
    assert blend["adopted"] == (blend["weight"] < 1 and blend["confirmed_gain"] >= fusion.MIN_GAIN)
    assert ("transformer_alone" in no_learning) == blend["adopted"]


def random_dev(n: int, labels: int, seed: int):
    """Gold labels, the logits of a transformer that knows them somewhat, scores that know nothing of them."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, labels, n)
    return gold, np.eye(labels)[gold] + rng.normal(size=(n, labels)), rng.normal(size=(n, labels))


def test_a_gain_found_on_the_articles_that_chose_it_is_not_adopted():
    """TF-IDF scores that are noise: the best of the ~80 blends tried on 40 articles still gains 3 points there,
    by chance; decided on the folds that did not choose it, it loses, and it is not adopted."""
    gold, logits, scores = random_dev(40, 4, seed=0)
    result = fusion.fit(logits, scores, gold, multi_label=False, mode=None)
    assert result["dev_macro_f1"] - result["alone_dev_macro_f1"] >= fusion.MIN_GAIN  # the flattering in-sample gain
    assert result["confirmed_gain"] < fusion.MIN_GAIN and not result["adopted"]
    assert fusion.fit(logits, scores, gold, multi_label=False, mode=True)["adopted"]  # --fusion true


def test_a_blend_that_helps_on_unseen_folds_is_adopted():
    gold, logits, noise = random_dev(200, 4, seed=1)
    scores = 3.0 * np.eye(4)[gold] + noise  # a TF-IDF model that knows the labels better than the transformer
    result = fusion.fit(logits, scores, gold, multi_label=False, mode=None)
    assert result["confirmed_gain"] >= fusion.MIN_GAIN and result["adopted"] and result["weight"] < 1
    assert not fusion.fit(logits, scores, gold, multi_label=False, mode=False)["adopted"]  # --fusion false
    # multi-label: the thresholds too are tuned on the other folds (one label and 2 folds: each setting tries
    # 19 thresholds a label, one sklearn call each)
    multi = (gold[:, None] % 2).astype(int)
    checked = fusion.cross_validated(logits[:, :1], 4.0 * multi - 2 + noise[:, :1], multi, True, folds=2)
    assert checked["folds"] == 2 and checked["blend"] - checked["alone"] >= fusion.MIN_GAIN
