"""What the topic report scripts of this folder share: a multi-label model's own split read as the 5 topics,
as every documented topic figure reads it (the 200 fixed annotated ids left out of a random or ids split; a
held-out outlet scored whole), and the model seen through TopicView (residual politics)."""
from pathlib import Path

import numpy as np

from eval.protocols import TopicView, topic_parts, training_config
from model import TopicClassifier
from training.hygiene import LabelMapping

RECIPES = Path(__file__).parents[3] / "training" / "recipes"


def documented_topic_split(model_dir: str, data: str | None = None):
    """(train/dev/test parts with topic labels, the model's config, the TopicView of the model)."""
    held_out = training_config(Path(model_dir)).split == "source"
    parts, config = topic_parts(model_dir, data, RECIPES / "topics.yaml",
                                None if held_out else RECIPES / "psd-test-ids.txt")
    view = TopicView(TopicClassifier.from_pretrained(model_dir), LabelMapping.from_yaml(RECIPES / "topics.yaml").targets,
                     "politics")
    return parts, config, view


def topic_gold(view: TopicView, part) -> np.ndarray:
    return np.array([view.labels.index(label) for label in part["label"]])
