"""Which version of a model is approved, as the models:/ URI a deploy job loads with MLflow."""

from __future__ import annotations

import os

from ucgov.approval import split_comment
from ucgov.client import DEFAULT_URL, UCClient
from ucgov.errors import UcgovError
from ucgov.state import Kind


def resolve(name: str, *, url: str | None = None, token: str | None = None) -> str:
    """``models:/catalog.schema.model/N`` for the approved version N; UCGOV_URL and UCGOV_TOKEN by default."""
    if name.count(".") != 2:
        raise UcgovError(f"'{name}' is not a model's full name: expected catalog.schema.model")
    url = url or os.environ.get("UCGOV_URL") or DEFAULT_URL
    token = token if token is not None else os.environ.get("UCGOV_TOKEN")
    with UCClient(url, token=token) as client:
        body = client.get_securable(Kind.MODEL, name)
    if body is None:
        raise UcgovError(f"model {name} does not exist on {url}")
    _, version = split_comment(body.get("comment"))
    if version is None:
        raise UcgovError(f"model {name} has no approved version: approve one in its spec and apply")
    return f"models:/{name}/{version}"
