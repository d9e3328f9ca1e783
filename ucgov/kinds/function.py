"""The function kind: inside a schema. Governed if it exists, created from a full definition
(parameters, return type, language and body); the server cannot change one once made, so every
field is create-only. Prune never deletes an undeclared function: its code is not in the specs.

Its EXECUTE is also the model's: both act on it, each on its own kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ucgov.kinds import schema
from ucgov.kinds.base import Field, KindSpec, names_repeated
from ucgov.kinds.table import SPARK_TYPES


def _spark(name: str, type_name: str) -> dict[str, Any]:
    return {"name": name, "type": SPARK_TYPES.get(type_name, type_name.lower()), "nullable": True, "metadata": {}}


def parameter(written: Mapping[str, Any]) -> dict[str, Any]:
    """A parameter in the spec's shape, every key present."""
    return {"name": written.get("name"), "type": str(written.get("type") or "").upper()}


def _shape(field: str, value: Any) -> Any:
    if field == "parameters" and isinstance(value, list):
        return [parameter(p) for p in value if isinstance(p, Mapping)]
    return value.upper() if field in ("returns", "language") and isinstance(value, str) else value


def _definition(body: Mapping[str, Any]) -> dict[str, Any]:
    listed = sorted((body.get("input_params") or {}).get("parameters") or (), key=lambda p: p.get("position") or 0)
    external = body.get("routine_body") == "EXTERNAL"
    return {
        "parameters": [parameter({**p, "type": p.get("type_name")}) for p in listed],
        "returns": body.get("data_type"),
        "language": str(body.get("external_language") or "").upper() if external else "SQL",
        "body": body.get("routine_definition"),
    }


def _body(definition: Mapping[str, Any], name: str) -> dict[str, Any]:
    language = str(definition.get("language") or "SQL").upper()
    returns = str(definition.get("returns") or "").upper()
    parameters = [parameter(p) for p in definition.get("parameters") or ()]
    return {
        "input_params": {
            "parameters": [
                {
                    "name": p["name"],
                    "type_name": p["type"],
                    "type_text": p["type"].lower(),
                    "type_json": json.dumps(_spark(p["name"], p["type"]), separators=(",", ":")),
                    "position": i,
                    "parameter_mode": "IN",
                    "parameter_type": "PARAM",
                }
                for i, p in enumerate(parameters)
            ]
        },
        "data_type": returns,
        "full_data_type": returns,
        "routine_body": "SQL" if language == "SQL" else "EXTERNAL",
        "routine_definition": definition.get("body"),
        **({} if language == "SQL" else {"external_language": language.lower()}),
        "parameter_style": "S",
        "is_deterministic": True,
        "sql_data_access": "CONTAINS_SQL" if language == "SQL" else "NO_SQL",
        "is_null_call": False,
        "security_type": "DEFINER",
        "specific_name": name,
    }


SPEC = KindSpec(
    name="function",
    label="function",
    collection="functions",
    listing_key="functions",
    spec_key="functions",
    parent=schema.SPEC,
    name_key="function_name",
    fields=(
        Field("comment", create_only=True),
        Field("parameters", create_only=True),
        Field("returns", create_only=True),
        Field("language", create_only=True),
        Field("body", create_only=True),
    ),
    privileges=frozenset({"EXECUTE"}),
    prunable=False,
    needed_to_create=("returns", "body"),
    definition_of=_definition,
    shape=_shape,
    body_of=_body,
    create_wrapper="function_info",
    create_refused=lambda definition: names_repeated(definition, "parameters"),
)
