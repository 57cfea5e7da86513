"""Distributed training: two real processes started by torchrun, on CPU (gloo), with the tiny model and the ANT
sample. Each process trains on half of every batch; only the main one writes the model, the metrics and the
feature cache; Ctrl-C stops both after the same step and --resume ends exactly like an uninterrupted run."""
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
from safetensors.torch import load_file

from model import TopicClassifier
from training.corpus import read_corpus

from .conftest import DATA, default_sigint

PROCESSES = 2
EPOCHS = 12
SETTINGS = ["--data", str(DATA / "ant"), "--max-length", "64", "--batch-size", "8", "--learning-rate", "1e-3",
            "--dev-size", "0.2", "--test-size", "0.2", "--seed", "0", "--fusion", "false", "--epochs", str(EPOCHS), "--eval-every", "6",
            "--early-stopping-patience", "0"]
MODEL_FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "topic_config.json",
               "training_config.yaml", "data_summary.json", "metrics.json", "README.md"}
OUT = "tiny-topics"
SUMMARY = "dev: macro-F1"  # the one-line result the main process logs at the end


def command(base, out, *extra):
    # --standalone: a rendezvous on a free local port, so parallel test runs cannot collide
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(PROCESSES),
            "-m", "arabic_topics", "train", *SETTINGS, "--base", str(base), "--output-dir", str(out), *extra]


def launch(base, out, *extra):
    # one thread per process: the two processes share the CPU cores. The run starts in the output's parent
    # folder, so that anything written beside the output shows; `python -m` puts that folder first on
    # sys.path, hence an output name that is no module name (a folder "model" would hide the package).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command(base, out, *extra), cwd=out.parent, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)


def run(base, out, *extra):
    process = launch(base, out, *extra)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, (stdout + stderr)[-3000:]
    return stdout + stderr


def sigint_pending(pid):
    # /proc's mask of signals sent to the process and not yet taken: bit n-1 stands for signal n
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return any(int(status[mask], 16) >> (signal.SIGINT - 1) & 1 for mask in ("ShdPnd", "SigPnd"))


def weights_and_metrics(out):
    metrics = json.loads((out / "metrics.json").read_text())
    return load_file(str(out / "model.safetensors")), metrics


@pytest.fixture(scope="module")
def distributed(tiny_base, tmp_path_factory):
    out = tmp_path_factory.mktemp("distributed") / OUT
    log = run(tiny_base, out)
    return out, log


def test_two_processes_train_one_model_that_loads_and_predicts(distributed):
    out, log = distributed
    metrics = json.loads((out / "metrics.json").read_text())
    train_size = json.loads((out / "data_summary.json").read_text())["split"]["train"]
    # each process takes 8 articles of every step: half the steps a single process takes for the same epochs
    assert metrics["training"] == {"processes": PROCESSES, "batch_size": 8 * PROCESSES,
                                   "steps": EPOCHS * math.ceil(train_size / (8 * PROCESSES))}
    assert 0 <= metrics["dev"]["macro_f1"] <= 1 and 0 <= metrics["test"]["accuracy"] <= 1
    assert MODEL_FILES <= {p.name for p in out.iterdir()}
    clf = TopicClassifier.from_pretrained(out)
    assert sorted(clf.labels) == ["culture", "economy", "internationalNews", "middleEast", "sport", "technology"]
    results = clf.predict(read_corpus(DATA / "jawhara")["text"][:4])
    assert len(results) == 4 and all(r["label"] in clf.labels for r in results)


def test_only_the_main_process_writes(distributed):
    out, log = distributed
    # the model directory and nothing else: no checkpoints, staging folder or stray file from the other process
    assert sorted(p.name for p in out.parent.iterdir()) == [OUT]
    assert {p.name for p in out.iterdir()} == MODEL_FILES
    assert log.count(SUMMARY) == 1 and log.count("model saved to") == 1


def test_frozen_trunk_cache_is_built_once_by_the_main_process(tiny_base, tmp_path):
    out, cache = tmp_path / OUT, tmp_path / "cache"
    log = run(tiny_base, out, "--epochs", "2", "--freeze-layers", "1", "--feature-cache", str(cache))
    files = [p.name for p in cache.iterdir()]
    assert len(files) == 1 and files[0].startswith("trunk-") and files[0].endswith(".safetensors")  # no .tmp
    # the main process encodes the articles (one progress bar); the other waits and reads them from the cache
    assert log.count("frozen layers 1-1:   0%") == 1
    assert json.loads((out / "metrics.json").read_text())["training"]["processes"] == PROCESSES
    assert {p.name for p in out.iterdir()} == MODEL_FILES
    assert len(TopicClassifier.from_pretrained(out).predict(["مباراة كرة القدم انتهت بفوز الفريق"])) == 1


def test_ctrl_c_stops_both_processes_after_the_same_step_and_resume_finishes_the_run(tiny_base, tmp_path,
                                                                                     distributed):
    out = tmp_path / OUT
    launcher = launch(tiny_base, out)
    ready = out / "checkpoints" / "checkpoint-6" / "trainer_state.json"
    deadline = time.monotonic() + 300
    while not ready.exists():
        assert launcher.poll() is None, launcher.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # Hold both processes until the interrupt is theirs, so that it lands mid-run whatever the machine's load.
    # Ctrl-C reaches torchrun, which passes it on to each process; a stopped process keeps it pending and takes
    # it as it resumes, often inside the step's agreement (the all-reduce a process may be held in): the case
    # where a Ctrl-C used to be lost and the run trained on to its end.
    workers = psutil.Process(launcher.pid).children()
    assert len(workers) == PROCESSES
    for worker in workers:
        worker.suspend()  # SIGSTOP: it takes effect a moment later
    while not all(worker.status() == psutil.STATUS_STOPPED for worker in workers):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    launcher.send_signal(signal.SIGINT)
    while not all(sigint_pending(worker.pid) for worker in workers):
        assert launcher.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    for worker in workers:
        worker.resume()
    stdout, stderr = launcher.communicate(timeout=300)
    # each process says where it stopped (a progress bar may precede the message on its line)
    stops = re.findall(r"arabic-topics: interrupted at step (\d+); checkpoint saved in .*?--resume", stderr)
    assert len(stops) == PROCESSES and len(set(stops)) == 1, stderr[-3000:]  # both, after the same step
    step = int(stops[0])
    assert step > 6 and (out / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").is_file()
    assert not (out / "config.json").exists()
    run(tiny_base, out, "--resume")
    weights, metrics = weights_and_metrics(out)
    reference_weights, reference_metrics = weights_and_metrics(distributed[0])
    assert {k: metrics[k] for k in ("dev", "test", "training")} == \
        {k: reference_metrics[k] for k in ("dev", "test", "training")}
    assert weights.keys() == reference_weights.keys()
    assert all((weights[k] == reference_weights[k]).all() for k in weights)
