"""Base encoders: any transformers encoder by hub name or local path, plus the offline `e5-small` preset."""
from __future__ import annotations

from pathlib import Path

from . import offline_e5

# e5 models were trained with "query: " / "passage: " prefixes; a news article is a passage.
E5_PREFIX = "passage: "


def resolve_base(name: str) -> tuple[str, str]:
    """Return (path or hub id to load, text prefix the encoder expects) for a --base value."""
    if name == offline_e5.PRESET_NAME:
        return str(offline_e5.ensure_built()), E5_PREFIX
    prefix = E5_PREFIX if "e5" in Path(name).name.lower() else ""
    return name, prefix
