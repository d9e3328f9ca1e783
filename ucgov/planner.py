"""The planner: a pure function from (desired, live) to the changes that make live match desired.

No I/O, no clock, no environment: every test of planning needs no server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from ucgov import gates, prune, review, unusable
from ucgov.errors import Location, SpecError, SpecProblem
from ucgov.kinds import lies_under
from ucgov.kinds.base import location_refused
from ucgov.plan import (
    Action,
    Address,
    ApprovalChange,
    Change,
    Fields,
    GrantChange,
    ObjectChange,
    Plan,
    Promotion,
    Registration,
    grants_snapshot,
)
from ucgov.privileges import in_reading_order
from ucgov.state import (
    Approval,
    DesiredState,
    Gate,
    Grants,
    GrantsMode,
    Kind,
    LiveState,
    ModelVersion,
    Ref,
    RunInfo,
    Securable,
)


def diff(desired: DesiredState, live: LiveState) -> Plan:
    """The changes in apply's order: objects parents first, registrations, grants, approvals, then deletes.

    Approvals come after grants so that a failed grant leaves the old approval standing; deletes
    (where prune is on) come last, children before parents, so nothing is lost if an earlier
    change fails. Every problem
    that stops planning (unknown principals, approvals, properties) is raised at once.
    """
    ordered = desired.ordered()
    problems = unknown_principals(desired, live)
    problems += [
        p for obj in ordered for p in approval_problems(obj, live.get(obj.ref), live.runs, live.tracking_store)
    ]
    problems += [p for obj in ordered for p in promotion_problems(obj, live)]
    problems += [p for obj in ordered for p in property_problems(desired, obj, live.get(obj.ref))]
    problems += [p for obj in ordered for p in definition_problems(desired, obj, live.get(obj.ref))]
    problems += [p for obj in ordered if live.get(obj.ref) is None for p in create_problems(desired, obj, live)]
    if problems:
        raise SpecError(problems)
    object_changes = [c for obj in ordered for c in object_changes_for(obj, live.get(obj.ref))]
    approvals = [c for obj in ordered for c in approval_changes_for(obj, live.get(obj.ref), live.runs)]
    approvals += [c for obj in ordered for c in promotion_changes_for(obj, live)]
    grant_changes = [c for obj in ordered for c in grant_changes_for(obj, live.get(obj.ref))]
    changes = (
        object_changes
        + [c for c in approvals if c.action in (Action.REGISTER, Action.PROMOTE)]
        + grant_changes
        + [c for c in approvals if c.action is Action.APPROVE]
        + prune.version_changes(desired, live)
        + prune.delete_changes(desired, live)
    )
    return Plan(
        changes=tuple(changes),
        objects=tuple(o.ref for o in ordered),
        warnings=tuple(
            plan_warnings(desired, live)
            + emptied_grants_warnings(desired, grant_changes)
            + unusable.warnings(grant_changes, unusable.grants_after(desired, _read(live), _deleted(changes)))
            + prune.warnings(desired, live, changes)
        ),
        grants_modes=grants_modes(desired, changes),
        specs_digest=desired.digest,
        live_children=tuple(sorted({r for refs in live.children.values() for r in refs})),
    )


def _read(live: LiveState) -> dict[Ref, Securable]:
    """Every live object whose grants were read: the declared ones, and those prune may delete."""
    return {**live.undeclared, **live.objects}


def _deleted(changes: list[Change]) -> set[Ref]:
    return {c.address.ref for c in changes if c.action is Action.DELETE and isinstance(c.payload, ObjectChange)}


def grants_modes(desired: DesiredState, changes: list[Change]) -> dict[Ref, GrantsMode]:
    """How the grants of each object that changes are managed, so every plan can say it."""
    changed = dict.fromkeys(c.address.ref for c in changes)
    return {ref: desired.objects[ref].grants_mode for ref in changed if ref in desired.objects}


def emptied_grants_warnings(desired: DesiredState, grant_changes: list[Change]) -> list[str]:
    """`grants: {}` in authoritative mode revokes everything; a reviewer must not miss that."""
    revoked: dict[Ref, set[str]] = {}
    for change in grant_changes:
        if change.action is Action.REVOKE:
            revoked.setdefault(change.address.ref, set()).add(change.address.principal or "")
    return [
        f"{name} declares `grants: {{}}` with authoritative grants: every grant on it is revoked "
        f"({len(principals)} principal{'s' if len(principals) != 1 else ''} lose access: {', '.join(sorted(principals))})"
        for name, principals in revoked.items()
        if not (obj := desired.objects[name]).grants and obj.grants_mode is GrantsMode.AUTHORITATIVE
    ]


def diff_specs(base: DesiredState, head: DesiredState) -> Plan:
    """What merging ``head`` would change compared with ``base``, with no server: for reviews.

    Base stands in for live state, so principals and runs are not checked; approvals are
    compared as written. Policy changes and objects no longer declared (each with what apply does
    with it, as ``diff`` of the same change would) are listed for review, and a revoked USE CATALOG
    or USE SCHEMA warns of the grants it leaves unusable, as in ``diff``.
    """
    ordered = head.ordered()
    changes = [c for obj in ordered for c in object_changes_for(obj, base.get(obj.ref))]
    changes += [c for obj in ordered for c in _approval_edit(obj, base.get(obj.ref))]
    grant_changes = [c for obj in ordered for c in grant_changes_for(obj, base.get(obj.ref))]
    undeclared = review.undeclared(base, head)
    deleted = {Ref(u.kind, u.full_name) for u in undeclared if u.deleted}
    return Plan(
        changes=tuple(changes + grant_changes),
        objects=tuple(o.ref for o in ordered),
        warnings=tuple(
            prune.review_warnings(base, head)
            + review.grants_let_go(base, head)
            + unusable.warnings(grant_changes, unusable.grants_after(head, base.objects, deleted))
        ),
        policy_changes=review.policy_changes(base, head),
        undeclared=undeclared,
    )


def _approval_edit(want: Securable, had: Securable | None) -> list[Change]:
    before = had.approved if had else None
    wanted = want.approved
    # keep_versions says which versions to keep, not which one is approved
    if wanted is None or (
        before is not None and replace(wanted, keep_versions=None) == replace(before, keep_versions=None)
    ):
        return []
    payload = ApprovalChange(
        wanted.version,
        wanted.run,
        wanted.artifact_path,
        replaces=before.version if before else None,
        replaces_run=(before.run or before.lineage) if before else None,
        promoted_from=wanted.lineage,
    )
    return [
        Change(Action.APPROVE, Address(want.kind, want.full_name), payload, reason="the spec approves another version")
    ]


def plan_warnings(desired: DesiredState, live: LiveState) -> list[str]:
    warnings = []
    if live.known_principals is None and desired.principals:
        warnings.append("principals were not checked: only the metastore owner's token may list users")
    return warnings + storage_warnings(desired, live)


def storage_warnings(desired: DesiredState, live: LiveState) -> list[str]:
    """A declared storage_location (an EXTERNAL table's or volume's) under no external location, declared
    or live: no grant on a location governs who reaches those files. Checked where the live locations
    were listed (``live.to_list``; else nothing is said), which they are whenever a spec declares such a location."""
    if not any(k.spec.url_field for k in live.listed_kinds):
        return []
    urls = [
        str(o.value(o.kind.spec.url_field))
        for o in [*desired.objects.values(), *live.listed.values()]
        if o.kind.spec.url_field and o.value(o.kind.spec.url_field)
    ]
    found = []
    for obj in desired.ordered():
        field = obj.kind.spec.storage_field
        where = obj.value(field) if field else None
        if isinstance(where, str) and not any(lies_under(where, url) for url in urls):
            found.append(
                f"{obj.ref}: its {field} {where} lies under no external location, declared or live "
                "(no grant on a location governs who reaches those files)"
            )
    return found


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


def property_problems(desired: DesiredState, want: Securable, have: Securable | None) -> list[SpecProblem]:
    """The server cannot remove an object's last property: `properties: {}` cannot be reached."""
    if have is None or want.properties is None or want.properties or not have.properties:
        return []
    return [
        SpecProblem(
            desired.where(want.ref, "properties"),
            f"{want.kind.label} {want.full_name}: the server cannot clear all properties "
            f"(it keeps {sorted(have.properties)}); keep at least one property or stop managing them",
        )
    ]


def definition_problems(desired: DesiredState, want: Securable, have: Securable | None) -> list[SpecProblem]:
    """What the server cannot do: make an object whose spec lacks what creating it needs (an existing
    table is governed, never made up), or change a field it fixes at creation. Never ignored in silence."""
    spec = want.kind.spec
    if have is None:
        missing = [f for f in spec.needed_to_create if want.value(f) is None]
        if not missing:
            return []
        message = (
            f"{want.ref} does not exist on the server; to have ucgov create it, give its "
            f"{' and '.join(missing)} (or create it another way and declare it to govern it)"
        )
        return [SpecProblem(desired.where(want.ref), message)]
    return [
        SpecProblem(
            desired.where(want.ref, name),
            f"{want.ref}: {name} cannot change once it is created (the server has {_shown(_live_field(have, name))}, "
            f"the spec says {_shown(value)}); write the live value, or delete it and let ucgov create it anew",
        )
        for name, value in _managed_fields(want).items()
        if spec.create_only(name) and _live_field(have, name) != value
    ]


def create_problems(desired: DesiredState, want: Securable, live: LiveState) -> list[SpecProblem]:
    """Creates the server would refuse, foreseen from the kind's description: a plan error at the
    object, never an apply that stops with its parents made and it not."""
    spec, definition = want.kind.spec, want.definition or {}
    refused = location_refused(definition, *spec.location_fields)
    refused = refused or (spec.create_refused(definition) if spec.create_refused else None)
    if refused:
        field, why = refused
        return [SpecProblem(desired.where(want.ref, field), f"{want.ref} {why}")]
    if not (spec.managed_storage and spec.managed_storage(definition)):
        return []
    parts = want.full_name.split(".")
    around = [Ref(Kind(a.name), ".".join(parts[: a.depth])) for a in reversed(spec.ancestors)]
    if any(_root(desired.get(r)) or _root(live.get(r)) for r in around):
        return []
    message = (
        f"{want.ref} is MANAGED, but neither {' nor '.join(map(str, around))} has a storage_root, under which the "
        f"server keeps a managed {want.kind.label}'s files; give one a storage_root when it is created, or make "
        "it EXTERNAL with a storage_location"
    )
    return [SpecProblem(desired.where(want.ref, *definition), message)]


def _root(obj: Securable | None) -> bool:
    return bool(obj and obj.value("storage_root"))


def _shown(value: object) -> str:
    return "none" if value is None else json.dumps(value, ensure_ascii=False)


def object_changes_for(want: Securable, have: Securable | None) -> list[Change]:
    """Create the object if missing, else update the managed fields that differ (definition_problems
    has refused a change to a field the server fixes at creation)."""
    address = Address(want.kind, want.full_name)
    fields = _managed_fields(want)
    if have is None:
        return [Change(Action.CREATE, address, ObjectChange(after=Fields(**fields)), reason="not on the server")]
    before = {k: _live_field(have, k) for k, v in fields.items() if _live_field(have, k) != v}
    if not before:
        return []
    after = {k: fields[k] for k in before}
    payload = ObjectChange(before=Fields(**before), after=Fields(**after))
    return [Change(Action.UPDATE, address, payload, reason="differs from the spec")]


def approval_problems(
    want: Securable, have: Securable | None, runs: Mapping[str, RunInfo], store: str = ""
) -> list[SpecProblem]:
    """Why the approval cannot be planned: a missing or unready version, an unknown run, a failed gate.

    ``store`` says which MLflow tracking store was searched, for the unknown-run message."""
    approval = want.approved
    if approval is None or approval.from_model:
        return []
    where = approval.where or Location("<specs>", 1, 1)
    if approval.version is not None:
        found = {v.version: v for v in (have.versions if have else ())}
        version = found.get(approval.version)
        if version is None:
            listed = ", ".join(str(v) for v in sorted(found)) or "none"
            return [
                SpecProblem(
                    where, f"version {approval.version} of model {want.full_name} does not exist (versions: {listed})"
                )
            ]
        if not version.ready:
            message = f"version {approval.version} of model {want.full_name} is {version.status}, not READY"
            return [SpecProblem(where, message)]
        return []
    run = runs.get(approval.run or "")
    if run is None:
        searched = store or "the MLflow tracking store"
        return [SpecProblem(where, f"unknown run {approval.run}: no such run in {searched}")]
    problems = []
    registered = any(v.ready for v in _from_run(have, approval, runs))
    # a READY version holds the model already: MLflow's own registration may have removed the run's copy
    if approval.artifact_path not in run.model_paths and not registered:
        message = f"run {approval.run} has no MLflow model at artifact path '{approval.artifact_path}'"
        problems.append(SpecProblem(where, message))
    for gate in approval.require:
        failed = gates.failure(gate, run)
        if failed:
            problems.append(SpecProblem(gate.where or where, f"{want.full_name} cannot be approved: {failed}"))
    return problems


def approval_changes_for(want: Securable, have: Securable | None, runs: Mapping[str, RunInfo]) -> list[Change]:
    """Register the run as a new version if no READY version holds its model; approve the target version.

    A version holds the run's model only if it came from that run *and* that artifact path.
    """
    approval = want.approved
    if approval is None or approval.from_model:
        return []
    address = Address(want.kind, want.full_name)
    live_version = have.approved.version if have and have.approved else None
    changes = []
    target = approval.version
    if approval.run is not None:
        from_run = _from_run(have, approval, runs)
        ready = [v.version for v in from_run if v.ready]
        target = max(ready) if ready else None
        if target is None:
            unfinished = tuple(v.version for v in from_run)
            reason = (
                f"no READY version holds this run's model (unfinished: {list(unfinished)})"
                if unfinished
                else "no version holds this run's model"
            )
            payload = Registration(approval.run, approval.artifact_path, unfinished)
            changes.append(Change(Action.REGISTER, address, payload, reason=reason))
    if target is None or target != live_version:
        payload = ApprovalChange(target, approval.run, approval.artifact_path, replaces=live_version)
        reason = "the spec approves another version" if live_version else "no version is approved yet"
        changes.append(Change(Action.APPROVE, address, payload, reason=reason))
    return changes


COMMENT_LIMIT = 255
"""The server's limit on a comment, a version's too (a longer one answers HTTP 500)."""


def promotion_problems(want: Securable, live: LiveState) -> list[SpecProblem]:
    """Why a promotion cannot be planned: its source model or version is missing or not READY, it names
    the model itself, its gates need a run the source version lacks or the store does not have, or one fails."""
    approval = want.approved
    source = approval.source if approval else None
    if approval is None or source is None:
        return []
    where = approval.where or Location("<specs>", 1, 1)
    number = approval.from_version
    if source.target is None and source.model == want.full_name:
        return [SpecProblem(where, f"model {want.full_name} cannot be promoted from itself")]
    if len(approval.lineage or "") > COMMENT_LIMIT:  # the server refuses a longer version comment (HTTP 500)
        message = f"the lineage '{approval.lineage}' is longer than a version comment may be ({COMMENT_LIMIT})"
        return [SpecProblem(where, message)]
    server = live.servers.get(source.target) if source.target else None
    if source.target and server is None:
        return [SpecProblem(where, f"target {source.target}, to promote from, was not read")]
    versions = live.sources.get(source)
    if versions is None:
        on = f"target {source.target} ({server.url})" if server else "the server"
        return [SpecProblem(where, f"model {source.model}, to promote from, does not exist on {on}")]
    version = next((v for v in versions if v.version == number), None)
    if version is None:
        listed = ", ".join(str(v.version) for v in versions) or "none"
        return [SpecProblem(where, f"version {number} of model {source} does not exist (versions: {listed})")]
    if not version.ready:
        return [SpecProblem(where, f"version {number} of model {source} is {version.status}, not READY")]
    if not approval.require:
        return []
    if not version.run_id:
        message = f"version {number} of model {source} names no MLflow run, so its gates cannot be checked"
        return [SpecProblem(where, message)]
    run = live.runs.get(version.run_id)
    if run is None:
        searched = live.tracking_store or "the MLflow tracking store"
        message = f"version {number} of model {source} came from run {version.run_id}, which is not in {searched}"
        return [SpecProblem(where, message)]
    failed = [(gate, gates.failure(gate, run)) for gate in approval.require]
    return [
        SpecProblem(gate.where or where, f"{want.full_name} cannot be promoted from {source}/{number}: {why}")
        for gate, why in failed
        if why
    ]


def promotion_changes_for(want: Securable, live: LiveState) -> list[Change]:
    """Promote the source version unless a READY version carries its lineage; approve that version."""
    approval, have = want.approved, live.get(want.ref)
    if approval is None or approval.source is None or approval.lineage is None:
        return []
    address = Address(want.kind, want.full_name)
    carrying = [v for v in (have.versions if have else ()) if v.carries(approval.lineage)]
    ready = [v.version for v in carrying if v.ready]
    target = max(ready) if ready else None
    changes = []
    if target is None:
        source = next(v for v in live.sources[approval.source] if v.version == approval.from_version)
        run = live.runs.get(source.run_id or "")
        evidence = tuple((_gate_words(g), _gate_value(g, run)) for g in approval.require) if run else ()
        unfinished = tuple(v.version for v in carrying)
        server = live.servers[approval.from_target] if approval.from_target else None
        found = (source.version, source.run_id, source.source, unfinished, evidence)
        payload = Promotion(approval.source.model, *found, from_server=server)
        reason = f"no READY version of it is {approval.lineage}"
        changes.append(Change(Action.PROMOTE, address, payload, reason=reason))
    live_version = have.approved.version if have and have.approved else None
    if target is None or target != live_version:
        payload = ApprovalChange(target, replaces=live_version, promoted_from=approval.lineage)
        reason = "the spec approves another version" if live_version else "no version is approved yet"
        changes.append(Change(Action.APPROVE, address, payload, reason=reason))
    return changes


def _gate_words(gate: Gate) -> str:
    return f"{gate.kind[:-1]} {gate.name} {gate.op} {gate.value}"


def _gate_value(gate: Gate, run: RunInfo) -> str:
    found = getattr(run, gate.kind)
    return str(found[gate.name]) if gate.name in found else "absent"


def _from_run(have: Securable | None, approval: Approval, runs: Mapping[str, RunInfo]) -> list[ModelVersion]:
    """The live versions holding the model the approval's run logged at its artifact path."""
    run = runs.get(approval.run or "")
    sources = run.sources(approval.artifact_path) if run else ()
    versions = have.versions if have else ()
    return [v for v in versions if v.came_from(approval.run or "", approval.artifact_path, sources=sources)]


def grant_changes_for(want: Securable, have: Securable | None) -> list[Change]:
    """Per principal, privileges to grant, and (authoritative mode) privileges to revoke.

    An object whose spec has no `grants:` key keeps whatever the server has.
    """
    if want.grants_mode is GrantsMode.UNMANAGED:
        return []
    live: Grants = have.grants if have else {}
    authoritative = want.grants_mode is GrantsMode.AUTHORITATIVE
    whole = grants_snapshot(live) if authoritative else None
    changes = []
    for principal in sorted(set(want.grants) | set(live)):
        wanted = want.grants.get(principal, frozenset())
        held = live.get(principal, frozenset())
        address = Address(want.kind, want.full_name, principal)
        if wanted - held:
            payload = GrantChange(in_reading_order(wanted - held), held, want.grants_mode, whole)
            changes.append(Change(Action.GRANT, address, payload, reason="in the spec"))
        if held - wanted and authoritative:
            payload = GrantChange(in_reading_order(held - wanted), held, want.grants_mode, whole)
            changes.append(Change(Action.REVOKE, address, payload, reason="not in the spec; grants are authoritative"))
    return changes


def _managed_fields(obj: Securable) -> dict:
    """The fields the spec writes (a field it leaves out is not managed), in the kind's order."""
    return {f.name: obj.value(f.name) for f in obj.kind.spec.fields if obj.value(f.name) is not None}


def _live_field(obj: Securable, name: str):
    value = obj.value(name)
    if name == "properties":
        return dict(value or {})
    return value
