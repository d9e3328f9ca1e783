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
    # storage_root: where managed volumes (and tables) inside keep their files; the server ignores a change
    fields=(Field("comment"), Field("properties"), Field("storage_root", create_only=True, location=True)),
    # SELECT, MODIFY and READ VOLUME are the table's and the volume's, grantable here by inheritance
    privileges=frozenset({"USE SCHEMA", "CREATE MODEL", "CREATE TABLE", "CREATE FUNCTION", "CREATE VOLUME"}),
    usage="USE SCHEMA",
)
