"""The table kind: inside a schema. Governed for safety only so far: listed where prune, export and
--show-unmanaged need to know what a schema holds, never declared in specs, created or deleted."""

from __future__ import annotations

from ucgov.kinds import schema
from ucgov.kinds.base import KindSpec

SPEC = KindSpec(
    name="table",
    label="table",
    collection="tables",
    listing_key="tables",
    spec_key=None,
    parent=schema.SPEC,
    name_key="table_name",
    fields=(),
    privileges=frozenset({"SELECT", "MODIFY"}),
)
