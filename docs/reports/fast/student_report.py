"""The shipped fast model's evaluation report on the 200 fixed annotated test ids, every label scored, as
`arabic-topics evaluate` writes it for the teacher (docs/reports/multi-label/student): the student's own test
split is its teacher's whole test split, so `evaluate --model model/default` would score all 3,184 articles on
labels most of them leave unknown.

    python docs/reports/fast/student_report.py ../shared/datasets/ant-multisource-v2.1 docs/reports/fast/student-report
"""
import sys
from pathlib import Path

from eval.evaluate import evaluate
from eval.protocols import _baseline_train, _model_splits
from model import TopicClassifier
from training.partial_labels import read_ids

data, out = sys.argv[1], Path(sys.argv[2])
model_dir = Path("model/default")
splits, _ = _model_splits(model_dir, data)
fixed = set(read_ids(Path(__file__).parents[3] / "training" / "recipes" / "psd-test-ids.txt"))
test = splits["test"].filter(lambda r: r["id"] in fixed)
classifier = TopicClassifier.from_pretrained(model_dir)
metrics = evaluate(classifier, test, _baseline_train(splits, classifier.labels), out, model_dir=model_dir,
                   data_path=data, split="the 200 fixed annotated test ids (training/recipes/psd-test-ids.txt)",
                   title="Evaluation: the fast default on the 200 annotated test articles")
print(f"{len(test)} articles: macro-F1 {metrics['model']['macro_f1']:.4f}, baseline {metrics['baseline']['macro_f1']:.4f}")
