"""A version MLflow 3 registered itself through `uc:`: the server lists it with no run id."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.integration


def test_probe(server, rest, train_iris, catalog_name, tracking_store):
    import mlflow
    from mlflow.tracking import MlflowClient
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "default", "catalog_name": catalog_name})
    os.environ["MLFLOW_UC_OSS_TOKEN"] = server.token
    mlflow.set_registry_uri(f"uc:{server.url}")
    features, labels = load_iris(return_X_y=True, as_frame=True)
    with mlflow.start_run() as run:
        model = RandomForestClassifier(n_estimators=3, random_state=0).fit(features, labels)
        info = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle")
    print("run artifact_uri", run.info.artifact_uri, run.info.run_id)
    print("model_info", info.model_uri, info.model_id, info.artifact_path)
    lm = MlflowClient().get_logged_model(info.model_id)
    print("logged model", lm.artifact_location, lm.source_run_id, lm.name)
    mlflow.register_model(info.model_uri, f"{catalog_name}.default.iris")
    with mlflow.start_run() as run2:
        model = RandomForestClassifier(n_estimators=3, random_state=0).fit(features, labels)
        info2 = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle", registered_model_name=f"{catalog_name}.default.iris")
    print("run2", run2.info.run_id, info2.model_id)
    print(MlflowClient().search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"))
    for v in rest.get(f"/models/{catalog_name}.default.iris/versions")["model_versions"]:
        print("VERSION", v["version"], v["source"], v["run_id"])
    assert False
