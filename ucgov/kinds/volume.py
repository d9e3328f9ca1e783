"""The volume kind: files inside a schema. Specs create volumes (MANAGED by default), change their
comment, and prune deletes undeclared ones; type and location are fixed once created."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucgov.kinds import schema
from ucgov.kinds.base import Field, KindSpec


def _body(definition: Mapping[str, Any], name: str) -> dict[str, Any]:
    # a volume without a type is MANAGED, as in Databricks: the server keeps its files under its storage root
    return {"volume_type": "MANAGED", **{k: v for k, v in definition.items() if v is not None}}


def _files(body: Mapping[str, Any]) -> str | None:
    # an EXTERNAL volume's files are not the volume's: they stay where they were registered from
    return (body.get("storage_location") or None) if body.get("volume_type") == "MANAGED" else None


def _as_written(body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    # a MANAGED volume's location is the server's choice under its storage root: a spec never writes it
    if body.get("volume_type") == "MANAGED":
        return {"volume_type": "MANAGED"}, None
    return {"volume_type": body.get("volume_type"), "storage_location": body.get("storage_location")}, None


SPEC = KindSpec(
    name="volume",
    label="volume",
    collection="volumes",
    listing_key="volumes",
    spec_key="volumes",
    parent=schema.SPEC,
    name_key="volume_name",
    fields=(
        Field("comment"),
        Field("volume_type", create_only=True),
        Field("storage_location", create_only=True, location=True),
    ),
    privileges=frozenset({"READ VOLUME"}),  # the 0.6.0 server knows no WRITE VOLUME
    body_of=_body,
    files_at=_files,
    as_written=_as_written,
    managed_storage=lambda definition: (definition.get("volume_type") or "MANAGED") == "MANAGED",
    removes_files=frozenset({"file"}),  # 0.6.0 leaves a managed volume's objects in S3 (test_server_assets.py)
    read_by_listing=True,  # a missing volume is an HTTP 500 on 0.6.0 (test_server_assets.py)
    storage_field="storage_location",
)
