"""Which version of a model is approved, as the models:/ URI a deploy job loads with MLflow."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ucgov import approval
from ucgov.client import DEFAULT_URL, UCClient
from ucgov.errors import UcgovError
from ucgov.state import Approval, Kind, Ref


def resolve(
    name: str,
    *,
    url: str | None = None,
    token: str | None = None,
    specs: Sequence[str] = (),
    variables: dict[str, str] | None = None,
) -> str:
    """``models:/catalog.schema.model/N`` for the approved version N; UCGOV_URL and UCGOV_TOKEN by default.

    The version must exist and be READY. With ``specs``, it must also be the one the specs
    approve (that version, or one registered from their run and artifact path).
    """
    if name.count(".") != 2:
        raise UcgovError(f"'{name}' is not a model's full name: expected catalog.schema.model")
    url = url if url is not None else os.environ.get("UCGOV_URL") or DEFAULT_URL
    token = token if token is not None else os.environ.get("UCGOV_TOKEN")
    spec = _spec_approval(name, specs, variables or {}) if specs else None
    with UCClient(url, token=token) as client:
        version = approval.resolve(client, name, spec=spec, run_sources=lambda: _run_sources(spec))
    return f"models:/{name}/{version}"


def _run_sources(spec: Approval | None) -> frozenset[str]:
    """What the tracking store says names the spec's run's model: read only for a version whose
    own run id and source do not show it (MLflow 3 registered it), as a deploy job may have no store."""
    if spec is None or spec.run is None:
        return frozenset()
    from ucgov import mlflow_bridge

    run = mlflow_bridge.read_runs([spec]).get(spec.run)
    return run.sources(spec.artifact_path) if run else frozenset()


def _spec_approval(name: str, specs: Sequence[str], variables: dict[str, str]) -> Approval:
    from ucgov.spec import load_specs, variables_from

    declared = load_specs(specs, variables=variables_from(os.environ, variables)).get(Ref(Kind.MODEL, name))
    if declared is None or declared.approved is None:
        raise UcgovError(f"the specs in {', '.join(specs)} approve no version of model {name}")
    return declared.approved
