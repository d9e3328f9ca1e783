"""The plan: plain data passed between planner, renderers, plan files and apply.

It imports nothing that does I/O. Each change carries one small payload per kind of action
(each says what it does, how a plan file holds it, how it shows and reads in one line),
and every payload holds the live value the change expects to find (its precondition), so
apply can tell a step still to do from one already done or one whose object moved:

    action            payload          precondition it carries
    create, update,   ObjectChange     before: the live values of the changed fields
      delete                           (None for create: the object is absent); a delete
                                       also what goes with it: a model's versions and
                                       approved version, a schema's children
    grant, revoke     GrantChange      held: the principal's privileges on the object, and
                                       in authoritative mode every principal's (object_held)
    register          Registration     (none: a READY version from the run means done)
    promote           Promotion        (none: a READY version carrying its lineage means done)
    approve           ApprovalChange   replaces: the approved version when planned
    delete (version)  VersionDeletion  (none: absent means done; apply refuses if it is now approved)

A delete also says, for display, what goes with it that the server does not remove itself or
show: the files of a model or version (``Files``), and the grants made on the object.

``Change.before`` and ``Change.after`` give the same facts as plain values for display and
for ``plan --format json``; apply never reads them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ucgov.state import Grants, GrantsMode, Kind, Policy, Ref, Server, Source, lineage


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    GRANT = "grant"
    REVOKE = "revoke"
    REGISTER = "register"
    PROMOTE = "promote"
    APPROVE = "approve"

    @property
    def marker(self) -> str:
        marks = {"create": "+", "grant": "+", "register": "+", "promote": "+", "delete": "-", "revoke": "-"}
        return marks.get(self.value, "~")

    @property
    def is_grant(self) -> bool:
        return self in (Action.GRANT, Action.REVOKE)


@dataclass(frozen=True, order=True)
class Address:
    """Which object a change is about; grant changes also name the principal."""

    kind: Kind
    full_name: str
    principal: str | None = None

    def __str__(self) -> str:
        return f"{self.full_name} ({self.principal})" if self.principal else self.full_name

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.full_name)


class _Unmanaged:
    """The value of a field a change is not about (None is a real value: "no comment")."""

    def __repr__(self) -> str:
        return "UNMANAGED"

    def __reduce__(self) -> str:  # copies stay the one sentinel
        return "UNMANAGED"


UNMANAGED = _Unmanaged()
"""A field left out of a change; a field set to None is managed and holds no value."""


class Fields:
    """An object's fields as one change is about them, by name: a field left out (or given as
    UNMANAGED) is not part of it, and None is a value (the object has no comment), so "add a comment
    where none is" round-trips. Which names there are is the kind's (``KindSpec.fields``)."""

    __slots__ = ("_values",)

    def __init__(self, **values: Any) -> None:
        found = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in values.items() if v is not UNMANAGED}
        object.__setattr__(self, "_values", found)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Fields are frozen")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._values.get(name, UNMANAGED)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fields) and _canonical(self._values) == _canonical(other._values)

    def __hash__(self) -> int:
        return hash(_canonical(self._values))

    def __repr__(self) -> str:
        return f"Fields({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"

    def __reduce__(self) -> tuple:
        return (_fields, (self._values,))

    def as_dict(self) -> dict[str, Any]:
        """The fields the change is about, comment first, as plain values (None included)."""
        ordered = sorted(self._values, key=lambda k: (k != "comment", k != "properties", k))
        return {k: json.loads(json.dumps(self._values[k])) for k in ordered}


def _fields(values: dict[str, Any]) -> Fields:
    return Fields(**values)


def _canonical(values: Mapping[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=str)


@dataclass(frozen=True)
class Files:
    """Where a deleted model's or version's files are, and whether apply removes them.

    The server leaves them in place when it deletes; for display, never steers apply (apply
    removes what the server names at the time of the delete).
    """

    location: str
    removed: bool
    why_kept: str = ""
    """When they stay: why, in words."""

    def document(self) -> dict[str, Any]:
        """As a plan file holds it, for display only: apply removes what the server names, never a path from a file."""
        return {"files": {"location": self.location, "removed": self.removed, "why_kept": self.why_kept}}

    def sentence(self, whose: str = "its") -> str:
        if self.removed:
            return f"{whose} files at {self.location} are removed"
        return f"{whose} files stay at {self.location}: {self.why_kept}"


@dataclass(frozen=True)
class ObjectChange:
    """Create, update or delete an object. ``before`` holds the live values of the fields that
    change (None when creating); ``after`` the values to write (None when deleting).

    A delete also records what the plan showed goes with the object; apply refuses (stale) if
    any of it is different on the server by then.
    """

    before: Fields | None = None
    after: Fields | None = None
    versions: tuple[int, ...] = ()
    """Deleting a model: the versions that go with it."""
    approved: int | None = None
    """Deleting a model: the approved version it held when planned (None: none)."""
    children: tuple[Ref, ...] = ()
    """Deleting a schema or catalog: the live objects inside it when planned."""
    files: Files | None = None
    """Deleting a model: its files (every version's), for display."""
    grants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Deleting: the grants made on the object, lost with it, as ``grants_snapshot``; for display."""

    def effect(self) -> tuple:
        """What it does to the server, comparable across plans; what it expects is left out."""
        return (json.dumps(self.after.as_dict() if self.after else None, sort_keys=True),)

    def shown(self, action: Action) -> tuple[Any, Any]:
        """(the live side, the planned side) as plain values, for display."""
        return (self.before.as_dict() if self.before else None, self.after.as_dict() if self.after else None)

    def describe(self, action: Action, address: Address) -> str:
        """One line for apply's progress and error reports."""
        return f"{action.value} {address.kind.label} {address.full_name}"

    def document(self) -> dict[str, Any]:
        """As a plan file holds it: only the fields it is about; a delete also what goes with it."""
        found: dict[str, Any] = {"before": _fields_document(self.before), "after": _fields_document(self.after)}
        if self.after is None:
            found |= {"versions": list(self.versions), "approved": self.approved}
            found |= {"children": [[r.kind.value, r.full_name] for r in self.children]}
            found |= {"grants": [[name, list(privs)] for name, privs in self.grants]} if self.grants else {}
            found |= self.files.document() if self.files else {}
        return found


@dataclass(frozen=True)
class VersionDeletion:
    """Delete one version of the address's model (keep_versions)."""

    version: int
    files: Files | None = None
    """The version's files, for display."""

    def effect(self) -> tuple:
        return ("version", self.version)

    def shown(self, action: Action) -> tuple[Any, Any]:
        return ({"version": self.version}, None)

    def describe(self, action: Action, address: Address) -> str:
        return f"delete version {self.version} of model {address.full_name}"

    def document(self) -> dict[str, Any]:
        return {"version": self.version} | (self.files.document() if self.files else {})


@dataclass(frozen=True)
class GrantChange:
    """Privileges added (grant) or removed (revoke) for the address's principal."""

    privileges: tuple[str, ...]
    """In reading order."""
    held: frozenset[str] = frozenset()
    """What the principal held directly on the object when planned."""
    mode: GrantsMode = GrantsMode.AUTHORITATIVE
    object_held: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    """Authoritative mode only: every principal's privileges on the object when planned, sorted.

    "These grants and no others" was reviewed against exactly this: a grant anyone made on the
    object since (even to another principal) makes the change stale, not quietly kept.
    """

    def effect(self) -> tuple:
        return (tuple(sorted(self.privileges)),)

    def shown(self, action: Action) -> tuple[Any, Any]:
        return (self.privileges, None) if action is Action.REVOKE else (None, self.privileges)

    def describe(self, action: Action, address: Address) -> str:
        verb, preposition = ("grant", "to") if action is Action.GRANT else ("revoke", "from")
        where = f"{address.kind.label} {address.full_name}"
        return f"{verb} {', '.join(self.privileges)} on {where} {preposition} {address.principal}"

    def document(self) -> dict[str, Any]:
        whole = None if self.object_held is None else [[name, list(privs)] for name, privs in self.object_held]
        found = {"privileges": list(self.privileges), "held": sorted(self.held), "mode": self.mode.value}
        return found | {"object_held": whole}

    @property
    def removes_all(self) -> bool:
        """A revoke after which the principal holds nothing on the object it had access to."""
        return bool(self.held) and self.held <= set(self.privileges)


def grants_snapshot(grants: Grants) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """An object's grants as sorted plain data, to compare with later."""
    return tuple((p, tuple(sorted(privs))) for p, privs in sorted(grants.items()) if privs)


@dataclass(frozen=True)
class Registration:
    """Register the model that ``run`` logged at ``artifact_path`` as a new version."""

    run: str
    artifact_path: str = "model"
    unfinished: tuple[int, ...] = ()
    """Versions from this run and path that an earlier apply left unfinished; apply finishes one."""

    def effect(self) -> tuple:
        return (self.run, self.artifact_path)

    def shown(self, action: Action) -> tuple[Any, Any]:
        return ({"unfinished": list(self.unfinished)}, {"run": self.run, "artifact_path": self.artifact_path})

    def describe(self, action: Action, address: Address) -> str:
        path = f"(artifact path '{self.artifact_path}')"
        return f"register run {self.run} {path} as a new version of model {address.full_name}"

    def document(self) -> dict[str, Any]:
        return {"run": self.run, "artifact_path": self.artifact_path, "unfinished": list(self.unfinished)}


@dataclass(frozen=True)
class Promotion:
    """Copy version ``from_version`` of model ``from_model`` (on this server, or on ``from_server``) into
    the address's model as a new version, its comment carrying the lineage (``state.lineage``); the
    source is never changed."""

    from_model: str
    from_version: int
    run_id: str | None = None
    """The source version's run, as planned: apply refuses if the server names another by then."""
    source: str | None = None
    """The source version's source (where its model came from), which the new version records too."""
    unfinished: tuple[int, ...] = ()
    """Versions with this lineage that an earlier apply left unfinished; apply finishes one."""
    evidence: tuple[tuple[str, str], ...] = ()
    """For display: each gate the source version's run was checked against, and the run's value."""
    from_server: Server | None = None
    """Another target's server holding the source, as apply reaches it (a saved plan too); None: this one."""

    @property
    def named(self) -> Source:
        """The source model and its target, as people read it (``dev:dev_ml.fraud.scorer``)."""
        return Source(self.from_model, self.from_server.target if self.from_server else None)

    @property
    def lineage(self) -> str:
        return lineage(self.from_model, self.from_version, self.named.target)

    def effect(self) -> tuple:
        return (self.from_model, self.from_version, self.from_server)

    def shown(self, action: Action) -> tuple[Any, Any]:
        promoted = {"from": self.from_model, "version": self.from_version, "run": self.run_id}
        server = self.from_server
        where = {"target": server.target, "url": server.url} if server else {}
        return ({"unfinished": list(self.unfinished)}, promoted | where | {"gates": dict(self.evidence)})

    def describe(self, action: Action, address: Address) -> str:
        return f"promote {self.named}/{self.from_version} → new version of {address.full_name}"

    def document(self) -> dict[str, Any]:
        found = {"from": self.from_model, "version": self.from_version, "run_id": self.run_id, "source": self.source}
        found |= {"unfinished": list(self.unfinished), "evidence": [list(e) for e in self.evidence]}
        server = self.from_server
        if server is None:
            return found
        return found | {"from_target": {"name": server.target, "url": server.url, "token_env": server.token_env}}


@dataclass(frozen=True)
class ApprovalChange:
    """Approve ``version``, or (version None) the READY version registered from ``run``, or promoted
    from ``promoted_from`` (a lineage line, ``promoted from MODEL/N``)."""

    version: int | None
    run: str | None = None
    artifact_path: str = "model"
    replaces: int | None = None
    """The approved version when planned."""
    replaces_run: str | None = None
    """For reviews between revisions only: the run the base revision approved."""
    promoted_from: str | None = None

    def effect(self) -> tuple:
        # approving "the version from run R" becomes "version N" once an earlier apply registered it
        if self.promoted_from:
            return ("promoted", self.promoted_from)
        return ("run", self.run, self.artifact_path) if self.run else ("version", self.version)

    def shown(self, action: Action) -> tuple[Any, Any]:
        after = {"version": self.version, "run": self.run}
        return (
            {"version": self.replaces},
            after | ({"promoted_from": self.promoted_from} if self.promoted_from else {}),
        )

    def describe(self, action: Action, address: Address) -> str:
        if self.version:
            which = f"version {self.version}"
        elif self.promoted_from:
            which = f"the version {self.promoted_from}"
        else:
            which = f"the version from run {self.run}"
        return f"approve {which} of model {address.full_name}"

    def document(self) -> dict[str, Any]:
        found = {"version": self.version, "run": self.run, "artifact_path": self.artifact_path}
        return (
            found | {"replaces": self.replaces} | ({"promoted_from": self.promoted_from} if self.promoted_from else {})
        )


Payload = ObjectChange | GrantChange | Registration | Promotion | ApprovalChange | VersionDeletion
"""Each payload type says what it does to the server (``effect``), how a plan file holds it
(``document``), how it shows (``shown``: before and after as plain values) and in one line (``describe``)."""


def _fields_document(fields: Fields | None) -> dict[str, Any] | None:
    """Only the fields the change is about; a key with null means "managed, and holds nothing"."""
    return None if fields is None else fields.as_dict()


@dataclass(frozen=True)
class Change:
    action: Action
    address: Address
    payload: Payload
    reason: str = ""
    """For people reading the plan only; apply never looks at it."""

    @property
    def before(self) -> Any:
        """The live side, as plain values, for display."""
        return self.payload.shown(self.action)[0]

    @property
    def after(self) -> Any:
        """The planned side, as plain values, for display."""
        return self.payload.shown(self.action)[1]

    def describe(self) -> str:
        """One line for apply's progress and error reports."""
        return self.payload.describe(self.action, self.address)


@dataclass(frozen=True)
class PolicyChange:
    """A policy added, removed or rewritten between two revisions of the specs (ucgov diff)."""

    name: str
    before: Policy | None = None
    """The policy at the base revision; None when the head adds it."""
    after: Policy | None = None
    """The policy at the head revision; None when the head removes it."""

    @property
    def marker(self) -> str:
        return "+" if self.before is None else "-" if self.after is None else "~"


@dataclass(frozen=True)
class Undeclared:
    """An object the head stops declaring (ucgov diff): ucgov no longer governs its grants, and
    either leaves it on the server as it is or, where the head prunes, deletes it on apply."""

    kind: Kind
    full_name: str
    grants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(principal, privileges in reading order) as the base declared them, by principal."""
    deleted: bool = False
    """Whether apply (given --allow-destroy) deletes it: the head's prune reaches it and its kind is prunable."""
    why: str = ""
    """Why it is deleted or left, in words: ``prune is on in catalog ml``."""

    @property
    def fate(self) -> str:
        """What apply does with it, in the words every format uses."""
        return f"{'deleted on apply' if self.deleted else 'left on the server'}{': ' + self.why if self.why else ''}"


@dataclass(frozen=True)
class Unmanaged:
    """A live catalog, schema or model that no spec declares (plan --show-unmanaged): ucgov leaves it alone."""

    kind: Kind
    full_name: str


@dataclass(frozen=True)
class Plan:
    """Changes in the order apply must make them, and what they were computed against."""

    changes: tuple[Change, ...] = ()
    objects: tuple[Ref, ...] = field(default=())
    """Every declared object the plan was computed against, in the specs' order."""
    warnings: tuple[str, ...] = ()
    """What the planner could not check, or wants a reviewer to see; never steers apply."""
    grants_modes: Mapping[Ref, GrantsMode] = field(default_factory=dict)
    """How each changed object's grants are managed, for display."""
    specs_digest: str = ""
    """A digest of the merged specs the plan came from ("" for a review between revisions)."""
    live_children: tuple[Ref, ...] = ()
    """The live objects inside declared ones, declared or not, of every kind; for showing what a
    grant reaches only, never steers apply."""
    policy_changes: tuple[PolicyChange, ...] = ()
    """ucgov diff only: policies added, removed or changed, by name; for people, never steers apply."""
    undeclared: tuple[Undeclared, ...] = ()
    """ucgov diff only: objects the head stops declaring, whose grants ucgov no longer governs."""
    unmanaged: tuple[Unmanaged, ...] | None = None
    """plan --show-unmanaged only (None when not asked): live objects no spec declares; for people."""

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action.value for c in self.changes)
        return {a.value: counts.get(a.value, 0) for a in Action}
