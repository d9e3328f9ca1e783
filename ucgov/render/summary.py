"""The one-line summary every format ends with."""

from __future__ import annotations

from ucgov.plan import Plan
from ucgov.words import counted

_WORDS = {
    "create": "to create",
    "update": "to update",
    "delete": "to delete",
    "grant": "to grant",
    "revoke": "to revoke",
    "register": "to register",
    "promote": "to promote",
    "approve": "to approve",
}


def summary_line(plan: Plan) -> str:
    """``Plan: 2 to create, 3 to grant.`` or ``No changes.``; ucgov diff adds policies and undeclared objects."""
    counts = plan.summary()
    parts = [f"{counts[action]} {words}" for action, words in _WORDS.items() if counts.get(action)]
    reviewed = _reviewed(plan)
    if not parts and not reviewed:
        return "No changes. Unity Catalog matches the specs."
    changes = ", ".join(parts) or "no grant or object changes"
    return "Plan: " + changes + ("; " + ", ".join(reviewed) if reviewed else "") + "."


def _reviewed(plan: Plan) -> list[str]:
    """What a change to the specs does that apply never acts on: policies, objects no longer declared."""
    found = []
    if plan.policy_changes:
        found.append(counted(len(plan.policy_changes), "policy change"))
    if plan.undeclared:
        deleted = sum(u.deleted for u in plan.undeclared)
        found.append(
            counted(len(plan.undeclared), "object")
            + " no longer declared"
            + (f" ({deleted} deleted on apply)" if deleted else "")
        )
    return found
