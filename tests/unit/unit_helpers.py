"""Small helpers for unit tests that build states and plans by hand."""

from __future__ import annotations

from ucgov.kinds import Kind
from ucgov.state import Ref


def kind_at(full_name: str) -> Kind:
    """The catalog, schema or model a name of that many parts is, in tests that use only those three."""
    return (Kind.CATALOG, Kind.SCHEMA, Kind.MODEL)[full_name.count(".")]


def ref(full_name: str, kind: Kind | None = None) -> Ref:
    return Ref(kind or kind_at(full_name), full_name)


def refs(*full_names: str) -> tuple[Ref, ...]:
    return tuple(ref(n) for n in full_names)
