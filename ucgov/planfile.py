"""Saved plans: what `plan --out` writes and `apply --plan` reads back.

A plan file holds the changes exactly as planned, each with the live value it expects (so
apply can tell a step still to do from one already done, or a stale one), the server they
were planned against, a digest of the specs they came from and the ucgov that made them. A
checksum over the content catches accidental edits and corruption; it is not a signature
(anyone can recompute it), so apply given the specs plans them again (``ucgov.rederive``)
rather than trusting what the file says it does. The file is
checked against a JSON Schema before anything in it is trusted, so a malformed file is one
clean error, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from typing import Any

import jsonschema

from ucgov import __version__
from ucgov.errors import PlanFileError
from ucgov.plan import (
    Action,
    Address,
    ApprovalChange,
    Change,
    Fields,
    Files,
    GrantChange,
    ObjectChange,
    Payload,
    Plan,
    Promotion,
    Registration,
    VersionDeletion,
)
from ucgov.state import GrantsMode, Kind, Ref, Server

FORMAT = "ucgov-plan"
FORMAT_VERSION = 5
"""3: fields list only those a change is about (null is a value); deletes record what goes with them.
4: each change records the kind of object it is about, never guessed from its name.
5: objects, grants modes and a delete's children are (kind, full name) pairs: names repeat across
kinds; fields are the kind's own (a volume's type, a table's columns)."""


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    url: str
    ucgov_version: str = __version__
    target: str | None = None
    """The target (``--target NAME``) it was planned for; None: none was named."""


def dumps(saved: SavedPlan) -> str:
    plan = saved.plan
    content = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ucgov_version": saved.ucgov_version,
        "url": saved.url,
        "target": saved.target,
        "specs_digest": plan.specs_digest,
        "objects": [[r.kind.value, r.full_name] for r in plan.objects],
        "warnings": list(plan.warnings),
        "grants_modes": [[r.kind.value, r.full_name, mode.value] for r, mode in plan.grants_modes.items()],
        "changes": [_change_document(c) for c in plan.changes],
    }
    return json.dumps({**content, "checksum": _checksum(content)}, indent=2, ensure_ascii=False) + "\n"


def read(path: str) -> SavedPlan:
    """The saved plan in the file at ``path``; only a regular file is read (a FIFO would block, a device never end)."""
    try:
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NONBLOCK)) as opened:
            if not stat.S_ISREG(os.fstat(opened.fileno()).st_mode):
                raise PlanFileError(f"cannot read the plan file {path}: it is not a regular file")
            text = opened.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read the plan file {path}: {exc}") from exc
    return loads(text, source=path)


def loads(text: str, *, source: str) -> SavedPlan:
    """The saved plan, or PlanFileError if the file is not one, is from another version, or was edited."""
    try:
        return _loads(text, source)
    except RecursionError as exc:  # parsing, checksumming or checking a hostile, deeply nested file
        raise PlanFileError(f"{source} is not a ucgov plan file: it is nested too deeply") from exc


def _loads(text: str, source: str) -> SavedPlan:
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
    _check_shape(document, source)
    if document["ucgov_version"] != __version__:
        raise PlanFileError(
            f"{source} was made by ucgov {document['ucgov_version']}, and this is ucgov {__version__}: "
            "make the plan again with this ucgov"
        )
    plan = Plan(
        changes=tuple(_change(c) for c in document["changes"]),
        objects=tuple(Ref(Kind(kind), name) for kind, name in document["objects"]),
        warnings=tuple(document["warnings"]),
        grants_modes={Ref(Kind(kind), name): GrantsMode(mode) for kind, name, mode in document["grants_modes"]},
        specs_digest=document["specs_digest"],
    )
    return SavedPlan(
        plan=plan, url=document["url"], ucgov_version=document["ucgov_version"], target=document.get("target")
    )


def _change_document(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "kind": change.address.kind.value,
        "address": change.address.full_name,
        "principal": change.address.principal,
        "payload": change.payload.document(),
        "reason": change.reason,
    }


def _files(doc: dict[str, Any] | None) -> Files | None:
    return None if doc is None else Files(doc["location"], doc["removed"], doc["why_kept"])


def _change(doc: dict[str, Any]) -> Change:
    action = Action(doc["action"])
    address = Address(Kind(doc["kind"]), doc["address"], doc["principal"])
    return Change(action, address, _payload(action, doc["payload"]), reason=doc["reason"])


def _payload(action: Action, doc: dict[str, Any]) -> Payload:
    if action is Action.DELETE and "version" in doc:
        return VersionDeletion(doc["version"], files=_files(doc.get("files")))
    if action in (Action.CREATE, Action.UPDATE, Action.DELETE):
        return ObjectChange(
            before=_fields(doc["before"]),
            after=_fields(doc["after"]),
            versions=tuple(doc.get("versions", ())),
            approved=doc.get("approved"),
            children=tuple(Ref(Kind(kind), name) for kind, name in doc.get("children", ())),
            files=_files(doc.get("files")),
            grants=tuple((name, tuple(privs)) for name, privs in doc.get("grants", ())),
        )
    if action.is_grant:
        whole = doc["object_held"]
        object_held = None if whole is None else tuple((name, tuple(privs)) for name, privs in whole)
        return GrantChange(tuple(doc["privileges"]), frozenset(doc["held"]), GrantsMode(doc["mode"]), object_held)
    if action is Action.REGISTER:
        return Registration(doc["run"], doc["artifact_path"], tuple(doc["unfinished"]))
    if action is Action.PROMOTE:
        evidence = tuple((gate, value) for gate, value in doc["evidence"])
        found = (doc["from"], doc["version"], doc["run_id"], doc["source"], tuple(doc["unfinished"]), evidence)
        elsewhere = doc.get("from_target")
        server = Server(elsewhere["name"], elsewhere["url"], elsewhere["token_env"]) if elsewhere else None
        return Promotion(*found, from_server=server)
    promoted = doc.get("promoted_from")
    return ApprovalChange(doc["version"], doc["run"], doc["artifact_path"], doc["replaces"], promoted_from=promoted)


def _fields(doc: dict[str, Any] | None) -> Fields | None:
    return None if doc is None else Fields(**doc)


def _check_shape(document: dict, source: str) -> None:
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_SCHEMA).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the document"
        raise PlanFileError(f"{source} is not a valid ucgov plan file: at {where}: {error.message}")


def _checksum(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_NAME = {"type": "string", "pattern": r"^[^.]+(\.[^.]+){0,2}$"}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_VERSION = {"type": ["integer", "null"], "minimum": 1}
_FIELDS = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "comment": {"type": ["string", "null"]},
        "properties": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        **{f.name: {} for k in Kind for f in k.spec.definition_fields},  # each kind's own: checked by the server
    },
}
_KIND = {"enum": [k.value for k in Kind if k.spec.declarable]}
_REF = {"type": "array", "prefixItems": [_KIND, _NAME], "minItems": 2, "maxItems": 2}

_GRANTS = {
    "type": "array",
    "items": {"type": "array", "prefixItems": [{"type": "string"}, _STRINGS], "minItems": 2, "maxItems": 2},
}
_STRINGS_PAIR = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}], "minItems": 2, "maxItems": 2}
_FILES = {
    "type": "object",
    "required": ["location", "removed", "why_kept"],
    "additionalProperties": False,
    "properties": {"location": {"type": "string"}, "removed": {"type": "boolean"}, "why_kept": {"type": "string"}},
}

_SOURCE_SERVER = {
    "type": "object",
    "description": "the other target's server a promotion copies from: its name, URL and token variable, never a token",
    "required": ["name", "url", "token_env"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-zA-Z0-9_@-]+(?!\n)$"},
        "url": {"type": "string", "pattern": r"^https?://[^@/\s]+(/\S*)?(?!\n)$"},
        "token_env": {"type": ["string", "null"], "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(?!\n)$"},
    },
}


def _payload_schema(
    actions: list[str], required: dict[str, Any], optional: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "if": {"properties": {"action": {"enum": actions}}},
        "then": {
            "properties": {
                "payload": {"type": "object", "required": list(required), "properties": required | (optional or {})},
            }
        },
    }


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "ucgov_version",
        "url",
        "specs_digest",
        "objects",
        "warnings",
        "grants_modes",
        "changes",
    ],
    "properties": {
        "ucgov_version": {"type": "string"},
        "url": {"type": "string"},
        "target": {"type": ["string", "null"]},
        "specs_digest": {"type": "string"},
        "objects": {"type": "array", "items": _REF},
        "warnings": _STRINGS,
        "grants_modes": {
            "type": "array",
            "items": {
                "type": "array",
                "prefixItems": [_KIND, _NAME, {"enum": [m.value for m in GrantsMode]}],
                "minItems": 3,
                "maxItems": 3,
            },
        },
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["action", "kind", "address", "principal", "payload", "reason"],
                "properties": {
                    "action": {"enum": [a.value for a in Action]},
                    "kind": _KIND,
                    "address": _NAME,
                    "principal": {"type": ["string", "null"], "pattern": "^[^\\u0000-\\u001f\\u007f]+$"},
                    "payload": {"type": "object"},
                    "reason": {"type": "string"},
                },
                "allOf": [
                    _payload_schema(["create", "update"], {"before": _FIELDS, "after": _FIELDS}),
                    {
                        "if": {"properties": {"action": {"const": "delete"}}},
                        "then": {
                            "properties": {
                                "payload": {
                                    "oneOf": [
                                        {
                                            "type": "object",
                                            "required": ["before", "after", "versions", "approved", "children"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "before": _FIELDS,
                                                "after": {"type": "null"},
                                                "versions": {"type": "array", "items": {"type": "integer"}},
                                                "approved": _VERSION,
                                                "children": {"type": "array", "items": _REF},
                                                "grants": _GRANTS,
                                                "files": _FILES,
                                            },
                                        },
                                        {
                                            "type": "object",
                                            "required": ["version"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "version": {"type": "integer", "minimum": 1},
                                                "files": _FILES,
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    _payload_schema(
                        ["grant", "revoke"],
                        {
                            "privileges": _STRINGS,
                            "held": _STRINGS,
                            "mode": {"enum": [m.value for m in GrantsMode]},
                            "object_held": {
                                "type": ["array", "null"],
                                "items": {
                                    "type": "array",
                                    "prefixItems": [{"type": "string"}, _STRINGS],
                                    "minItems": 2,
                                    "maxItems": 2,
                                },
                            },
                        },
                    ),
                    _payload_schema(
                        ["register"],
                        {
                            "run": {"type": "string"},
                            "artifact_path": {"type": "string"},
                            "unfinished": {"type": "array", "items": {"type": "integer"}},
                        },
                    ),
                    _payload_schema(
                        ["promote"],
                        {
                            "from": {
                                "type": "string",
                                "pattern": r"^[a-zA-Z0-9_@-]+\.[a-zA-Z0-9_@-]+\.[a-zA-Z0-9_@-]+(?!\n)$",
                            },
                            "version": {"type": "integer", "minimum": 1},
                            "run_id": {"type": ["string", "null"]},
                            "source": {"type": ["string", "null"]},
                            "unfinished": {"type": "array", "items": {"type": "integer"}},
                            "evidence": {"type": "array", "items": _STRINGS_PAIR},
                        },
                        {"from_target": _SOURCE_SERVER},
                    ),
                    _payload_schema(
                        ["approve"],
                        {
                            "version": _VERSION,
                            "run": {"type": ["string", "null"]},
                            "artifact_path": {"type": "string"},
                            "replaces": _VERSION,
                        },
                        {
                            "promoted_from": {
                                "type": "string",
                                "pattern": r"^promoted from ([a-zA-Z0-9_@-]+:)?[a-zA-Z0-9_@.-]+/[1-9][0-9]*(?!\n)$",
                            }
                        },
                    ),
                    {
                        "if": {"properties": {"action": {"enum": ["grant", "revoke"]}}},
                        "then": {"properties": {"principal": {"type": "string"}}},
                    },
                ],
            },
        },
    },
}
