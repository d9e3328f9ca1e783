"""The planner: a pure function from (desired, live) to the changes that make live match desired.

No I/O, no clock, no environment: every test of planning needs no server.
"""

from __future__ import annotations

from collections.abc import Mapping

from ucgov import gates, review
from ucgov.approval import room_for_comment
from ucgov.errors import Location, PlanError, SpecError, SpecProblem
from ucgov.plan import Action, Address, Change, Plan
from ucgov.privileges import in_reading_order
from ucgov.state import DesiredState, Grants, GrantsMode, Kind, LiveState, RunInfo, Securable

_LARGEST_VERSION = 99999  # room kept in a model's comment for the approval line


def diff(desired: DesiredState, live: LiveState) -> Plan:
    """The changes, parents first, object changes before the grants that need those objects."""
    problems = unknown_principals(desired, live)
    if problems:
        raise SpecError(problems)
    ordered = desired.ordered()
    object_changes = [c for obj in ordered for c in object_changes_for(obj, live.get(obj.full_name))]
    problems = [p for obj in ordered for p in approval_problems(obj, live.get(obj.full_name), live.runs)]
    if problems:
        raise SpecError(problems)
    approvals = [c for obj in ordered for c in approval_changes_for(obj, live.get(obj.full_name), live.runs)]
    registers = [c for c in approvals if c.action is Action.REGISTER]
    approves = [c for c in approvals if c.action is Action.APPROVE]
    grant_changes = [c for obj in ordered for c in grant_changes_for(obj, live.get(obj.full_name))]
    return Plan(
        changes=tuple(object_changes + registers + approves + grant_changes),
        objects=tuple(o.full_name for o in ordered),
        warnings=tuple(plan_warnings(desired, live)),
        live_children=tuple(sorted({name for names in live.children.values() for name in names})),
    )


def diff_specs(base: DesiredState, head: DesiredState) -> Plan:
    """What merging ``head`` would change compared with ``base``, with no server: for reviews.

    Base stands in for live state, so principals and runs are not checked; approvals are
    compared as written. Policy changes and objects no longer declared are listed for review.
    """
    ordered = head.ordered()
    changes = [c for obj in ordered for c in object_changes_for(obj, base.get(obj.full_name))]
    changes += [c for obj in ordered for c in _approval_edit(obj, base.get(obj.full_name))]
    changes += [c for obj in ordered for c in grant_changes_for(obj, base.get(obj.full_name))]
    return Plan(
        changes=tuple(changes),
        objects=tuple(o.full_name for o in ordered),
        policy_changes=review.policy_changes(base, head),
        undeclared=review.undeclared(base, head),
    )


def _approval_edit(want: Securable, had: Securable | None) -> list[Change]:
    before = had.approved if had else None
    if want.approved is None or want.approved == before:
        return []
    after = {"version": want.approved.version, "run": want.approved.run}
    was = {"version": before.version, "run": before.run} if before else {"version": None}
    return [
        Change(
            Action.APPROVE,
            Address(Kind.MODEL, want.full_name),
            before=was,
            after=after,
            reason="the spec approves another version",
        )
    ]


def plan_warnings(desired: DesiredState, live: LiveState) -> list[str]:
    warnings = []
    if live.known_principals is None and desired.principals:
        warnings.append("principals were not checked: only the metastore owner's token may list users")
    if desired.prune:
        warnings.append("settings.prune is not supported yet: ucgov deletes nothing, whatever the specs say")
    return warnings


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


def approval_problems(want: Securable, have: Securable | None, runs: Mapping[str, RunInfo]) -> list[SpecProblem]:
    """Why the approval cannot be planned: a missing or unready version, an unknown run, a failed gate."""
    approval = want.approved
    if approval is None:
        return []
    where = approval.where or Location("?", 0, 0)
    problems = []
    if want.comment and len(want.comment) > room_for_comment(_LARGEST_VERSION):
        room = room_for_comment(_LARGEST_VERSION)
        problems.append(
            SpecProblem(
                where,
                f"the comment of {want.full_name} is {len(want.comment)} characters; with the approval line it must be at most {room}",
            )
        )
    if approval.version is not None:
        found = {v.version: v for v in (have.versions if have else ())}
        version = found.get(approval.version)
        if version is None:
            listed = ", ".join(str(v) for v in sorted(found)) or "none"
            problems.append(
                SpecProblem(
                    where, f"version {approval.version} of model {want.full_name} does not exist (versions: {listed})"
                )
            )
        elif not version.ready:
            problems.append(
                SpecProblem(
                    where, f"version {approval.version} of model {want.full_name} is {version.status}, not READY"
                )
            )
        return problems
    run = runs.get(approval.run or "")
    if run is None:
        return problems + [SpecProblem(where, f"unknown run {approval.run}: the MLflow tracking store has no such run")]
    if approval.artifact_path not in run.model_paths:
        message = f"run {approval.run} has no MLflow model at artifact path '{approval.artifact_path}'"
        problems.append(SpecProblem(where, message))
    for gate in approval.require:
        failed = gates.failure(gate, run)
        if failed:
            problems.append(SpecProblem(gate.where or where, f"{want.full_name} cannot be approved: {failed}"))
    return problems


def approval_changes_for(want: Securable, have: Securable | None, runs: Mapping[str, RunInfo]) -> list[Change]:
    """Register the run as a new version if no READY version came from it; approve the target version."""
    approval = want.approved
    if approval is None:
        return []
    address = Address(Kind.MODEL, want.full_name)
    versions = have.versions if have else ()
    live_version = have.approved.version if have and have.approved else None
    changes = []
    target = approval.version
    if approval.run is not None:
        from_run = [v.version for v in versions if v.run_id == approval.run and v.ready]
        target = max(from_run) if from_run else None
        if target is None:
            after = {"run": approval.run, "artifact_path": approval.artifact_path}
            unfinished = [v.version for v in versions if v.run_id == approval.run]
            reason = (
                f"no READY version came from this run (unfinished: {unfinished})"
                if unfinished
                else "no version came from this run"
            )
            changes.append(
                Change(Action.REGISTER, address, before={"unfinished": unfinished}, after=after, reason=reason)
            )
    if target is None or target != live_version:
        after = {"version": target, "run": approval.run}
        reason = "the spec approves another version" if live_version else "no version is approved yet"
        changes.append(Change(Action.APPROVE, address, before={"version": live_version}, after=after, reason=reason))
    return changes


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
