"""The volume kind: inside a schema. Governed for safety only so far (see ``ucgov.kinds.table``)."""

from __future__ import annotations

from ucgov.kinds import schema
from ucgov.kinds.base import KindSpec

SPEC = KindSpec(
    name="volume",
    label="volume",
    collection="volumes",
    listing_key="volumes",
    spec_key=None,
    parent=schema.SPEC,
    name_key="volume_name",
    fields=(),
    privileges=frozenset({"READ VOLUME"}),  # the 0.6.0 server knows no WRITE VOLUME
)
