"""What a change to the specs does besides object and grant changes, for `ucgov diff`.

Pure functions of two desired states: policies added, removed or rewritten, and the objects
a change stops declaring with the grants that ucgov then stops governing: each either stays on
the server as it is (drift on it no longer reverted) or, where the head's prune reaches it and
its kind is prunable, is deleted by apply --allow-destroy, exactly as a plan of the change says.
"""

from __future__ import annotations

from collections.abc import Mapping

from ucgov import prune, reach
from ucgov.plan import PolicyChange, Undeclared
from ucgov.privileges import in_reading_order
from ucgov.state import DesiredState, GrantsMode, Ref, Securable


def policy_changes(base: DesiredState, head: DesiredState) -> tuple[PolicyChange, ...]:
    """Per policy name, sorted: added (no before), removed (no after) or with another rule."""
    before = {p.name: p for p in base.policies}
    after = {p.name: p for p in head.policies}
    return tuple(
        PolicyChange(name, before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)  # Policy compares the rule, not where it is written
    )


def undeclared(base: DesiredState, head: DesiredState) -> tuple[Undeclared, ...]:
    """Objects declared at base but not at head, parents first, with the grants base declared and
    what apply does with each: as ``prune`` decides in a plan of the same change, deleted where the
    head prunes its parent and its kind is prunable, else left on the server.

    What base declares inside stands in for what the server holds: a live plan may still keep a
    schema for a table no spec ever declared (the plan then says so).
    """
    gone = [obj for obj in base.ordered() if head.get(obj.ref) is None]
    unprunable = [o.ref for o in gone if not o.kind.spec.prunable]  # tables, functions: they keep their schema
    fates: dict[Ref, tuple[bool, bool, str]] = {}  # ref: (retired by prune, deleted, why)
    for obj in gone:
        fates[obj.ref] = _fate(obj.ref, head, unprunable, fates)
    return tuple(
        Undeclared(obj.kind, obj.full_name, _grants(obj), deleted=fates[obj.ref][1], why=fates[obj.ref][2])
        for obj in gone
    )


def _grants(obj: Securable) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((p, in_reading_order(privileges)) for p, privileges in sorted(obj.grants.items()) if privileges)


def _fate(
    ref: Ref, head: DesiredState, unprunable: list[Ref], fates: dict[Ref, tuple[bool, bool, str]]
) -> tuple[bool, bool, str]:
    """Whether prune retires ``ref`` (its parent is declared and pruned, or itself retired), whether
    it is deleted (retired, prunable and holding nothing prune keeps), and why, in words."""
    parent = _parent(ref)
    if parent is None:
        if ref.kind in head.prune_top:  # a credential, a location: the metastore's prune reaches it
            pruned_by = ref.kind.spec.pruned_by
            return True, True, f"prune is on for the {pruned_by.label if pruned_by else ref.kind.label}"
        return False, False, f"prune never deletes a {ref.kind.label}"
    if parent in fates:  # the parent goes undeclared too: this follows it
        retired, deleted, _ = fates[parent]
        if deleted and ref.kind.spec.prunable:
            return True, True, f"it goes with {parent}"
        if not retired:
            return False, False, f"inside {parent}, which stays"
    elif not prune.prunes(head, parent.full_name):
        return False, False, f"prune is off in {parent}"
    if not ref.kind.spec.prunable:
        return True, False, f"prune never deletes a {ref.kind.label}"
    holding = tuple(r for r in unprunable if reach.inside(ref, r))
    if holding:
        return True, False, f"it holds {prune.listing(holding)}, which ucgov does not delete"
    return True, True, f"prune is on in {_pruned_in(ref, fates)}"


def _parent(ref: Ref) -> Ref | None:
    parent = ref.kind.parent
    return Ref(parent, ref.full_name.rsplit(".", 1)[0]) if parent else None


def _pruned_in(ref: Ref, fates: Mapping[Ref, object]) -> Ref:
    """The nearest parent still declared, whose prune setting reaches ``ref``."""
    parent = _parent(ref)
    while parent is not None and parent in fates:
        parent = _parent(parent)
    assert parent is not None  # a retired object sits in a declared catalog
    return parent


def grants_let_go(base: DesiredState, head: DesiredState) -> list[str]:
    """Objects still declared whose `grants:` key the change removes: ucgov stops governing their grants.

    Without this, dropping the key reads as "no change", while in fact nothing revokes a grant
    made by hand on that object any more.
    """
    warnings = []
    for obj in head.ordered():
        had = base.get(obj.ref)
        if had is None or had.grants_mode is GrantsMode.UNMANAGED or obj.grants_mode is not GrantsMode.UNMANAGED:
            continue
        kept = "; ".join(
            f"{p} keeps {', '.join(in_reading_order(privs))}" for p, privs in sorted(had.grants.items()) if privs
        )
        warnings.append(
            f"{obj.kind.label} {obj.full_name} no longer has a `grants:` key: ucgov stops managing its grants, "
            f"and leaves them as they are ({kept or 'none were declared'})"
        )
    return warnings
