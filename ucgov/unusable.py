"""Grants a revoke leaves unusable: what a reviewer must see beside the revoke itself.

To use any grant on an object, a principal needs the usage privilege (``KindSpec.usage``) of
every catalog and schema on the way to it: USE CATALOG on the catalog, USE SCHEMA on the
schema (held there, or inherited from the catalog). Revoking one of them does not revoke the
principal's SELECT on a table, READ VOLUME on a volume, EXECUTE on a function or model, or
their schema grants; it makes them useless, silently. Pure functions: the planner calls them
for ``plan`` (the grants the plan leaves, from the specs and the live grants read) and
``diff_specs`` for ``ucgov diff`` (the base revision standing in for the server).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from ucgov.kinds import Kind
from ucgov.plan import Action, Change, GrantChange
from ucgov.privileges import in_reading_order
from ucgov.state import DesiredState, Grants, GrantsMode, Ref, Securable
from ucgov.words import counted

_SHOWN = 5


def grants_after(desired: DesiredState, live: Mapping[Ref, Securable], deleted: Collection[Ref]) -> dict[Ref, Grants]:
    """The grants each known object holds once the plan is applied.

    A declared object's are as its grants mode says (authoritative: the spec's; additive: the
    spec's and the live ones; unmanaged: the live ones, where read); an object no spec declares
    keeps its live grants, unless the plan deletes it.
    """
    after: dict[Ref, Grants] = {ref: obj.grants for ref, obj in live.items() if ref not in deleted}
    for ref, want in desired.objects.items():
        had = after.get(ref, {})
        if want.grants_mode is GrantsMode.AUTHORITATIVE:
            after[ref] = want.grants
        elif want.grants_mode is GrantsMode.ADDITIVE:
            after[ref] = {p: want.grants.get(p, frozenset()) | had.get(p, frozenset()) for p in {*want.grants, *had}}
        else:
            after[ref] = had
    return after


def warnings(changes: Iterable[Change], after: Mapping[Ref, Grants]) -> list[str]:
    """For each revoke of a usage privilege: the grants the principal keeps on and inside the object
    that it leaves unusable, counted, on which objects."""
    revokes = [c for c in changes if c.action is Action.REVOKE and isinstance(c.payload, GrantChange)]
    if not revokes:
        return []
    holding: dict[Ref, list[Ref]] = {}  # each catalog and schema: the known objects inside it
    for ref in after:
        for parent in _ancestors(ref):
            holding.setdefault(parent, []).append(ref)
    found = []
    for change in revokes:
        assert isinstance(change.payload, GrantChange)
        for privilege in change.payload.privileges:
            message = _unusable(change.address.ref, change.address.principal or "", privilege, after, holding)
            if message:
                found.append(message)
    return found


def _unusable(
    revoked_on: Ref, principal: str, privilege: str, after: Mapping[Ref, Grants], holding: Mapping[Ref, list[Ref]]
) -> str | None:
    needing = [k for k in (revoked_on.kind, *revoked_on.kind.descendants) if k.spec.usage == privilege]
    if not needing or any(privilege in _held(after, a, principal) for a in _ancestors(revoked_on)):
        return None  # not a usage privilege here, or still inherited from a parent
    # the catalogs or schemas that now lack it: the object itself, or (USE SCHEMA revoked on a
    # catalog) each schema inside that does not hold it directly
    lacking = [
        r
        for r in (revoked_on, *holding.get(revoked_on, ()))
        if r.kind in needing and (r == revoked_on or privilege not in _held(after, r, principal))
    ]
    kept: dict[Ref, tuple[str, ...]] = {}
    for container in lacking:
        for ref in (container, *holding.get(container, ())):
            held = _held(after, ref, principal) - {privilege}
            if held:
                kept[ref] = in_reading_order(held)
    if not kept:
        return None
    count = sum(len(p) for p in kept.values())
    where = f"{revoked_on.kind.label} {revoked_on.full_name}"
    return (
        f"revoking {privilege} on {where} from {principal} makes {counted(count, 'grant')} of theirs on "
        f"{counted(len(kept), 'object')} unusable ({privilege} is needed to use anything in {where}): "
        f"{_listing(kept)}"
    )


def _held(after: Mapping[Ref, Grants], ref: Ref, principal: str) -> frozenset[str]:
    return frozenset(after.get(ref, {}).get(principal, frozenset()))


def _ancestors(ref: Ref) -> list[Ref]:
    """The catalog and schema a ref sits in, by the kinds its own kind sits in (no guessing by dots)."""
    parts = ref.full_name.split(".")
    return [Ref(Kind(spec.name), ".".join(parts[: i + 1])) for i, spec in enumerate(ref.kind.spec.ancestors)]


def _listing(kept: Mapping[Ref, tuple[str, ...]]) -> str:
    ordered = sorted(kept, key=lambda r: (r.kind.depth, r.full_name, r.kind.value))
    shown = [f"{r.kind.label} {r.full_name} ({', '.join(kept[r])})" for r in ordered[:_SHOWN]]
    more = len(ordered) - _SHOWN
    return ", ".join(shown) + (f" and {counted(more, 'more object')}" if more > 0 else "")
