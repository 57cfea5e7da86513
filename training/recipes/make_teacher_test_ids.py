"""Write the test split of the multi-label model (the fast model's teacher) as a list of article ids, so that
the fast model's recipe (fast.yaml, --split ids) holds out exactly the articles its teacher was scored on.

    python training/recipes/make_teacher_test_ids.py ../shared/datasets/ant-multisource-v2.1
"""
import dataclasses
import sys
from pathlib import Path

from training.config import read_config_file, TrainConfig
from training.train import load_splits

teacher = Path(__file__).parents[2] / "model" / "default" / "teacher"
config = TrainConfig(**{**read_config_file(teacher / "training_config.yaml"), "data": sys.argv[1]})
# The teacher's own teacher only filled training labels after the split was made: it plays no part in it.
config = dataclasses.replace(config, pseudo_labels_from=None)
test = load_splits(config)[0]["test"]
out = Path(__file__).with_name("teacher-test-ids.txt")
out.write_text("".join(f"{i}\n" for i in test["id"]))
print(f"{len(test)} ids written to {out}")
