"""Is a saved plan what these specs plan? Its grants checked against their policies, its changes re-derived.

A plan file's checksum catches accidental edits and corruption only: it is not a signature, and
anyone who edits the file can recompute it. So when apply is given the specs a plan was made
from, the file is not trusted for what it does: the specs' policies are checked over every grant
it makes, and the specs are planned again against the server; a change in the file that the
specs would not make, or one they would make that the file lacks, refuses the file.

Changes are compared by what they do (their effect), not by the live value they expect: apply
checks that against the server anyway (``ucgov.preconditions``). Pure: the caller reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from ucgov.errors import SpecProblem
from ucgov.plan import Action, Change, GrantChange
from ucgov.policies import violations
from ucgov.state import DesiredState, Ref, Securable


def effect(change: Change) -> tuple:
    """What the change does to the server, as a comparable value; what it expects is left out."""
    where = (change.action.value, change.address.kind.value, change.address.full_name)
    principal = (change.address.principal,) if change.action.is_grant else ()
    return (*where, *principal, *change.payload.effect())


def differences(pending: Iterable[Change], saved: Iterable[Change], rederived: Iterable[Change]) -> list[str]:
    """How the file differs from what the specs plan now, one line per change, or [] if it does not.

    ``pending`` are the file's changes still to do: one already made by an earlier apply of this
    file is no longer planned from the specs, and that is fine.
    """
    planned = {effect(c): c for c in rederived}
    in_file = {effect(c) for c in saved}
    extra = [f"not from these specs: {c.describe()}" for c in pending if effect(c) not in planned]
    missing = [f"missing from the file: {c.describe()}" for key, c in planned.items() if key not in in_file]
    return extra + missing


def policy_problems(changes: Iterable[Change], desired: DesiredState) -> list[SpecProblem]:
    """The file's grants that the specs' policies deny, wherever the file says they are granted."""
    granted: dict[Ref, dict[str, frozenset[str]]] = {}
    for change in changes:
        if change.action is Action.GRANT and isinstance(change.payload, GrantChange):
            held = granted.setdefault(change.address.ref, {})
            principal = change.address.principal or ""
            held[principal] = held.get(principal, frozenset()) | frozenset(change.payload.privileges)
    objects = {ref: Securable(ref.kind, ref.full_name, grants=grants) for ref, grants in granted.items()}
    return violations(DesiredState(objects=objects, policies=desired.policies))
