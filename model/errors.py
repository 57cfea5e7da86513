"""The one kind of error a user sees, and how a command reports it: one line on stderr, no traceback."""
from __future__ import annotations

import sys


class UserError(ValueError):
    """A problem with what the user asked for (paths, files, options, wrong library use): reported in one line,
    no traceback."""


def run_guarded(func, *args) -> int:
    """Run a command; user errors become one line on stderr and exit status 2, never a traceback."""
    try:
        return func(*args)
    except UserError as exc:
        say(f"arabic-topics: error: {exc}")
        return 2
    except KeyboardInterrupt as exc:
        say(f"arabic-topics: {exc or 'interrupted (checkpoints written so far are kept; --resume continues)'}")
        return 130


def say(line: str) -> None:
    # One write per line: under torchrun every process shares stderr, and print() writes the text and its
    # newline separately when output is unbuffered, so two processes' lines could run together.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
