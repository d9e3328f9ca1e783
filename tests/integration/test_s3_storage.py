"""Model versions in S3: the real server with an s3:// storage root on a local S3 server (moto), as
`ucgov sandbox start --storage s3` runs them. Register, approve, load through MLflow, predict;
a failed upload leaves nothing half-made; the server's credential vending pinned."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from faultproxy import Fault, FaultProxy
from test_approvals import iris_accuracy, model_spec, versions

from ucgov.cli import cli
from ucgov.errors import ApiError
from ucgov.sandbox import S3_BUCKET

pytestmark = pytest.mark.integration


def exported(sandbox) -> dict[str, str]:
    """The variables `ucgov sandbox start` prints as export lines."""
    return dict(line.removeprefix("export ").split("=", 1) for line in sandbox.env_lines())


@pytest.fixture
def s3_env(s3_server, monkeypatch) -> dict[str, str]:
    """The environment a user has after `eval "$(ucgov sandbox start --storage s3)"`."""
    env = exported(s3_server)
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # only what the server vends may reach the bucket
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3_ucgov(s3_env):
    runner = CliRunner()

    def run(*args: str, env: dict | None = None):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def bucket(s3_server):
    """The sandbox's bucket, read directly (not through ucgov) to check what ucgov left there."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_server.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="reader",
        aws_secret_access_key="reader",
    )


def keys_under(s3_server, prefix: str) -> list[str]:
    pages = bucket(s3_server).get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix)
    return sorted(o["Key"].removeprefix(prefix) for page in pages for o in page.get("Contents", ()))


def model_prefix(s3_rest, model: str) -> str:
    return f"root/__unitystorage/models/{s3_rest.get(f'/models/{model}')['id']}/"


def test_sandbox_prints_the_s3_endpoint_and_the_server_gives_versions_s3_locations(s3_server):
    env = exported(s3_server)

    assert env["AWS_ENDPOINT_URL_S3"] == env["MLFLOW_S3_ENDPOINT_URL"] == s3_server.s3_endpoint
    assert s3_server.storage_root == f"s3://{S3_BUCKET}/root"
    assert "Buckets" in bucket(s3_server).list_buckets()


def test_a_run_is_registered_into_s3_approved_loaded_through_mlflow_and_predicts(
    s3_server, s3_ucgov, s3_rest, write_spec, train_iris, catalog_name, monkeypatch
):
    import mlflow

    run = train_iris()
    model = f"{catalog_name}.default.iris"
    specs = write_spec(model_spec(catalog_name, f"{{run: {run}}}"))

    applied = s3_ucgov("apply", str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert versions(s3_rest, model) == [(1, run, "READY")]
    location = s3_rest.get(f"/models/{model}/versions/1")["storage_location"]
    assert location.startswith(f"s3://{S3_BUCKET}/root/__unitystorage/models/")
    assert {"MLmodel", "model.pkl"} <= set(keys_under(s3_server, location.removeprefix(f"s3://{S3_BUCKET}/") + "/"))

    monkeypatch.setenv("MLFLOW_UC_OSS_TOKEN", s3_server.token)
    mlflow.set_registry_uri(f"uc:{s3_server.url}")
    assert s3_ucgov("resolve", model).output.strip() == f"models:/{model}/1"
    assert iris_accuracy(mlflow.pyfunc.load_model(f"models:/{model}/1")) >= 0.9
    assert iris_accuracy(mlflow.pyfunc.load_model(f"runs:/{run}/model")) >= 0.9  # the run's own copy is intact

    again = s3_ucgov("apply", str(specs), "--auto-approve")
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert versions(s3_rest, model) == [(1, run, "READY")]


def test_an_upload_failing_part_way_leaves_no_ready_version_and_no_files_then_apply_again_registers(
    s3_server, s3_ucgov, s3_rest, write_spec, train_iris, catalog_name
):
    run = train_iris()
    model = f"{catalog_name}.default.iris"
    specs = write_spec(model_spec(catalog_name, f"{{run: {run}}}"))
    proxy = FaultProxy(s3_server.s3_endpoint, transparent=True)  # in front of the S3 server, never instead of it
    try:
        # files go up in name order, so MLmodel, conda.yaml and model.pkl are in the bucket when this one fails
        proxy.inject("PUT", r"/requirements\.txt(\?|$)", Fault(status=403))
        env = {"AWS_ENDPOINT_URL_S3": proxy.url, "MLFLOW_S3_ENDPOINT_URL": proxy.url}

        failed = s3_ucgov("apply", str(specs), "--auto-approve", env=env)

        assert failed.exit_code == 1
        assert "was deleted, so nothing half-made remains (its files at s3://" in failed.output, failed.output
        assert proxy.sent("PUT", r"/MLmodel(\?|$)") and proxy.sent("PUT", r"/model\.pkl(\?|$)")
        assert versions(s3_rest, model) == []
        assert keys_under(s3_server, model_prefix(s3_rest, model)) == []

        applied = s3_ucgov("apply", str(specs), "--auto-approve", env=env)
    finally:
        proxy.close()

    assert applied.exit_code == 0, applied.output
    [(version, from_run, status)] = versions(s3_rest, model)
    assert (from_run, status) == (run, "READY")
    assert "MLmodel" in {k.rsplit("/", 1)[-1] for k in keys_under(s3_server, model_prefix(s3_rest, model))}


def test_the_server_vends_write_credentials_until_finalize_and_read_credentials_after(s3_server, s3_rest, catalog_name):
    s3_rest.post("/catalogs", {"name": catalog_name})
    s3_rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    s3_rest.post("/models", {"name": "m", "catalog_name": catalog_name, "schema_name": "s"})
    model = f"{catalog_name}.s.m"
    with s3_server.client() as client:
        version = int(client.create_version(model, source="runs:/0/model", run_id="0")["version"])

        writable = client.model_version_credentials(model, version, write=True)
        client.finalize_version(model, version)
        with pytest.raises(ApiError) as refused:
            client.model_version_credentials(model, version, write=True)
        readable = client.model_version_credentials(model, version, write=False)

    assert set(writable["aws_temp_credentials"]) >= {"access_key_id", "secret_access_key", "session_token"}
    assert refused.value.status == 400
    assert readable["aws_temp_credentials"]["access_key_id"]


def test_removing_a_versions_files_leaves_a_neighbour_whose_name_starts_the_same(s3_server, tmp_path, s3_env):
    from ucgov import storage

    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "weights.bin").write_bytes(os.urandom(64))
    vended = {"aws_temp_credentials": {"access_key_id": "k", "secret_access_key": "s", "session_token": "t"}}
    one = storage.at(f"s3://{S3_BUCKET}/neighbours/versions/1", vend=lambda: vended)
    ten = storage.at(f"s3://{S3_BUCKET}/neighbours/versions/10", vend=lambda: vended)
    one.put_folder(tmp_path)
    ten.put_folder(tmp_path)

    one.remove()

    assert not one.has("MLmodel")
    assert ten.has("MLmodel")
    assert keys_under(s3_server, "neighbours/") == ["versions/10/MLmodel", "versions/10/data/weights.bin"]


def test_keep_versions_in_s3_deletes_old_versions_and_says_their_files_stay(
    s3_server, s3_ucgov, s3_rest, write_spec, tmp_path, catalog_name
):
    from ucgov import storage

    s3_rest.post("/catalogs", {"name": catalog_name})
    s3_rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    s3_rest.post("/models", {"name": "m", "catalog_name": catalog_name, "schema_name": "s"})
    model = f"{catalog_name}.s.m"
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    with s3_server.client() as client:
        for _ in range(2):
            version = int(client.create_version(model, source="runs:/0/model", run_id="0")["version"])
            location = client.get_version(model, version)["storage_location"]
            storage.at(
                location, vend=lambda version=version: client.model_version_credentials(model, version, write=True)
            ).put_folder(tmp_path)
            client.finalize_version(model, version)
    old = s3_rest.get(f"/models/{model}/versions/1")["storage_location"]
    s3_rest.http.patch(f"/models/{model}", json={"comment": "ucgov: approved version 2"}).raise_for_status()
    specs = write_spec(
        f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}:\n    schemas:\n      s:\n        models:\n"
        "          m: {approved: {version: 2, keep_versions: 1}}\n"
    )

    planned = s3_ucgov("plan", str(specs))
    assert f"its files stay at {old}: the server vends only read credentials for a READY version" in planned.output
    applied = s3_ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")

    assert applied.exit_code == 0, applied.output
    assert f"done: delete version 1 of model {model} (its files stay at {old}: " in applied.output
    assert [v for v, *_ in versions(s3_rest, model)] == [2]
    assert keys_under(s3_server, old.removeprefix(f"s3://{S3_BUCKET}/") + "/") == ["MLmodel"]
