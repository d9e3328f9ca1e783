"""Names ucgov keeps for itself on the server, which export and --show-unmanaged never list."""

from __future__ import annotations

import os
import re

DEFAULT_LOCK = "ucgov_lock"
"""The stem of the catalogs that hold ucgov's apply lock (UCGOV_LOCK names another)."""


def lock_stem() -> str:
    """The apply lock's catalogs are named STEM_<12 hex digits>: UCGOV_LOCK, or ucgov_lock."""
    return os.environ.get("UCGOV_LOCK") or DEFAULT_LOCK


def is_reserved_catalog(name: str) -> bool:
    """Whether a catalog is one of ucgov's lock claims, not a team's catalog."""
    return re.fullmatch(re.escape(lock_stem()) + r"(_[0-9a-f]{12})?", name) is not None
