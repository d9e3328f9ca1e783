"""Is a planned change still to do, already done, or has its object moved elsewhere?

Every change carries the live value it was planned against (see ``ucgov.plan``). Comparing
that and the change's result with what the server has now tells apply, with no I/O here:

- PENDING: the server still holds the planned-against value; make the change.
- DONE: the server already holds the result (an earlier, interrupted apply made it); skip it.
- MOVED: neither: someone changed the object since; the plan is stale for it.

This is the one place where a saved plan's freshness is decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from ucgov.plan import (
    Action,
    ApprovalChange,
    Change,
    GrantChange,
    ObjectChange,
    Promotion,
    Registration,
    VersionDeletion,
    grants_snapshot,
)
from ucgov.state import LiveState, Securable


class Status(str, Enum):
    PENDING = "pending"
    DONE = "done"
    MOVED = "moved"


def status(change: Change, live: Securable | None) -> Status:
    """Where ``change`` stands against the live object ``live`` (None: the object does not exist)."""
    p = change.payload
    if isinstance(p, ObjectChange):
        return _object_status(change.action, p, live)
    if isinstance(p, GrantChange):
        return _grant_status(change, p, live)
    if isinstance(p, Registration):
        return Status.DONE if live and _ready_from(live, p.run, p.artifact_path) else Status.PENDING
    if isinstance(p, Promotion):
        return Status.DONE if live and _promoted(live, p.lineage) else Status.PENDING
    if isinstance(p, VersionDeletion):
        return _version_deletion_status(p, live)
    return _approval_status(p, live)


def statuses(changes: Iterable[Change], live: LiveState) -> list[Status]:
    # a delete's object is undeclared, so a plan's own live state holds it apart from the declared ones
    return [status(c, live.get(c.address.ref) or live.undeclared.get(c.address.ref)) for c in changes]


def _object_status(action: Action, p: ObjectChange, live: Securable | None) -> Status:
    if action is Action.DELETE:
        if live is None:
            return Status.DONE
        return Status.PENDING if not _what_goes_moved(p, live) else Status.MOVED
    if live is None:
        return Status.PENDING if action is Action.CREATE else Status.MOVED
    wanted = p.after.as_dict() if p.after else {}
    if _values(live, wanted) == wanted:
        return Status.DONE
    planned = p.before.as_dict() if p.before else None
    if action is Action.UPDATE and planned is not None and _values(live, planned) == planned:
        return Status.PENDING
    return Status.MOVED


def _what_goes_moved(p: ObjectChange, live: Securable) -> bool:
    """Whether the object to delete differs from what the plan showed goes with it.

    A version, child or grant gone since is fine (less goes than reviewed); a new one, another
    approved version, or other field values than those shown is not: the review listed who loses
    which grants with the object, and a grant made since was not among them.
    """
    if {v.version for v in live.versions} - set(p.versions):
        return True
    if (live.approved.version if live.approved else None) != p.approved:
        return True
    if live.children is not None and set(live.children) - set(p.children):
        return True
    if _grant_pairs(tuple((who, tuple(privs)) for who, privs in live.grants.items())) - _grant_pairs(p.grants):
        return True
    planned = p.before.as_dict() if p.before else {}
    return _values(live, planned) != planned


def _grant_pairs(grants: tuple[tuple[str, tuple[str, ...]], ...]) -> set[tuple[str, str]]:
    return {(who, privilege) for who, privileges in grants for privilege in privileges}


def _values(live: Securable, names: dict) -> dict:
    """The live values of the fields named (a change's fields), None being a value."""
    return {name: dict(live.properties or {}) if name == "properties" else live.value(name) for name in names}


def _grant_status(change: Change, p: GrantChange, live: Securable | None) -> Status:
    held = live.grants.get(change.address.principal or "", frozenset()) if live else frozenset()
    privileges = set(p.privileges)
    done = privileges <= held if change.action is Action.GRANT else not (privileges & held)
    if done:
        return Status.DONE
    if p.object_held is not None:  # authoritative: the whole set of grants is what was reviewed
        now = grants_snapshot(live.grants) if live else ()
        return Status.PENDING if now == p.object_held else Status.MOVED
    return Status.PENDING if held == p.held else Status.MOVED


def _approval_status(p: ApprovalChange, live: Securable | None) -> Status:
    approved = live.approved.version if live and live.approved else None
    target = p.version
    if target is None and live is not None and p.promoted_from is not None:
        target = _promoted(live, p.promoted_from)
    elif target is None and live is not None and p.run is not None:
        target = _ready_from(live, p.run, p.artifact_path)
    if target is not None and approved == target:
        return Status.DONE
    return Status.PENDING if approved == p.replaces else Status.MOVED


def _version_deletion_status(p: VersionDeletion, live: Securable | None) -> Status:
    if live is None or p.version not in {v.version for v in live.versions}:
        return Status.DONE
    approved = live.approved.version if live.approved else None
    return Status.MOVED if approved == p.version else Status.PENDING


def _promoted(live: Securable, lineage: str) -> int | None:
    """The newest READY version whose comment carries the promotion's lineage: done means that, not a copy's name."""
    ready = [v.version for v in live.versions if v.ready and v.carries(lineage)]
    return max(ready) if ready else None


def _ready_from(live: Securable, run: str, artifact_path: str) -> int | None:
    ready = [v.version for v in live.versions if v.ready and v.came_from(run, artifact_path)]
    return max(ready) if ready else None
