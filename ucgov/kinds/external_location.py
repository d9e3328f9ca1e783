"""The external location kind: top-level, a storage URL reached through a credential. Specs create
it, change its url, credential and comment, and delete an undeclared one only where the metastore says
``prune: true``; the server refuses to delete one a live table or volume lies under (ucgov never
forces it). Its url is compared as the server keeps it (``base.location``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucgov.kinds import credential, metastore
from ucgov.kinds.base import Field, KindSpec, location


def _shape(field: str, value: Any) -> Any:
    return location(value) if field == "url" else value


def _definition(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"url": body.get("url"), "credential": body.get("credential_name")}


def _server_names(definition: Mapping[str, Any]) -> dict[str, Any]:
    names = {"credential": "credential_name"}
    return {names.get(k, k): location(v) if k == "url" else v for k, v in definition.items() if v is not None}


SPEC = KindSpec(
    name="external_location",
    label="external location",
    collection="external-locations",
    listing_key="external_locations",
    spec_key="external_locations",
    parent=None,
    name_key="external_location_name",
    fields=(Field("comment"), Field("url"), Field("credential")),
    privileges=frozenset(
        {"READ FILES", "WRITE FILES", "CREATE EXTERNAL TABLE", "CREATE EXTERNAL VOLUME", "CREATE MANAGED STORAGE"}
    ),
    definition_of=_definition,
    shape=_shape,
    body_of=lambda definition, name: _server_names(definition),
    update_body_of=_server_names,
    pruned_by=metastore.SPEC,
    references=(("credential", credential.SPEC),),
    url_field="url",
    policy_named=False,
)
