"""Interrupted training loses nothing: SIGKILL then --resume ends exactly where an uninterrupted run ends;
Ctrl-C saves a checkpoint and says how to resume. Real processes, the tiny model, the ANT sample."""
import json
import signal
import subprocess
import time

import pytest
from safetensors.torch import load_file

from .conftest import DATA

SETTINGS = ["--data", str(DATA / "ant"), "--max-length", "64", "--batch-size", "8", "--learning-rate", "1e-3",
            "--dev-size", "0.2", "--test-size", "0.2", "--seed", "0", "--epochs", "12", "--eval-every", "6",
            "--early-stopping-patience", "0"]


def command(base, out, *extra):
    return ["arabic-topics", "train", *SETTINGS, "--base", str(base), "--output-dir", str(out), *extra]


def start_and_signal(base, out, sig, after_step=6, timeout=300):
    """Start training, send `sig` once checkpoint-`after_step` is complete, return the finished process."""
    process = subprocess.Popen(command(base, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = out / "checkpoints" / f"checkpoint-{after_step}" / "trainer_state.json"
    deadline = time.monotonic() + timeout
    while not ready.exists():
        assert process.poll() is None, process.stderr.read()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(sig)
    process.wait(timeout=timeout)
    return process


def finished(out):
    weights = load_file(str(out / "model.safetensors"))
    metrics = json.loads((out / "metrics.json").read_text())
    return weights, {split: metrics[split] for split in ("dev", "test")}


@pytest.fixture(scope="module")
def uninterrupted(tiny_base, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "model"
    done = subprocess.run(command(tiny_base, out), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return finished(out)


def test_sigkill_then_resume_ends_like_an_uninterrupted_run(tiny_base, tmp_path, uninterrupted):
    out = tmp_path / "model"
    killed = start_and_signal(tiny_base, out, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "config.json").exists()  # no finished model was claimed
    done = subprocess.run(command(tiny_base, out, "--resume"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    weights, metrics = finished(out)
    reference_weights, reference_metrics = uninterrupted
    assert metrics == reference_metrics
    assert weights.keys() == reference_weights.keys()
    assert all((weights[k] == reference_weights[k]).all() for k in weights)


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(tiny_base, tmp_path, uninterrupted):
    out = tmp_path / "model"
    stopped = start_and_signal(tiny_base, out, signal.SIGINT)
    stderr = stopped.stderr.read()
    assert stopped.returncode == 130, stderr[-2000:]
    last = [line for line in stderr.splitlines() if line.startswith("arabic-topics: ")]
    assert len(last) == 1 and "checkpoint saved in" in last[0] and "--resume" in last[0]
    assert "Traceback" not in stderr and not (out / "config.json").exists()
    steps = [int(p.name.split("-")[1]) for p in (out / "checkpoints").glob("checkpoint-*")]
    assert max(steps) > 6  # the step it was at when interrupted, not only the last scheduled checkpoint
    done = subprocess.run(command(tiny_base, out, "--resume"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert finished(out)[1] == uninterrupted[1]


def test_a_checkpoint_cut_short_while_saving_is_skipped(tmp_path):
    from training.train import last_complete_checkpoint

    for step, complete in ((4, True), (8, True), (12, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"")
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-16").mkdir()
    (tmp_path / "checkpoint-16" / "trainer_state.json").write_text('{"global_st')  # killed mid-write
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-8")


def test_a_ctrl_c_taken_while_the_processes_agree_is_not_lost():
    # A signal handler runs at any bytecode: here the Ctrl-C lands inside the step's agreement (where a
    # distributed run waits in its all-reduce), between the reading of the flags and the decision.
    import os

    from transformers import TrainerControl

    from training.loop import StopOnInterrupt

    class Args:  # a one-process run's training arguments, whose first agreement takes a Ctrl-C
        signalled, device = False, "cpu"

        @property
        def world_size(self):
            if not Args.signalled:
                Args.signalled = True
                os.kill(os.getpid(), signal.SIGINT)
            return 1

    stop, control = StopOnInterrupt(), TrainerControl()
    with stop.catching():
        stop.on_step_end(Args(), None, control)
        assert Args.signalled and not control.should_training_stop  # taken after the flags were read
        stop.on_step_end(Args(), None, control)  # agreed on after the next step
    assert stop.interrupted and control.should_training_stop and control.should_save
