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

from ucgov.kinds import Kind, standalone
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
        if not self.catalogs:
            return True
        # a credential named like an asked catalog is not in it
        return ref.kind not in standalone() and ref.full_name.split(".")[0] in self.catalogs


def rows(state: State, scope: Scope = Scope()) -> list[Row]:
    """Every privilege each principal holds on each object in scope, sorted by object, principal, privilege.

    Grants made on an object are listed there whatever they are (EXECUTE granted on a catalog is a
    row on the catalog); inherited ones only where they act (the object kind's own privileges),
    so a catalog-level EXECUTE shows on each model and function, not on every schema between.
    """
    inheritance = _Inheritance({ref: obj.grants for ref, obj in state.objects.items()})
    found = []
    for ref in sorted(inheritance.grants, key=lambda r: (r.full_name, r.kind.depth, r.kind.value)):
        if scope.wants_object(ref):
            found += inheritance.rows_on(ref, scope.principal)
    return found


class _Inheritance:
    """The grants of an estate, and what each container passes down, worked out once per container
    and kind (or principal) rather than once per object: an estate has thousands of objects in a
    few containers, each with the grants of every team."""

    def __init__(self, grants: Mapping[Ref, Grants]) -> None:
        self.grants = grants
        self._passed: dict[tuple[Ref, Kind], list[tuple[str, str]]] = {}
        self._usable: dict[tuple[str, Ref], bool] = {}

    def rows_on(self, ref: Ref, principal: str | None) -> list[Row]:
        """The rows of one object: its own grants, then what each container passes down, nearest first."""
        containers = ancestors(ref)
        held: dict[tuple[str, str], list[Ref]] = {}
        for who, privileges in self.grants.get(ref, {}).items():
            for privilege in privileges:
                held[(who, privilege)] = [ref]
        for holder in reversed(containers):
            for who, privilege in self._passed_down(holder, ref):
                held.setdefault((who, privilege), []).append(holder)
        return [
            Row(who, ref, privilege, tuple(via), self._missing(ref, containers, who, privilege))
            for (who, privilege), via in sorted(held.items())
            if principal is None or who == principal
        ]

    def _passed_down(self, holder: Ref, ref: Ref) -> list[tuple[str, str]]:
        """(principal, privilege) of the grants on ``holder`` that act on ``ref``, inside it: what
        ``reaches`` says depends on ``ref``'s kind only, so once per container and kind."""
        key = (holder, ref.kind)
        if key not in self._passed:
            acting = ref.kind.spec.privileges
            self._passed[key] = [
                (who, privilege)
                for who, privileges in self.grants.get(holder, {}).items()
                for privilege in privileges
                if privilege in acting and reaches(holder, privilege, ref)
            ]
        return self._passed[key]

    def _missing(self, ref: Ref, containers: tuple[Ref, ...], principal: str, privilege: str) -> tuple[Ref, ...]:
        """The containers on the way to ``ref`` (and ``ref`` itself, unless ``privilege`` is its usage)
        whose usage privilege ``principal`` holds neither there nor inherited."""
        usage = ref.kind.spec.usage
        needed = [*containers, ref] if usage and privilege != usage else containers
        return tuple(c for c in needed if not self._uses(principal, c))

    def _uses(self, principal: str, ref: Ref) -> bool:
        key = (principal, ref)
        if key not in self._usable:
            self._usable[key] = holds(self.grants, principal, ref.kind.spec.usage or "", ref)
        return self._usable[key]


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
