"""Names ucgov keeps for itself on the server, which export and --show-unmanaged never list."""

from __future__ import annotations

LOCK_CATALOG = "ucgov_lock"
"""The catalog whose existence means an apply is running: ucgov's apply lock, not a team's catalog."""

RESERVED_CATALOGS = frozenset({LOCK_CATALOG})
