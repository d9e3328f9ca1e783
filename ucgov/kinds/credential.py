"""The storage credential kind: top-level, an AWS IAM role (the 0.6.0 server's only credential type)
that external locations reach storage through. Specs create it, change its comment and role, and
delete an undeclared one only where the metastore says ``prune: true``. Only the role's ARN is read
back: the server's ``external_id`` (new on every role change) and anything secret never are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucgov.kinds import metastore
from ucgov.kinds.base import Field, KindSpec

PURPOSE = "STORAGE"
"""The only purpose the 0.6.0 server takes (a create without one is a server error)."""


def role(value: Any) -> Any:
    """An ``aws_iam_role`` as compared: its ``role_arn`` only."""
    return {"role_arn": value.get("role_arn")} if isinstance(value, Mapping) else value


def _shape(field: str, value: Any) -> Any:
    if field == "aws_iam_role":
        return role(value)
    return value.upper() if field == "purpose" and isinstance(value, str) else value


def _definition(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"purpose": body.get("purpose"), "aws_iam_role": role(body.get("aws_iam_role") or {})}


def _body(definition: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {"purpose": PURPOSE, **{k: v for k, v in definition.items() if v is not None}}


def _as_written(body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    definition = _definition(body)
    written = {"aws_iam_role": definition["aws_iam_role"]}
    return ({"purpose": definition["purpose"]} if definition["purpose"] != PURPOSE else {}) | written, None


SPEC = KindSpec(
    name="credential",
    label="credential",
    collection="credentials",
    listing_key="credentials",
    spec_key="credentials",
    parent=None,
    name_key="credential_name",
    fields=(Field("comment"), Field("purpose", create_only=True), Field("aws_iam_role")),
    privileges=frozenset({"CREATE EXTERNAL LOCATION", "CREATE EXTERNAL TABLE", "READ FILES", "WRITE FILES"}),
    definition_of=_definition,
    shape=_shape,
    body_of=_body,
    as_written=_as_written,
    pruned_by=metastore.SPEC,
    policy_named=False,
)
