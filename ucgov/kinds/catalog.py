"""The catalog kind: the top of Unity Catalog's namespace."""

from __future__ import annotations

from ucgov.kinds import external_location
from ucgov.kinds.base import Field, KindSpec

SPEC = KindSpec(
    name="catalog",
    label="catalog",
    collection="catalogs",
    listing_key="catalogs",
    spec_key="catalogs",
    parent=None,
    name_key="catalog_name",
    # storage_root: where managed volumes (and tables) inside keep their files; the server ignores a change
    fields=(Field("comment"), Field("properties"), Field("storage_root", create_only=True, location=True)),
    privileges=frozenset({"USE CATALOG", "CREATE SCHEMA"}),
    usage="USE CATALOG",
    after=(external_location.SPEC,),  # a storage_root must lie under a live external location
)
