"""The registered model kind: inside a schema, with versions that specs approve and keep."""

from __future__ import annotations

from ucgov.kinds import schema
from ucgov.kinds.base import Field, KindSpec

SPEC = KindSpec(
    name="registered_model",
    label="model",
    collection="models",
    listing_key="registered_models",
    spec_key="models",
    parent=schema.SPEC,
    name_key="model_name",
    fields=(Field("comment"),),  # a model's properties are not something specs manage
    privileges=frozenset({"EXECUTE"}),
    versioned=True,
    files_at=lambda body: body.get("storage_location") or None,
)
