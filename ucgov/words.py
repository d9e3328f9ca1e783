"""How ucgov's sentences count things: one place, so every message says "1 model", "2 models" alike."""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """'1 model', '2 models'; ``plural`` where adding an s is wrong ('2 properties')."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
