"""Loading without transformers' noise that is not a problem: its per-load progress bar, and the load report
for a base encoder whose classification head is missing by design because our own weights replace it right
after (model/delta.py). Each is switched off only for the call it concerns and restored after, so a
transformers warning anywhere else still reaches the user."""
from __future__ import annotations

import contextlib

from transformers.utils import logging as hf_logging


@contextlib.contextmanager
def no_progress_bar():
    """Without the "Loading weights" bar: a model this size loads in about a second."""
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def head_restored_after():
    """Around loading a base into a sequence-classification model whose missing weights the caller fills in
    and checks itself (it refuses a load that leaves any uninitialised): transformers' report would tell
    the user "MISSING ... newly initialized ... Consider training", which reads as a broken model. Errors
    are still shown."""
    with quiet():
        yield


@contextlib.contextmanager
def quiet():
    """transformers' errors only, and no progress bar, for the call inside."""
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with no_progress_bar():
            yield
    finally:
        hf_logging.set_verbosity(level)
