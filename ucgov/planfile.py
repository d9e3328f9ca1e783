"""Saved plans: what `plan --out` writes and `apply --plan` reads back.

A plan file holds the changes exactly as planned, the server they were planned against, and a
fingerprint of the live state of every object they touch, so apply can refuse a stale plan.
A checksum over the content catches a file edited by hand (it is not a signature).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ucgov.errors import PlanFileError
from ucgov.plan import Action, Address, Change, Plan
from ucgov.render.json import change_document
from ucgov.state import Kind, Securable

FORMAT = "ucgov-plan"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    url: str
    fingerprints: dict[str, str]
    """Per touched object: the fingerprint of its live state when planned ("absent" if missing)."""


def touched(plan: Plan) -> list[str]:
    """Full names of the objects the plan changes, in plan order."""
    return list(dict.fromkeys(c.address.full_name for c in plan.changes))


def fingerprint(obj: Securable | None) -> str:
    """A digest of what apply relies on: comment, properties, grants and approved version."""
    if obj is None:
        return "absent"
    state = {
        "comment": obj.comment,
        "properties": dict(obj.properties or {}),
        "grants": {p: sorted(privs) for p, privs in sorted(obj.grants.items())},
        "approved": obj.approved.version if obj.approved else None,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:32]


def dumps(saved: SavedPlan) -> str:
    content = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "url": saved.url,
        "objects": list(saved.plan.objects),
        "warnings": list(saved.plan.warnings),
        "changes": [change_document(c) for c in saved.plan.changes],
        "fingerprints": saved.fingerprints,
    }
    return json.dumps({**content, "checksum": _checksum(content)}, indent=2, ensure_ascii=False) + "\n"


def loads(text: str, *, source: str) -> SavedPlan:
    """The saved plan, or PlanFileError if the file is not one, is from another version, or was edited."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"{source} is not a ucgov plan file: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PlanFileError(f"{source} is not a ucgov plan file (made with `ucgov plan --out`)")
    if document.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{source} has plan format version {document.get('format_version')}, but this ucgov reads "
            f"version {FORMAT_VERSION}: make the plan again with this ucgov"
        )
    checksum = document.pop("checksum", None)
    if checksum != _checksum(document):
        raise PlanFileError(f"{source} was changed after ucgov saved it: make the plan again instead of editing it")
    plan = Plan(
        changes=tuple(_change(c) for c in document["changes"]),
        objects=tuple(document["objects"]),
        warnings=tuple(document["warnings"]),
    )
    return SavedPlan(plan=plan, url=document["url"], fingerprints=dict(document["fingerprints"]))


def _change(doc: dict[str, Any]) -> Change:
    action = Action(doc["action"])
    grants = action.is_grant
    return Change(
        action=action,
        address=Address(Kind.of(doc["address"]), doc["address"], doc.get("principal")),
        before=tuple(doc["before"]) if grants and doc["before"] is not None else doc["before"],
        after=tuple(doc["after"]) if grants and doc["after"] is not None else doc["after"],
        reason=doc.get("reason", ""),
    )


def _checksum(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
