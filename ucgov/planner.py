"""The planner: a pure function from (desired, live) to the changes that make live match desired.

No I/O, no clock, no environment: every test of planning needs no server.
"""

from __future__ import annotations

from ucgov.errors import PlanError, SpecError, SpecProblem
from ucgov.plan import Action, Address, Change, Plan
from ucgov.privileges import in_reading_order
from ucgov.state import DesiredState, Grants, GrantsMode, LiveState, Securable


def diff(desired: DesiredState, live: LiveState) -> Plan:
    """The changes, parents first, object changes before the grants that need those objects."""
    problems = unknown_principals(desired, live)
    if problems:
        raise SpecError(problems)
    ordered = desired.ordered()
    object_changes = [c for obj in ordered for c in object_changes_for(obj, live.get(obj.full_name))]
    grant_changes = [c for obj in ordered for c in grant_changes_for(obj, live.get(obj.full_name))]
    return Plan(
        changes=tuple(object_changes + grant_changes),
        objects=tuple(o.full_name for o in ordered),
        warnings=tuple(unchecked_principals(desired, live)),
    )


def unchecked_principals(desired: DesiredState, live: LiveState) -> list[str]:
    if live.known_principals is not None or not desired.principals:
        return []
    return ["principals were not checked: only the metastore owner's token may list users"]


def unknown_principals(desired: DesiredState, live: LiveState) -> list[SpecProblem]:
    """Principals the specs name that the server does not know, at every place they are named."""
    if live.known_principals is None:
        return []
    return [
        SpecProblem(
            where,
            f"unknown principal '{principal}': no active user by that name on the server (names are exact and case-sensitive)",
        )
        for principal, places in desired.principals.items()
        if principal not in live.known_principals
        for where in places
    ]


def object_changes_for(want: Securable, have: Securable | None) -> list[Change]:
    """Create the object if missing, else update the managed fields that differ."""
    address = Address(want.kind, want.full_name)
    fields = _managed_fields(want)
    if have is None:
        return [Change(Action.CREATE, address, after=fields, reason="not on the server")]
    before = {k: _live_field(have, k) for k, v in fields.items() if _live_field(have, k) != v}
    if not before:
        return []
    if "properties" in before and not fields["properties"]:
        raise PlanError(
            f"{want.kind.label} {want.full_name}: the server cannot clear all properties "
            f"(it keeps {sorted(have.properties or {})}); keep at least one property or stop managing them"
        )
    after = {k: fields[k] for k in before}
    return [Change(Action.UPDATE, address, before=before, after=after, reason="differs from the spec")]


def grant_changes_for(want: Securable, have: Securable | None) -> list[Change]:
    """Per principal, privileges to grant, and (authoritative mode) privileges to revoke."""
    live: Grants = have.grants if have else {}
    changes = []
    for principal in sorted(set(want.grants) | set(live)):
        wanted = want.grants.get(principal, frozenset())
        held = live.get(principal, frozenset())
        address = Address(want.kind, want.full_name, principal)
        if wanted - held:
            changes.append(Change(Action.GRANT, address, after=in_reading_order(wanted - held), reason="in the spec"))
        if held - wanted and want.grants_mode is GrantsMode.AUTHORITATIVE:
            reason = "not in the spec; grants are authoritative"
            changes.append(Change(Action.REVOKE, address, before=in_reading_order(held - wanted), reason=reason))
    return changes


def _managed_fields(obj: Securable) -> dict:
    fields: dict = {}
    if obj.comment is not None:
        fields["comment"] = obj.comment
    if obj.properties is not None:
        fields["properties"] = dict(obj.properties)
    return fields


def _live_field(obj: Securable, name: str):
    value = getattr(obj, name)
    if name == "properties":
        return dict(value or {})
    return value
