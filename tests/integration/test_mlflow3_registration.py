"""Versions MLflow 3 registered itself through `uc:`, and plans that look for a run where it is not."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def approve_only(catalog: str, run: str) -> str:
    return f"""
catalogs:
  {catalog}:
    schemas:
      default:
        models:
          iris:
            approved: {{run: {run}}}
"""


def test_a_version_mlflow_3_registered_itself_is_approved_not_registered_again(
    server, ucgov, write_spec, rest, tracking_store, catalog_name
):
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    model = f"{catalog_name}.default.iris"
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "default", "catalog_name": catalog_name})
    features, labels = load_iris(return_X_y=True, as_frame=True)
    with mlflow.start_run() as run:
        trained = RandomForestClassifier(n_estimators=5, random_state=0).fit(features, labels)
        logged = mlflow.sklearn.log_model(trained, name="model", serialization_format="cloudpickle")
    os.environ["MLFLOW_UC_OSS_TOKEN"] = server.token
    mlflow.set_registry_uri(f"uc:{server.url}")
    mlflow.register_model(logged.model_uri, model)  # MLflow 3's own way: the logged model's models:/m-ID
    [listed] = rest.get(f"/models/{model}/versions")["model_versions"]
    assert (listed["run_id"], listed["source"], listed["status"]) == (None, logged.model_uri, "READY")  # pinned
    specs = write_spec(approve_only(catalog_name, run.info.run_id))

    planned = ucgov("plan", str(specs), "--format", "json")

    assert planned.exit_code == 0, planned.output
    assert [(c["action"], c["address"]) for c in json.loads(planned.output)["changes"]] == [("approve", model)]
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    assert len(rest.get(f"/models/{model}/versions")["model_versions"]) == 1
    assert rest.get(f"/models/{model}")["comment"].endswith("ucgov: approved version 1")
    assert "No changes" in ucgov("plan", str(specs)).output
    assert ucgov("resolve", model, "--spec", str(specs)).output.strip() == f"models:/{model}/1"


def test_an_unknown_run_names_mlflows_default_store_and_creates_none(
    ucgov, write_spec, rest, catalog_name, tmp_path, monkeypatch
):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    run = "0123456789abcdef0123456789abcdef"
    specs = write_spec(approve_only(catalog_name, run))

    planned = ucgov("plan", str(specs))

    assert planned.exit_code == 1
    assert (
        f"unknown run {run}: no such run in MLflow's default tracking store sqlite:///{checkout}/mlflow.db, "
        "which does not exist (MLFLOW_TRACKING_URI is not set: set it to the store the run was logged in)"
    ) in planned.output
    assert list(Path(checkout).iterdir()) == []
