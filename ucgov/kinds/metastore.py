"""The metastore: the one object above catalogs, whose grants say who may create catalogs, storage
credentials and external locations. ucgov never creates nor deletes it; specs declare its grants
(``metastore: {grants: ...}``) and, written on it, ``prune:`` for undeclared credentials and
external locations. The server reads it at ``/metastore_summary`` (its id only) and ignores the name
in ``/permissions/metastore/<name>``."""

from __future__ import annotations

from ucgov.kinds.base import KindSpec

SPEC = KindSpec(
    name="metastore",
    label="metastore",
    collection="metastore_summary",
    listing_key="",
    spec_key="metastore",
    parent=None,
    name_key="metastore_id",
    fields=(),
    privileges=frozenset({"CREATE CATALOG", "CREATE EXTERNAL LOCATION", "CREATE STORAGE CREDENTIAL"}),
    prunable=False,
    read_path="metastore_summary",
    policy_named=False,
)
