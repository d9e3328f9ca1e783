"""The one-line summary every format ends with."""

from __future__ import annotations

from ucgov.plan import Plan

_WORDS = {
    "create": "to create",
    "update": "to update",
    "delete": "to delete",
    "grant": "to grant",
    "revoke": "to revoke",
    "register": "to register",
    "approve": "to approve",
}


def summary_line(plan: Plan) -> str:
    """``Plan: 2 to create, 3 to grant.`` or ``No changes.``"""
    counts = plan.summary()
    parts = [f"{counts[action]} {words}" for action, words in _WORDS.items() if counts.get(action)]
    if not parts:
        return "No changes. Unity Catalog matches the specs."
    return "Plan: " + ", ".join(parts) + "."
