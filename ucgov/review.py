"""What a change to the specs does besides object and grant changes, for `ucgov diff`.

Pure functions of two desired states: policies added, removed or rewritten, and the objects
a change stops declaring with the grants that ucgov then stops governing (they stay on the
server as they are, and drift on them is no longer reverted).
"""

from __future__ import annotations

from ucgov.plan import PolicyChange, Undeclared
from ucgov.privileges import in_reading_order
from ucgov.state import DesiredState, GrantsMode


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
    """Objects declared at base but not at head, parents first, with the grants base declared."""
    return tuple(
        Undeclared(
            obj.kind,
            obj.full_name,
            tuple((p, in_reading_order(privileges)) for p, privileges in sorted(obj.grants.items()) if privileges),
        )
        for obj in base.ordered()
        if head.get(obj.ref) is None
    )


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
