"""The one registry of the kinds of securable ucgov manages.

Each kind is described in its own module (``catalog``, ``schema``, ``model``, ``table``, ``volume``,
``function``; above catalogs ``metastore``, ``credential``, ``external_location``) as a ``KindSpec``;
``REGISTRY`` lists them all, parents before children, and ``Kind`` names each one. Adding a kind
means its module, a line here and its tests: everything else reads the description.
"""

from __future__ import annotations

from enum import Enum
from functools import cache

from ucgov.kinds import catalog, credential, external_location, function, metastore, model, schema, table, volume
from ucgov.kinds.base import Field, KindSpec, lies_under, location

REGISTRY: tuple[KindSpec, ...] = (
    catalog.SPEC, schema.SPEC, model.SPEC, table.SPEC, volume.SPEC, function.SPEC,
    metastore.SPEC, credential.SPEC, external_location.SPEC,
)  # fmt: skip
"""Every kind, parents before children (and a kind after those it names)."""

_BY_NAME = {spec.name: spec for spec in REGISTRY}


class Kind(str, Enum):
    """The kinds in the registry, valued as the server's permissions API names them."""

    CATALOG = catalog.SPEC.name
    SCHEMA = schema.SPEC.name
    MODEL = model.SPEC.name
    TABLE = table.SPEC.name
    VOLUME = volume.SPEC.name
    FUNCTION = function.SPEC.name
    METASTORE = metastore.SPEC.name
    CREDENTIAL = credential.SPEC.name
    EXTERNAL_LOCATION = external_location.SPEC.name

    @property
    def spec(self) -> KindSpec:
        return _BY_NAME[self.value]

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def depth(self) -> int:
        return self.spec.depth

    @property
    def order(self) -> tuple[int, int]:
        """Where objects of this kind come in a create: by depth, then after the kinds they name."""
        return (self.spec.depth, self.spec.rank)

    @property
    def parent(self) -> Kind | None:
        return Kind(self.spec.parent.name) if self.spec.parent else None

    @property
    def children(self) -> tuple[Kind, ...]:
        """The kinds directly inside this one, in registry order: what plans list, create and prune
        inside it (a listing per kind)."""
        return tuple(k for k in Kind if k.parent is self)

    @property
    def descendants(self) -> tuple[Kind, ...]:
        """Every kind inside this one, however deep, in registry order."""
        return tuple(k for k in Kind if self.spec in k.spec.ancestors)

    @property
    def grantable(self) -> frozenset[str]:
        """What may be granted on it: its own privileges and, inherited by what is inside it, theirs."""
        return _grantable(self)


@cache
def _grantable(kind: Kind) -> frozenset[str]:
    # a grant on a parent is inherited by what is inside it (the server enforces this), so
    # privileges that act on children may be granted on the parent, as in Databricks
    return kind.spec.privileges.union(*(_grantable(child) for child in kind.children))


def grantable_at(depth: int) -> frozenset[str]:
    """What may be granted on some kind whose full names have ``depth`` parts: a name alone (or a
    policy pattern) at depth 3 may be a model, a table, a volume or a function. Only kinds that
    patterns name (``KindSpec.policy_named``): a name at depth 1 is a catalog, never a credential."""
    return frozenset().union(*(k.grantable for k in Kind if k.depth == depth and k.spec.policy_named))


def top_level() -> tuple[Kind, ...]:
    """The kinds that sit inside nothing, in registry order."""
    return tuple(k for k in Kind if k.parent is None)


def standalone() -> tuple[Kind, ...]:
    """The top-level kinds that hold nothing (the metastore, credentials, external locations): what a
    server has besides its catalogs and what is inside them."""
    return tuple(k for k in top_level() if not k.children)


def by_spec_key(parent: Kind | None, key: str) -> Kind | None:
    """The kind specs declare under ``key`` inside a ``parent`` (None: at the top of a document)."""
    return next((k for k in Kind if k.parent is parent and k.spec.declarable and k.spec.spec_key == key), None)


def acting_on(privilege: str) -> tuple[Kind, ...]:
    """The kinds whose own privilege this is (EXECUTE: models and functions; USE SCHEMA: schemas)."""
    return tuple(k for k in Kind if privilege in k.spec.privileges)


def listed_whole() -> tuple[Kind, ...]:
    """The top-level kinds read by one listing of them all (credentials, external locations), when
    prune may delete undeclared ones or a plan shows them: those a ``pruned_by`` object governs."""
    return tuple(k for k in Kind if k.parent is None and k.spec.pruned_by is not None)


def single() -> tuple[Kind, ...]:
    """The kinds with exactly one object (the metastore), declared without a name."""
    return tuple(k for k in Kind if k.spec.single)


__all__ = [
    "REGISTRY", "Field", "Kind", "KindSpec", "acting_on", "by_spec_key", "lies_under", "listed_whole", "location", "single",
    "standalone", "top_level",
]  # fmt: skip
