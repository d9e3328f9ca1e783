"""Plain, frozen descriptions of Unity Catalog objects: what specs want and what the server has.

Desired and live state share one shape so the planner can compare them field by field.
A field set to ``None`` in desired state means "not managed": the live value is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

Grants = Mapping[str, frozenset[str]]
"""Privileges per principal, as granted directly on one object."""


class Kind(str, Enum):
    """The securable types ucgov manages, valued as the server's permission API names them."""

    CATALOG = "catalog"
    SCHEMA = "schema"
    MODEL = "registered_model"

    @property
    def label(self) -> str:
        return "model" if self is Kind.MODEL else self.value

    @property
    def depth(self) -> int:
        return {Kind.CATALOG: 1, Kind.SCHEMA: 2, Kind.MODEL: 3}[self]

    @classmethod
    def of(cls, full_name: str) -> Kind:
        return (cls.CATALOG, cls.SCHEMA, cls.MODEL)[full_name.count(".")]


class GrantsMode(str, Enum):
    AUTHORITATIVE = "authoritative"
    ADDITIVE = "additive"


@dataclass(frozen=True)
class Approval:
    """Which version of a model is approved: an existing version or an MLflow run."""

    version: int | None = None
    run: str | None = None
    artifact_path: str = "model"


@dataclass(frozen=True)
class Securable:
    """One catalog, schema or registered model and the grants made directly on it."""

    kind: Kind
    full_name: str
    comment: str | None = None
    properties: Mapping[str, str] | None = None
    grants: Grants = field(default_factory=dict)
    grants_mode: GrantsMode = GrantsMode.AUTHORITATIVE
    approved: Approval | None = None

    @property
    def parent(self) -> str | None:
        return self.full_name.rpartition(".")[0] or None

    @property
    def name(self) -> str:
        return self.full_name.rpartition(".")[2]


@dataclass(frozen=True)
class State:
    """A set of securables keyed by full name (unique across kinds, since depth differs)."""

    objects: Mapping[str, Securable] = field(default_factory=dict)

    def get(self, full_name: str) -> Securable | None:
        return self.objects.get(full_name)

    def ordered(self) -> list[Securable]:
        """Parents before children, then by name: the order in which objects can be created."""
        return sorted(self.objects.values(), key=lambda s: (s.kind.depth, s.full_name))


@dataclass(frozen=True)
class DesiredState(State):
    """What the specs declare, plus where each thing was written for error messages."""

    principals: Mapping[str, tuple] = field(default_factory=dict)
    """Each principal named in grants, with the locations that name it."""
    prune: bool = False


@dataclass(frozen=True)
class LiveState(State):
    """What the server has for the declared objects; absent objects are simply missing."""

    known_principals: frozenset[str] | None = field(default=None)
    """Users the server knows, or None when the server could not list them."""
