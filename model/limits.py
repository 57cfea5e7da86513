"""What one request to `arabic-topics serve` may carry, and how requests are batched (docs/serving.md#limits).
Its own module so that the command line (model/serve.py) and the app (model/api.py) share it without
importing each other."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .errors import UserError


@dataclass
class Limits:
    """What one request may carry, and how requests are batched (docs/serving.md#limits)."""

    max_texts: int = 64  # texts per request
    max_explain_texts: int = 8  # with explain: each text costs one forward pass per sentence (up to 40)
    max_body: int = 2 * 1024 * 1024  # bytes of request body; the model reads ~2,000 characters of an article
    max_batch: int = 32  # texts per forward pass, gathered from concurrent requests
    max_wait_ms: float = 5.0  # how long a pass waits for more requests after the first
    max_queue: int = 1024  # requests waiting; beyond it the server answers 503

    def check(self) -> "Limits":
        for name, value in asdict(self).items():
            if value < (0 if name == "max_wait_ms" else 1):
                raise UserError(f"--{name.replace('_', '-')} must be at least {0 if name == 'max_wait_ms' else 1}")
        return self
