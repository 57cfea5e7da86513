"""Copy 300 articles of one ANT outlet, all from the shipped models' test split (neither the teacher nor the
student trained on them), into a folder in ANT layout: the corpus of `arabic-topics benchmark --data DIR`.

    python docs/reports/fast/make_outlet_sample.py ../shared/datasets/ant-multisource-v2.1 CNN runs/cnn300
"""
import random
import shutil
import sys
from pathlib import Path

corpus, outlet, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
test_ids = set(Path(__file__).parents[3].joinpath("training/recipes/teacher-test-ids.txt").read_text().split())
files = sorted(f for f in (corpus / outlet).rglob("*.txt") if f.stem in test_ids)
chosen = sorted(random.Random(0).sample(files, min(300, len(files))))
if out.exists():
    shutil.rmtree(out)
for f in chosen:
    target = out / outlet / f.parent.name / f.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(f, target)
print(f"{len(chosen)} of {len(files)} {outlet} test articles copied to {out}")
