"""Apply: carry out a plan's changes, in its order, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ucgov import versions
from ucgov.approval import join_comment, split_comment
from ucgov.client import UCClient
from ucgov.errors import ApiError, ApplyError, StalePlanError, UcgovError
from ucgov.live import read_objects
from ucgov.plan import Action, Change, Plan
from ucgov.planfile import SavedPlan, fingerprint
from ucgov.state import Kind


@dataclass(frozen=True)
class Step:
    """One request's worth of work: an object change, or every grant change on one object."""

    changes: tuple[Change, ...]

    @property
    def is_grants(self) -> bool:
        return self.changes[0].action.is_grant

    def describe(self) -> list[str]:
        return [c.describe() for c in self.changes]


def apply_steps(plan: Plan) -> list[Step]:
    """The plan's changes as requests: grant changes on one object go together in one PATCH,
    at the place of that object's first grant change."""
    groups: dict[object, list[Change]] = {}
    for index, change in enumerate(plan.changes):
        key = (change.address.kind, change.address.full_name) if change.action.is_grant else index
        groups.setdefault(key, []).append(change)
    return [Step(tuple(changes)) for changes in groups.values()]


def apply_plan(plan: Plan, client: UCClient, *, progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Make each change; on the first failure raise ApplyError listing what was and wasn't applied."""
    steps = apply_steps(plan)
    registered: dict[str, int] = {}  # model -> version registered by this apply, for its approval
    applied: list[str] = []
    for index, step in enumerate(steps):
        try:
            done = _run(step, client, registered)
        except UcgovError as exc:
            pending = [line for s in steps[index:] for line in s.describe()]
            raise ApplyError(exc, applied, pending) from exc
        for line in done:
            applied.append(line)
            progress(line)
    return applied


def ensure_fresh(saved: SavedPlan, client: UCClient) -> None:
    """Refuse a saved plan if any object it touches changed on the server since it was made."""
    live = read_objects(client, saved.fingerprints)
    changed = [name for name, seen in saved.fingerprints.items() if fingerprint(live.get(name)) != seen]
    if changed:
        raise StalePlanError(changed)


def _run(step: Step, client: UCClient, registered: dict[str, int]) -> list[str]:
    """Carry out one step; returns what was done, in words."""
    if step.is_grants:
        first = step.changes[0].address
        client.update_grants(first.kind, first.full_name, _permission_changes(step.changes))
        return step.describe()
    change = step.changes[0]
    if change.action is Action.CREATE:
        _create(change, client)
    elif change.action is Action.UPDATE:
        _update(change, client)
    elif change.action is Action.REGISTER:
        registered[change.address.full_name] = versions.register(client, change)
        version = registered[change.address.full_name]
        return [f"register run {change.after['run']} as version {version} of model {change.address.full_name}"]
    elif change.action is Action.APPROVE:
        version = _approve(change, client, registered)
        return [f"approve version {version} of model {change.address.full_name}"]
    else:
        raise UcgovError(f"apply does not know how to {change.action.value} {change.address}")
    return step.describe()


def _update(change: Change, client: UCClient) -> None:
    kind, name = change.address.kind, change.address.full_name
    fields = dict(change.after)
    if kind is Kind.MODEL and "comment" in fields:  # keep the approval line under the new comment
        _, approved = split_comment((client.get_securable(kind, name) or {}).get("comment"))
        fields["comment"] = join_comment(fields["comment"], approved)
    client.update_securable(kind, name, fields)


def _approve(change: Change, client: UCClient, registered: dict[str, int]) -> int:
    """One write of the model's comment: the person's text kept, the approval line set."""
    name = change.address.full_name
    version = (
        change.after["version"] or registered.get(name) or versions.ready_from_run(client, name, change.after["run"])
    )
    human, current = split_comment((client.get_securable(Kind.MODEL, name) or {}).get("comment"))
    if current not in (change.before["version"], version):
        raise UcgovError(
            f"the approved version of model {name} changed since the plan (planned from {change.before['version']}, "
            f"now {current}); run plan again"
        )
    client.update_securable(Kind.MODEL, name, {"comment": join_comment(human, version)})
    return version


def _create(change: Change, client: UCClient) -> None:
    """Create the object; one that already exists with the same content counts as created."""
    kind, name = change.address.kind, change.address.full_name
    try:
        client.create_securable(kind, name, dict(change.after))
    except ApiError as exc:
        if not (exc.already_exists or exc.status == 409):
            raise
        live = client.get_securable(kind, name) or {}
        differing = sorted(
            k for k, v in change.after.items() if (live.get(k) or ({} if k == "properties" else None)) != v
        )
        if differing:
            raise UcgovError(
                f"{kind.label} {name} was created by someone else meanwhile, with different {', '.join(differing)}; "
                "run plan again"
            ) from exc


def _permission_changes(changes: tuple[Change, ...]) -> list[dict]:
    per_principal: dict[str, dict[str, list[str]]] = {}
    for change in changes:
        entry = per_principal.setdefault(change.address.principal or "", {"add": [], "remove": []})
        if change.action is Action.GRANT:
            entry["add"] += change.after
        else:
            entry["remove"] += change.before
    return [{"principal": p, **entry} for p, entry in per_principal.items()]
