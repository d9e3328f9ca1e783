"""The table kind: inside a schema. A declared table is governed (its grants) if it exists, and
created only from a full definition (columns; a format and a location for an EXTERNAL table).
The server cannot change a table once made, so every field is create-only. Prune never deletes an
undeclared table: its data is not something specs could make again."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ucgov.kinds import schema
from ucgov.kinds.base import Field, KindSpec, Refusal

SPARK_TYPES = {
    "BOOLEAN": "boolean",
    "BYTE": "byte",
    "SHORT": "short",
    "INT": "integer",
    "LONG": "long",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NTZ": "timestamp_ntz",
    "STRING": "string",
    "BINARY": "binary",
}
"""The column types a spec may write, as the server names them, with the type Spark's schema JSON gives each."""


def column(written: Mapping[str, Any]) -> dict[str, Any]:
    """A column in the spec's shape, every key present, so a spec's and the server's compare."""
    return {
        "name": written.get("name"),
        "type": str(written.get("type") or "").upper(),
        "nullable": written.get("nullable", True) is not False,
        "comment": written.get("comment") or None,
    }


def _shape(field: str, value: Any) -> Any:
    if field == "columns" and isinstance(value, list):
        return [column(c) for c in value if isinstance(c, Mapping)]
    return value.upper() if field in ("table_type", "data_source_format") and isinstance(value, str) else value


def _definition(body: Mapping[str, Any]) -> dict[str, Any]:
    columns = sorted(body.get("columns") or (), key=lambda c: c.get("position") or 0)
    return {
        "table_type": body.get("table_type"),
        "data_source_format": body.get("data_source_format"),
        "storage_location": body.get("storage_location"),
        "columns": [column({**c, "type": c.get("type_name")}) for c in columns],
    }


def _body(definition: Mapping[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = {"table_type": "EXTERNAL", "data_source_format": "DELTA"}
    found |= {k: v for k, v in definition.items() if k != "columns" and v is not None}
    found["columns"] = [_column_body(i, column(c)) for i, c in enumerate(definition.get("columns") or ())]
    return found


def _column_body(position: int, c: Mapping[str, Any]) -> dict[str, Any]:
    spark = {"name": c["name"], "type": SPARK_TYPES.get(c["type"], c["type"].lower()), "nullable": c["nullable"]}
    body = {"name": c["name"], "type_name": c["type"], "type_text": c["type"].lower(), "position": position}
    body |= {"nullable": c["nullable"], "type_json": json.dumps({**spark, "metadata": {}}, separators=(",", ":"))}
    return body | ({"comment": c["comment"]} if c["comment"] else {})


def _as_written(body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    reason = _inexact(body)
    if reason:
        return {}, reason
    definition = _definition(body)
    # a column is nullable and without a comment unless it says so: as a person writes it
    columns = [
        {k: v for k, v in c.items() if (k, v) not in (("nullable", True), ("comment", None))}
        for c in definition["columns"]
    ]
    return {**{k: v for k, v in definition.items() if v is not None}, "columns": columns}, None


def _inexact(body: Mapping[str, Any]) -> str | None:
    """Why a create from the table's definition would not make it again as it is, if so."""
    table_type = body.get("table_type")
    if table_type == "MANAGED":
        return "a MANAGED table is made through a staging table, which ucgov cannot create"
    if table_type != "EXTERNAL":
        return f"it is a {table_type} table; ucgov creates EXTERNAL tables only"
    columns = body.get("columns") or ()
    if not columns:
        return "it has no columns, and a spec's table has at least one"
    for c in columns:
        if c.get("partition_index") is not None:
            return f"column {c.get('name')!r} partitions it, which specs cannot write"
        if c.get("type_name") not in SPARK_TYPES:
            return f"column {c.get('name')!r} is {c.get('type_text') or c.get('type_name')}, a type specs cannot write"
    return None


def _refused(definition: Mapping[str, Any]) -> Refusal | None:
    if definition.get("table_type") == "MANAGED":
        return "table_type", (
            "is MANAGED: ucgov cannot create a managed table (the 0.6.0 server makes one only from a staging "
            "table an engine writes); create it with your engine and declare it to govern it, or declare an "
            "EXTERNAL table with a storage_location"
        )
    return None  # a column named twice is refused where the spec is read (ucgov.spec.loader)


SPEC = KindSpec(
    name="table",
    label="table",
    collection="tables",
    listing_key="tables",
    spec_key="tables",
    parent=schema.SPEC,
    name_key="table_name",
    fields=(
        Field("comment", create_only=True),
        Field("properties", create_only=True),
        Field("table_type", create_only=True),
        Field("data_source_format", create_only=True),
        Field("storage_location", create_only=True, location=True),
        Field("columns", create_only=True),
    ),
    privileges=frozenset({"SELECT", "MODIFY"}),
    prunable=False,
    needed_to_create=("columns",),
    definition_of=_definition,
    shape=_shape,
    body_of=_body,
    as_written=_as_written,
    create_refused=_refused,
    storage_field="storage_location",
)
