"""The catalog kind: the top of Unity Catalog's namespace."""

from __future__ import annotations

from ucgov.kinds.base import Field, KindSpec

SPEC = KindSpec(
    name="catalog",
    label="catalog",
    collection="catalogs",
    listing_key="catalogs",
    spec_key="catalogs",
    parent=None,
    name_key="catalog_name",
    fields=(Field("comment"), Field("properties")),
    privileges=frozenset({"USE CATALOG", "CREATE SCHEMA"}),
)
