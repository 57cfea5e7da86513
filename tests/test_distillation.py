"""Knowledge distillation (--distill-from): the targets mix gold labels with a teacher's probabilities."""
import json

import datasets
import numpy as np
import pytest
import torch

from .conftest import DATA, RECIPE_MAP, tiny_config
from model import TopicClassifier, UserError
from training import distillation
from training.loop import TopicTrainer
from training.train import train


def test_single_label_targets_are_the_weighted_mix_of_gold_and_teacher():
    encoded = datasets.Dataset.from_dict({"input_ids": [[1, 2], [3]], "labels": [0, 2]})
    probs = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]], dtype=np.float32)
    mixed = np.array(distillation.soft_targets(encoded, probs, 0.25, 3)["labels"])
    np.testing.assert_allclose(mixed, [[0.8, 0.125, 0.075], [0.025, 0.025, 0.95]], rtol=1e-6)
    np.testing.assert_allclose(mixed.sum(1), 1, rtol=1e-6)


def test_partial_labels_take_the_teacher_where_unknown_and_are_all_known_after():
    encoded = datasets.Dataset.from_dict({"input_ids": [[1], [2]], "labels": [[1.0, 0.0], [0.0, 0.0]],
                                          "label_mask": [[1.0, 0.0], [0.0, 1.0]]})
    probs = np.array([[0.6, 0.9], [0.3, 0.4]], dtype=np.float32)
    out = distillation.soft_targets(encoded, probs, 0.5, 2)
    np.testing.assert_allclose(out["labels"], [[0.8, 0.9], [0.3, 0.2]], rtol=1e-6)
    assert out["label_mask"] == [[1.0, 1.0], [1.0, 1.0]]


def test_probability_targets_give_the_cross_entropy_of_the_distribution():
    """The single-label loss against a one-hot row equals the usual loss against the class id, and a soft row
    moves it: the Trainer's loss reads probability targets as such, not as class ids."""
    logits = torch.tensor([[2.0, 0.5, -1.0]])

    class Model(torch.nn.Module):
        def forward(self, **inputs):
            return type("Out", (), {"logits": logits})()

    trainer = TopicTrainer.__new__(TopicTrainer)
    trainer.class_weights, trainer.soft_targets = None, True
    one_hot = trainer.compute_loss(Model(), {"labels": torch.tensor([[1.0, 0.0, 0.0]])})
    assert one_hot.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, torch.tensor([0])).item())
    soft = trainer.compute_loss(Model(), {"labels": torch.tensor([[0.5, 0.5, 0.0]])})
    assert soft.item() > one_hot.item()


@pytest.mark.parametrize("freeze_layers", [1, 0], ids=["cached trunk", "whole model"])
def test_a_student_trains_on_a_teachers_probabilities(trained, tiny_base, tmp_path, freeze_layers):
    out = train(tiny_config(tiny_base, tmp_path / "student", distill_from=str(trained), distill_weight=0.7,
                            freeze_layers=freeze_layers))
    metrics = json.loads((out / "metrics.json").read_text())
    recorded = metrics["distillation"]
    assert recorded["teacher"] == str(trained) and recorded["weight"] == 0.7
    assert 0 < recorded["teacher_train_agreement"] <= 1
    assert 0 <= metrics["test"]["macro_f1"] <= 1
    student = TopicClassifier.from_pretrained(out)
    assert student.labels == TopicClassifier.from_pretrained(trained).labels
    assert "Distilled from the teacher model" in (out / "README.md").read_text()


def test_a_partial_multi_label_student_learns_from_a_multi_label_teacher(partial_model, half_annotated,
                                                                         tiny_base, tmp_path):
    path, _ = half_annotated
    out = train(tiny_config(tiny_base, tmp_path / "student", data=str(DATA / "psd.jsonl"), text_column="text",
                            title_column="title", label_column="section", id_column="id", label_map=RECIPE_MAP,
                            annotations=str(path), freeze_layers=1, dev_size=0.25, test_size=0.25,
                            distill_from=str(partial_model)))
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 < metrics["distillation"]["teacher_train_agreement"] <= 1
    assert 0 <= metrics["dev"]["macro_f1"] <= 1  # scored on the gold (known) entries, not the teacher's


def test_bad_distillation_settings_are_refused_in_one_line(trained, partial_model, tiny_base, tmp_path):
    with pytest.raises(UserError, match="a multi-label model cannot serve a single-label one"):
        train(tiny_config(tiny_base, tmp_path / "a", distill_from=str(partial_model)))
    with pytest.raises(UserError, match="--distill-weight must be between 0 and 1"):
        tiny_config(tiny_base, tmp_path / "b", distill_from=str(trained), distill_weight=1.5)
    with pytest.raises(UserError, match="give one"):
        tiny_config(tiny_base, tmp_path / "c", distill_from=str(trained), pseudo_labels_from=str(trained))
    assert not (tmp_path / "a" / "config.json").exists()
