"""Privilege names: normalising how people write them and knowing where each one applies."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ucgov.state import Kind

_MODEL = frozenset({"EXECUTE"})
_SCHEMA = _MODEL | {
    "USE SCHEMA",
    "CREATE MODEL",
    "CREATE TABLE",
    "CREATE FUNCTION",
    "CREATE VOLUME",
    "SELECT",
    "MODIFY",
    "READ VOLUME",
}
_CATALOG = _SCHEMA | {"USE CATALOG", "CREATE SCHEMA"}

# A grant on a catalog or schema is inherited by what is inside it (the server enforces this),
# so privileges that act on children may be granted on the parent, as in Databricks.
APPLICABLE: dict[Kind, frozenset[str]] = {
    Kind.CATALOG: frozenset(_CATALOG),
    Kind.SCHEMA: frozenset(_SCHEMA),
    Kind.MODEL: _MODEL,
}

ALL_PRIVILEGES = APPLICABLE[Kind.CATALOG]


def acts_on(privilege: str) -> Kind:
    """The kind of object a privilege is about, wherever granted: EXECUTE models, USE SCHEMA schemas."""
    return max((k for k in Kind if privilege in APPLICABLE[k]), key=lambda k: k.depth)


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
)


def in_reading_order(privileges: Iterable[str]) -> tuple[str, ...]:
    """Privileges sorted as people expect to read them (USE CATALOG before CREATE SCHEMA)."""
    rank = {p: i for i, p in enumerate(_READING_ORDER)}
    return tuple(sorted(privileges, key=lambda p: (rank.get(p, len(rank)), p)))


def normalise(written: str) -> str:
    """``use_catalog``, ``Use Catalog`` and ``USE  CATALOG`` all mean ``USE CATALOG``."""
    return re.sub(r"[\s_]+", " ", written.strip()).upper()


def problem_with(privilege: str, kind: Kind) -> str | None:
    """Why a normalised privilege cannot be granted on this kind of object, or None if it can."""
    if privilege not in ALL_PRIVILEGES:
        known = ", ".join(sorted(ALL_PRIVILEGES))
        return f"unknown privilege '{privilege}' (known: {known})"
    if privilege not in APPLICABLE[kind]:
        allowed = ", ".join(sorted(APPLICABLE[kind]))
        return f"privilege '{privilege}' cannot be granted on a {kind.label} (allowed: {allowed})"
    return None
