"""Who can use what: one row per principal, object and privilege, with the grant that gives it.

Pure: rows are computed from any ``State`` whose objects carry their grants (a ``LiveState``
read by ``ucgov.live.read_grants_inside``, or a ``DesiredState`` loaded from specs). A privilege
holds on an object when it is granted there (``direct``) or on a catalog or schema it sits in
(inherited, ``ucgov.reach.reaches``). It is *usable* only if the principal also holds, on every
catalog and schema on the way to it (and on the object itself, for its other privileges), that
kind's usage privilege (``KindSpec.usage``): EXECUTE on a model without USE SCHEMA on its schema
is listed, and marked unusable with what it lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ucgov.kinds import Kind
from ucgov.reach import reaches
from ucgov.state import Grants, Ref, State


@dataclass(frozen=True)
class Row:
    """One privilege a principal holds on one object."""

    principal: str
    object: Ref
    privilege: str
    via: tuple[Ref, ...]
    """The objects whose grants give it, nearest first: the object itself (direct), its schema, its catalog."""
    missing: tuple[Ref, ...] = ()
    """The catalogs and schemas whose usage privilege the principal lacks: empty when usable."""

    @property
    def usable(self) -> bool:
        return not self.missing

    @property
    def direct(self) -> bool:
        return self.via[0] == self.object

    def via_text(self) -> str:
        """Each grant that gives it, in words: ``direct``, ``inherited from schema ml.fraud``."""
        return "; ".join(
            "direct" if r == self.object else f"inherited from {r.kind.label} {r.full_name}" for r in self.via
        )

    def missing_text(self) -> str:
        """What the principal lacks to use it, in words, or ""."""
        return "; ".join(f"{r.kind.spec.usage} on {r.kind.label} {r.full_name}" for r in self.missing)


@dataclass(frozen=True)
class Scope:
    """Which rows are asked for; None means any."""

    principal: str | None = None
    object: str | None = None
    """A full name: every object of that name (a model and a volume may share one)."""
    catalogs: tuple[str, ...] = ()

    def wants_object(self, ref: Ref) -> bool:
        if self.object is not None and ref.full_name != self.object:
            return False
        return not self.catalogs or ref.full_name.split(".")[0] in self.catalogs


def rows(state: State, scope: Scope = Scope()) -> list[Row]:
    """Every privilege each principal holds on each object in scope, sorted by object, principal, privilege.

    Grants made on an object are listed there whatever they are (EXECUTE granted on a catalog is a
    row on the catalog); inherited ones only where they act (the object kind's own privileges),
    so a catalog-level EXECUTE shows on each model and function, not on every schema between.
    """
    grants = {ref: obj.grants for ref, obj in state.objects.items()}
    found = []
    for ref in sorted(grants, key=lambda r: (r.full_name, r.kind.depth, r.kind.value)):
        if scope.wants_object(ref):
            found += _rows_on(ref, grants, scope.principal)
    return found


def _rows_on(ref: Ref, grants: Mapping[Ref, Grants], principal: str | None) -> list[Row]:
    chain = [ref, *reversed(ancestors(ref))]  # nearest first
    held: dict[tuple[str, str], list[Ref]] = {}
    for holder in chain:
        for who, privileges in grants.get(holder, {}).items():
            if principal is not None and who != principal:
                continue
            for privilege in privileges:
                acts = holder == ref or privilege in ref.kind.spec.privileges
                if acts and reaches(holder, privilege, ref):
                    held.setdefault((who, privilege), []).append(holder)
    return [
        Row(who, ref, privilege, tuple(via), _missing(ref, who, privilege, grants))
        for (who, privilege), via in sorted(held.items())
    ]


def _missing(ref: Ref, principal: str, privilege: str, grants: Mapping[Ref, Grants]) -> tuple[Ref, ...]:
    """The containers on the way to ``ref`` (and ``ref`` itself, unless ``privilege`` is its usage)
    whose usage privilege ``principal`` holds neither there nor inherited."""
    needed = list(ancestors(ref))
    if ref.kind.spec.usage and privilege != ref.kind.spec.usage:
        needed.append(ref)
    return tuple(c for c in needed if not holds(grants, principal, c.kind.spec.usage or "", c))


def holds(grants: Mapping[Ref, Grants], principal: str, privilege: str, ref: Ref) -> bool:
    """Whether ``principal`` holds ``privilege`` on ``ref``, granted there or on a parent."""
    return any(
        privilege in grants.get(holder, {}).get(principal, ()) and reaches(holder, privilege, ref)
        for holder in (ref, *ancestors(ref))
    )


def ancestors(ref: Ref) -> tuple[Ref, ...]:
    """The catalog and schema a ref sits in, outermost first, by its kind's ancestors."""
    parts = ref.full_name.split(".")
    return tuple(Ref(Kind(spec.name), ".".join(parts[: i + 1])) for i, spec in enumerate(ref.kind.spec.ancestors))


def principals(found: Iterable[Row]) -> list[str]:
    return sorted({r.principal for r in found})


def objects(found: Iterable[Row]) -> list[Ref]:
    return sorted({r.object for r in found}, key=lambda r: (r.full_name, r.kind.depth, r.kind.value))


__all__ = ["Row", "Scope", "ancestors", "holds", "objects", "principals", "rows"]
