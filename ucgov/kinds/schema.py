"""The schema kind: inside a catalog."""

from __future__ import annotations

from ucgov.kinds import catalog
from ucgov.kinds.base import Field, KindSpec

SPEC = KindSpec(
    name="schema",
    label="schema",
    collection="schemas",
    listing_key="schemas",
    spec_key="schemas",
    parent=catalog.SPEC,
    name_key="schema_name",
    fields=(Field("comment"), Field("properties")),
    # SELECT, MODIFY and READ VOLUME act on tables and volumes, which ucgov does not manage yet:
    # until those kinds exist they are the schema's, as far as reach and reviews go
    privileges=frozenset(
        {
            "USE SCHEMA",
            "CREATE MODEL",
            "CREATE TABLE",
            "CREATE FUNCTION",
            "CREATE VOLUME",
            "SELECT",
            "MODIFY",
            "READ VOLUME",
        }
    ),
)
