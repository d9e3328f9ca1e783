"""The plan for machines: stable keys, format_version 2 (2: grants_modes is a list naming each
object's kind, since a model and a volume may share a name)."""

from __future__ import annotations

import json
from typing import Any

from ucgov.plan import Action, Change, ObjectChange, Payload, Plan, VersionDeletion
from ucgov.policies import rule
from ucgov.render.escape import json_text
from ucgov.state import Policy
from ucgov.unmanaged import undeclared_children

FORMAT_VERSION = 2


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON-ready data; ucgov diff adds policy_changes and undeclared when it has them."""
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "changes": [change_document(c) for c in plan.changes],
        "summary": plan.summary(),
        "warnings": list(plan.warnings),
        "grants_modes": [
            {"address": ref.full_name, "kind": ref.kind.label, "mode": mode.value}
            for ref, mode in plan.grants_modes.items()
        ],
    }
    if plan.policy_changes:
        document["policy_changes"] = [
            {"name": c.name, "before": _rule(c.before), "after": _rule(c.after)} for c in plan.policy_changes
        ]
    if plan.unmanaged is not None:
        document["unmanaged"] = {
            "objects": [{"address": u.full_name, "kind": u.kind.label} for u in plan.unmanaged],
            "undeclared_children": {name: inside.missing for name, inside in undeclared_children(plan).items()},
        }
    if plan.undeclared:
        document["undeclared"] = [
            {
                "address": o.full_name,
                "kind": o.kind.label,
                "grants": {p: list(privs) for p, privs in o.grants},
                "deleted_on_apply": o.deleted,
                "why": o.why,
            }
            for o in plan.undeclared
        ]
    return document


def change_document(change: Change) -> dict[str, Any]:
    """A change; a delete adds ``files`` (a model's or version's) and ``grants`` (lost with the object)."""
    document = {
        "action": change.action.value,
        "address": change.address.full_name,
        "kind": change.address.kind.label,
        "principal": change.address.principal,
        "before": _plain(change.before),
        "after": _plain(change.after),
        "reason": change.reason,
    }
    if change.action is Action.DELETE:
        document.update(_delete_extras(change.payload))
    return document


def _delete_extras(p: Payload) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    files = p.files if isinstance(p, ObjectChange | VersionDeletion) else None
    if files is not None:
        extras["files"] = {"location": files.location, "removed": files.removed, "why_kept": files.why_kept or None}
    if isinstance(p, ObjectChange):
        extras["grants"] = {principal: list(privileges) for principal, privileges in p.grants}
    return extras


def render_json(plan: Plan) -> str:
    """The same strings, with characters that act at a terminal (escapes, bidi controls) as \\u escapes."""
    return json_text(json.dumps(plan_document(plan), indent=2, sort_keys=False, ensure_ascii=False))


def _rule(policy: Policy | None) -> str | None:
    return rule(policy) if policy else None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
