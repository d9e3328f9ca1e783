"""The plan: plain data passed between planner, renderers, plan files and apply.

It imports nothing that does I/O. What each change means per action:

    action    before                         after
    create    None                           fields the object is created with
    update    changed fields, live values    changed fields, new values
    delete    fields of the live object      None
    grant     None                           privileges added (in reading order)
    revoke    privileges removed             None
    register  {"unfinished": [versions]}     {"run", "artifact_path"}: the run to register
    approve   {"version": approved now}      {"version": N, or None for "the one registered
                                              from run", "run"}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from ucgov.state import Kind

if TYPE_CHECKING:
    from ucgov.policies import Policy


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    GRANT = "grant"
    REVOKE = "revoke"
    REGISTER = "register"
    APPROVE = "approve"

    @property
    def marker(self) -> str:
        return {"create": "+", "grant": "+", "register": "+", "delete": "-", "revoke": "-"}.get(self.value, "~")

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


@dataclass(frozen=True)
class Change:
    action: Action
    address: Address
    before: Any = None
    after: Any = None
    reason: str = ""
    """For people reading the plan only; apply never looks at it."""

    def describe(self) -> str:
        """One line for apply's progress and error reports."""
        if self.action.is_grant:
            privs = ", ".join(self.after if self.action is Action.GRANT else self.before)
            verb, preposition = ("grant", "to") if self.action is Action.GRANT else ("revoke", "from")
            where = f"{self.address.kind.label} {self.address.full_name}"
            return f"{verb} {privs} on {where} {preposition} {self.address.principal}"
        if self.action is Action.REGISTER:
            return f"register run {self.after['run']} as a new version of model {self.address.full_name}"
        if self.action is Action.APPROVE:
            which = (
                f"version {self.after['version']}"
                if self.after["version"]
                else f"the version from run {self.after['run']}"
            )
            return f"approve {which} of model {self.address.full_name}"
        return f"{self.action.value} {self.address.kind.label} {self.address.full_name}"


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
    """An object the head stops declaring (ucgov diff): it stays on the server, grants included,
    but ucgov no longer governs them."""

    kind: Kind
    full_name: str
    grants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(principal, privileges in reading order) as the base declared them, by principal."""


@dataclass(frozen=True)
class Plan:
    """Changes in the order apply must make them."""

    changes: tuple[Change, ...] = ()
    objects: tuple[str, ...] = field(default=())
    """Full names of every declared object the plan was computed against."""
    warnings: tuple[str, ...] = ()
    """What the planner could not check; shown to people, never steers apply."""
    live_children: tuple[str, ...] = ()
    """Full names of live schemas and models inside declared ones, declared or not; for showing
    what a grant reaches only, never steers apply."""
    policy_changes: tuple[PolicyChange, ...] = ()
    """ucgov diff only: policies added, removed or changed, by name; for people, never steers apply."""
    undeclared: tuple[Undeclared, ...] = ()
    """ucgov diff only: objects the head stops declaring, whose grants ucgov no longer governs."""

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action.value for c in self.changes)
        return {a.value: counts.get(a.value, 0) for a in Action}
