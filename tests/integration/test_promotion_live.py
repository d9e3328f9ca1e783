"""Promotion with real MLflow runs and the real server: a version reviewed in a dev catalog is copied,
gated and with its lineage, into a prod catalog by a spec change; MLflow loads it from prod."""

from __future__ import annotations

import json
import os

import pytest
from faultproxy import Fault, FaultProxy
from test_approvals import iris_accuracy, versions
from test_s3_storage import keys_under, model_prefix, s3_env, s3_ucgov  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration


def dev_spec(catalog: str, run: str) -> str:
    return f"""
catalogs:
  {catalog}_dev:
    schemas:
      fraud:
        models:
          scorer:
            comment: Iris stand-in for the fraud scorer
            approved: {{run: {run}, require: {{metrics: {{accuracy: '>= 0.9'}}}}}}
"""


def prod_spec(catalog: str, promoted: str | None) -> str:
    approved = f"\n            approved: {promoted}" if promoted else ""
    return f"""
catalogs:
  {catalog}_prod:
    schemas:
      fraud:
        models:
          scorer:
            grants: {{serving-app@example.com: [EXECUTE]}}{approved}
"""


def promoted(catalog: str, version: int = 1, gate: str = "'>= 0.9'") -> str:
    return f"{{from: {catalog}_dev.fraud.scorer, version: {version}, require: {{metrics: {{accuracy: {gate}}}}}}}"


def changes(ucgov, specs) -> list[tuple[str, str]]:
    result = ucgov("plan", str(specs), "--format", "json")
    assert result.exit_code == 0, result.output
    return [(c["action"], c["address"]) for c in json.loads(result.output)["changes"]]


def load(server, uri: str):
    import mlflow

    os.environ["MLFLOW_UC_OSS_TOKEN"] = server.token
    mlflow.set_registry_uri(f"uc:{server.url}")
    return mlflow.pyfunc.load_model(uri)


@pytest.fixture
def dev_version(ucgov, write_spec, train_iris, catalog_name):
    """A run registered and approved as version 1 in the dev catalog, as the dev team's apply made it."""
    run = train_iris()
    specs = write_spec(dev_spec(catalog_name, run), name="dev.yaml")
    write_spec(prod_spec(catalog_name, None), name="prod.yaml")
    applied = ucgov("apply", str(specs), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return run, specs


def test_a_reviewed_dev_version_is_promoted_to_prod_by_a_spec_change_and_loads_and_predicts_the_same(
    server, ucgov, write_spec, rest, dev_version, catalog_name
):
    from sklearn.datasets import load_iris

    run, specs = dev_version
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    dev_before = rest.get(f"/models/{source}/versions/1")
    write_spec(prod_spec(catalog_name, promoted(catalog_name)), name="prod.yaml")

    plan = ucgov("plan", str(specs))
    assert plan.exit_code == 0, plan.output
    assert f"promote {source}/1 → new version of {target}" in plan.output
    assert "gate metric accuracy >= 0.9: the run has 0.99" in plan.output, plan.output
    assert changes(ucgov, specs) == [("promote", target), ("approve", target)]
    review = ucgov("plan", str(specs), "--format", "markdown")
    assert f"| + | `{target}` (model) | promote `{source}/1` → new version (run `{run}`)" in review.output
    assert "gates read: `metric accuracy >= 0.9`: `0.99" in review.output, review.output
    applied = ucgov("apply", str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert versions(rest, target) == [(1, run, "READY")]
    made = rest.get(f"/models/{target}/versions/1")
    # the lineage, then the approval's provenance line (ucgov.provenance)
    assert made["comment"].splitlines()[0] == f"promoted from {source}/1"
    assert made["comment"].splitlines()[-1].startswith("ucgov: approved at ")
    assert made["source"] == dev_before["source"]
    assert rest.get(f"/models/{target}")["comment"] == "ucgov: approved version 1"
    assert rest.get(f"/models/{source}/versions/1") == dev_before  # the source is never changed
    assert ucgov("resolve", target).output.strip() == f"models:/{target}/1"
    assert ucgov("resolve", target, "--spec", str(specs)).output.strip() == f"models:/{target}/1"
    features, _ = load_iris(return_X_y=True, as_frame=True)
    from_prod = load(server, f"models:/{target}/1").predict(features)
    from_dev = load(server, f"models:/{source}/1").predict(features)
    assert list(from_prod) == list(from_dev)
    assert iris_accuracy(load(server, f"models:/{target}/1")) >= 0.9

    again = ucgov("apply", str(specs), "--auto-approve")
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert versions(rest, target) == [(1, run, "READY")]


def test_a_failed_gate_and_a_missing_source_are_plan_errors_at_the_specs_line(
    ucgov, write_spec, rest, dev_version, catalog_name
):
    _, specs = dev_version
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"

    write_spec(prod_spec(catalog_name, promoted(catalog_name, gate="'>= 1.5'")), name="prod.yaml")
    gated = ucgov("plan", str(specs))
    write_spec(prod_spec(catalog_name, promoted(catalog_name, version=9)), name="prod.yaml")
    no_version = ucgov("plan", str(specs))
    write_spec(prod_spec(catalog_name, promoted(catalog_name).replace("_dev.fraud", "_nope.fraud")), name="prod.yaml")
    no_model = ucgov("plan", str(specs))

    assert gated.exit_code == 1, gated.output
    assert "prod.yaml:9:" in gated.output
    assert f"{target} cannot be promoted from {source}/1: run " in gated.output
    assert "fails metric accuracy >= 1.5: its accuracy is 0.99" in gated.output
    assert no_version.exit_code == 1 and "prod.yaml:9:" in no_version.output
    assert f"version 9 of model {source} does not exist (versions: 1)" in no_version.output
    assert no_model.exit_code == 1 and "prod.yaml:9:" in no_model.output
    assert f"model {catalog_name}_nope.fraud.scorer, to promote from, does not exist" in no_model.output
    assert "Traceback" not in gated.output + no_version.output + no_model.output
    assert versions(rest, target) == []  # nothing was applied


def test_an_upload_failing_part_way_into_s3_leaves_no_ready_target_version_then_apply_again_promotes(
    s3_server,
    s3_ucgov,  # noqa: F811 (the fixture imported above)
    s3_rest,
    write_spec,
    train_iris,
    catalog_name,  # noqa: F811 (fixtures imported above)
):
    run = train_iris()
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    specs = write_spec(dev_spec(catalog_name, run), name="dev.yaml")
    assert s3_ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    write_spec(prod_spec(catalog_name, promoted(catalog_name)), name="prod.yaml")
    proxy = FaultProxy(s3_server.s3_endpoint, transparent=True)  # in front of the S3 server, never instead of it
    try:
        # files go up in name order, so MLmodel, conda.yaml and model.pkl are in the bucket when this one fails
        proxy.inject("PUT", r"/requirements\.txt(\?|$)", Fault(status=403))
        env = {"AWS_ENDPOINT_URL_S3": proxy.url, "MLFLOW_S3_ENDPOINT_URL": proxy.url}

        failed = s3_ucgov("apply", str(specs), "--auto-approve", env=env)

        assert failed.exit_code == 1, failed.output
        assert f"promoting {source}/1 as version 1 of model {target} failed" in failed.output
        assert "was deleted, so nothing half-made remains (its files at s3://" in failed.output, failed.output
        assert proxy.sent("PUT", r"/MLmodel(\?|$)") and proxy.sent("PUT", r"/model\.pkl(\?|$)")
        assert versions(s3_rest, target) == []
        assert keys_under(s3_server, model_prefix(s3_rest, target)) == []

        applied = s3_ucgov("apply", str(specs), "--auto-approve", env=env)
    finally:
        proxy.close()

    assert applied.exit_code == 0, applied.output
    [(version, from_run, status)] = versions(s3_rest, target)
    assert (from_run, status) == (run, "READY")
    assert s3_rest.get(f"/models/{target}/versions/{version}")["comment"].splitlines()[0] == f"promoted from {source}/1"
    files = {k.rsplit("/", 1)[-1] for k in keys_under(s3_server, model_prefix(s3_rest, target))}
    assert {"MLmodel", "model.pkl", "requirements.txt"} <= files
    assert versions(s3_rest, source) == [(1, run, "READY")]


def test_a_saved_plan_promotes_once_and_applied_again_finds_it_done(
    ucgov, write_spec, rest, dev_version, catalog_name, tmp_path
):
    run, specs = dev_version
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    write_spec(prod_spec(catalog_name, promoted(catalog_name)), name="prod.yaml")
    plan_file = tmp_path / "promote.plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")
    again = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert f"promote {source}/1 as version 1 of model {target}" in applied.output
    assert again.exit_code == 0, again.output
    assert versions(rest, target) == [(1, run, "READY")]
    assert rest.get(f"/models/{target}")["comment"] == "ucgov: approved version 1"


def test_a_promotion_failing_after_its_files_are_copied_to_file_storage_leaves_no_version_and_no_files(
    server, ucgov, write_spec, rest, dev_version, catalog_name
):
    import re
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    run, specs = dev_version
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    write_spec(prod_spec(catalog_name, promoted(catalog_name)), name="prod.yaml")
    proxy = FaultProxy(server.url)  # in front of the real server: the files are copied, then finalize is refused
    try:
        proxy.inject("PATCH", r"/versions/\d+/finalize$", Fault(status=403), times=1)
        failed = ucgov("apply", str(specs), "--auto-approve", env={"UCGOV_URL": proxy.url})
    finally:
        proxy.close()

    assert failed.exit_code == 1, failed.output
    assert f"promoting {source}/1 as version 1 of model {target} failed" in failed.output
    removed = re.search(r"its files at (file:\S+) were removed first", failed.output)
    assert removed, failed.output
    assert not Path(unquote(urlparse(removed.group(1)).path)).exists()
    assert versions(rest, target) == []
    assert versions(rest, source) == [(1, run, "READY")]

    applied = ucgov("apply", str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    [(_, from_run, status)] = versions(rest, target)
    assert (from_run, status) == (run, "READY")
