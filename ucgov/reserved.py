"""Names ucgov keeps for itself on the server: the apply lock's namespace.

The lock's claims are catalogs named ``STEM_<12 hex digits>`` (STEM is UCGOV_LOCK, or
ucgov_lock); the bare stem is kept too. No spec may declare a catalog in that namespace
(for the default stem and for UCGOV_LOCK's), so no team's catalog is ever taken for a claim.
A catalog in the namespace is still only a claim if ucgov wrote its comment (see
``ucgov.lock``): a name alone never makes ucgov delete anything. Export and
--show-unmanaged never list the namespace.
"""

from __future__ import annotations

import os
import re

from ucgov.errors import UcgovError

DEFAULT_LOCK = "ucgov_lock"
"""The stem of the catalogs that hold ucgov's apply lock (UCGOV_LOCK names another)."""
_CLAIM_SUFFIX = 13  # "_" and 12 hex digits
_STEM_MAX = 255 - _CLAIM_SUFFIX  # the server's limit on a catalog name
_STEM = re.compile(r"[a-zA-Z0-9_@-]+")


def lock_stem() -> str:
    """The apply lock's catalogs are named STEM_<12 hex digits>: UCGOV_LOCK, or ucgov_lock.

    UcgovError if UCGOV_LOCK is not a catalog name's start (``a.b`` would make catalogs ``b_…``).
    """
    given = os.environ.get("UCGOV_LOCK")
    if not given:
        return DEFAULT_LOCK
    if not _STEM.fullmatch(given) or len(given) > _STEM_MAX:
        raise UcgovError(
            f"UCGOV_LOCK must be the start of a catalog name (letters, digits, _, @ and - only, "
            f"at most {_STEM_MAX} characters), not {given!r}"
        )
    return given


def is_reserved_catalog(name: str) -> bool:
    """Whether a catalog name lies in the apply lock's namespace (its claims' names, or the bare stem)."""
    return _in_namespace(name, lock_stem())


def reserved_by(name: str) -> str | None:
    """The lock stem whose namespace holds this catalog name (ucgov_lock's, or UCGOV_LOCK's), or None."""
    for stem in dict.fromkeys((DEFAULT_LOCK, lock_stem())):
        if _in_namespace(name, stem):
            return stem
    return None


def claim_name(stem: str, claim_id: str) -> str:
    return f"{stem}_{claim_id}"


def _in_namespace(name: str, stem: str) -> bool:
    return re.fullmatch(re.escape(stem) + r"(_[0-9a-f]{12})?", name) is not None
