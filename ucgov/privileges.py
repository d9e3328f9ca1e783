"""Privilege names: normalising how people write them and knowing where each one applies."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ucgov.kinds import Kind

ALL_PRIVILEGES: frozenset[str] = frozenset().union(*(k.spec.privileges for k in Kind))
"""Every privilege ucgov knows: those that act on some kind."""


# The order people read privileges in: access first, then what it allows to create or use.
_READING_ORDER = (
    "USE CATALOG",
    "USE SCHEMA",
    "CREATE SCHEMA",
    "CREATE MODEL",
    "CREATE TABLE",
    "CREATE FUNCTION",
    "CREATE VOLUME",
    "EXECUTE",
    "SELECT",
    "MODIFY",
    "READ VOLUME",
    "CREATE CATALOG",
    "CREATE STORAGE CREDENTIAL",
    "CREATE EXTERNAL LOCATION",
    "READ FILES",
    "WRITE FILES",
    "CREATE EXTERNAL TABLE",
    "CREATE EXTERNAL VOLUME",
    "CREATE MANAGED STORAGE",
)


def in_reading_order(privileges: Iterable[str]) -> tuple[str, ...]:
    """Privileges sorted as people expect to read them (USE CATALOG before CREATE SCHEMA)."""
    rank = {p: i for i, p in enumerate(_READING_ORDER)}
    return tuple(sorted(privileges, key=lambda p: (rank.get(p, len(rank)), p)))


def normalise(written: str) -> str:
    """``use_catalog``, ``Use Catalog`` and ``USE  CATALOG`` all mean ``USE CATALOG``."""
    return re.sub(r"[\s_]+", " ", written.strip()).upper()


def unknown(privilege: str) -> str | None:
    """Why a normalised privilege is not one ucgov knows, or None if it is one."""
    if privilege not in ALL_PRIVILEGES:
        known = ", ".join(sorted(ALL_PRIVILEGES))
        return f"unknown privilege '{privilege}' (known: {known})"
    return None


def problem_with(privilege: str, kind: Kind) -> str | None:
    """Why a normalised privilege cannot be granted on this kind of object, or None if it can."""
    if privilege not in ALL_PRIVILEGES:
        return unknown(privilege)
    if privilege not in kind.grantable:
        allowed = ", ".join(sorted(kind.grantable))
        return f"privilege '{privilege}' cannot be granted on a {kind.label} (allowed: {allowed})"
    return None
