"""Approved versions with real MLflow runs and the real server: register, approve, load, predict."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.integration


def model_spec(catalog: str, approved: str, *, comment: str | None = "Iris species classifier") -> str:
    comment_line = f"            comment: {comment}\n" if comment else ""
    return f"""
catalogs:
  {catalog}:
    schemas:
      default:
        models:
          iris:
{comment_line}            grants: {{serving-app@example.com: [EXECUTE]}}
            approved: {approved}
"""


def actions(ucgov, specs) -> list[tuple[str, str]]:
    result = ucgov("plan", str(specs), "--format", "json")
    assert result.exit_code == 0, result.output
    return [(c["action"], c["address"]) for c in json.loads(result.output)["changes"]]


def versions(rest, model: str) -> list[tuple[int, str, str]]:
    body = rest.get(f"/models/{model}/versions")
    return sorted((v["version"], v["run_id"], v["status"]) for v in body["model_versions"])


def load_approved(server, model: str):
    import mlflow

    import ucgov

    os.environ["MLFLOW_UC_OSS_TOKEN"] = server.token
    mlflow.set_registry_uri(f"uc:{server.url}")
    uri = ucgov.resolve(model, url=server.url, token=server.token)
    return uri, mlflow.pyfunc.load_model(uri)


def iris_accuracy(model) -> float:
    from sklearn.datasets import load_iris

    features, labels = load_iris(return_X_y=True, as_frame=True)
    return float((model.predict(features) == labels).mean())


def test_a_pending_run_is_registered_approved_and_loads_and_predicts(
    server, ucgov, write_spec, rest, train_iris, catalog_name
):
    run = train_iris()
    model = f"{catalog_name}.default.iris"
    specs = write_spec(model_spec(catalog_name, f"{{run: {run}, require: {{metrics: {{accuracy: '>= 0.9'}}}}}}"))

    assert ("register", model) in actions(ucgov, specs)
    applied = ucgov("apply", str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert versions(rest, model) == [(1, run, "READY")]
    assert rest.get(f"/models/{model}")["comment"] == "Iris species classifier\n\nucgov: approved version 1"
    uri, loaded = load_approved(server, model)
    assert uri == f"models:/{model}/1"
    assert iris_accuracy(loaded) >= 0.9
    assert ucgov("resolve", model).output.strip() == f"models:/{model}/1"
    again = ucgov("apply", str(specs), "--auto-approve")
    assert again.exit_code == 0 and "No changes" in again.output
    assert versions(rest, model) == [(1, run, "READY")]


def test_registration_leaves_the_runs_own_model_intact(ucgov, write_spec, rest, train_iris, catalog_name):
    import mlflow

    run = train_iris()
    first = write_spec(model_spec(catalog_name, f"{{run: {run}}}"), name="first.yaml")
    assert ucgov("apply", str(first), "--auto-approve").exit_code == 0

    assert iris_accuracy(mlflow.pyfunc.load_model(f"runs:/{run}/model")) >= 0.9
    second = write_spec(model_spec(catalog_name, f"{{run: {run}}}").replace("iris:", "iris_copy:"), name="first.yaml")
    assert ucgov("apply", str(second), "--auto-approve").exit_code == 0
    assert versions(rest, f"{catalog_name}.default.iris_copy") == [(1, run, "READY")]


def test_a_second_run_becomes_version_2_and_switching_back_registers_nothing(
    server, ucgov, write_spec, rest, train_iris, catalog_name
):
    first, second = train_iris(5), train_iris(20)
    model = f"{catalog_name}.default.iris"
    assert (
        ucgov("apply", str(write_spec(model_spec(catalog_name, f"{{run: {first}}}"))), "--auto-approve").exit_code == 0
    )

    assert (
        ucgov("apply", str(write_spec(model_spec(catalog_name, f"{{run: {second}}}"))), "--auto-approve").exit_code == 0
    )
    assert versions(rest, model) == [(1, first, "READY"), (2, second, "READY")]
    assert load_approved(server, model)[0] == f"models:/{model}/2"

    back = write_spec(model_spec(catalog_name, "{version: 1}"))
    assert actions(ucgov, back) == [("approve", model)]
    assert ucgov("apply", str(back), "--auto-approve").exit_code == 0
    assert versions(rest, model) == [(1, first, "READY"), (2, second, "READY")]
    assert load_approved(server, model)[0] == f"models:/{model}/1"


def test_an_approval_changed_behind_ucgovs_back_is_detected_and_a_persons_comment_kept(
    ucgov, write_spec, rest, train_iris, catalog_name
):
    run = train_iris()
    model = f"{catalog_name}.default.iris"
    specs = write_spec(model_spec(catalog_name, f"{{run: {run}}}", comment=None))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    rest.http.patch(f"/models/{model}", json={"comment": "Owned by the iris team\n\nucgov: approved version 7"})

    assert actions(ucgov, specs) == [("approve", model)]
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    assert rest.get(f"/models/{model}")["comment"] == "Owned by the iris team\n\nucgov: approved version 1"


def test_unknown_run_version_and_failed_gate_are_plan_errors_with_file_and_line(
    ucgov, write_spec, rest, train_iris, catalog_name
):
    run = train_iris(3)
    assert ucgov("apply", str(write_spec(f"catalogs:\n  {catalog_name}:\n")), "--auto-approve").exit_code == 0
    cases = {
        "{run: 0123456789abcdef0123456789abcdef}": "spec.yaml:10:29: unknown run 0123456789abcdef0123456789abcdef",
        "{version: 3}": f"spec.yaml:10:33: version 3 of model {catalog_name}.default.iris does not exist",
        f"{{run: {run}, artifact_path: nothere}}": f"run {run} has no MLflow model at artifact path 'nothere'",
        f"{{run: {run}, require: {{params: {{n_estimators: 100}}}}}}": "fails param n_estimators == 100: its n_estimators is 3",
    }
    for approved, message in cases.items():
        result = ucgov("plan", str(write_spec(model_spec(catalog_name, approved))))
        assert result.exit_code == 1, approved
        assert message in result.output, result.output
    assert rest.status(f"/models/{catalog_name}.default.iris") == 404


def test_a_failed_registration_leaves_no_half_made_version(server, write_spec, rest, train_iris, catalog_name):
    import mlflow

    from ucgov.apply import apply_plan
    from ucgov.errors import ApplyError
    from ucgov.live import read_state
    from ucgov.planner import diff
    from ucgov.spec import load_specs

    run = train_iris()
    desired = load_specs([write_spec(model_spec(catalog_name, f"{{run: {run}}}"))])
    with server.client() as client:
        plan = diff(desired, read_state(client, desired))
        stored = mlflow.get_logged_model(mlflow.get_run(run).outputs.model_outputs[0].model_id).artifact_location
        hidden = stored.removeprefix("file://") + ".hidden"
        os.rename(stored.removeprefix("file://"), hidden)  # the artifacts vanish between plan and apply
        try:
            with pytest.raises(ApplyError) as failed:
                apply_plan(plan, client)
        finally:
            os.rename(hidden, stored.removeprefix("file://"))

    assert "version 1 was deleted, so nothing half-made remains" in failed.value.format_message()
    assert versions(rest, f"{catalog_name}.default.iris") == []


def test_a_plan_without_runs_does_not_import_mlflow(server, write_spec, catalog_name):
    import subprocess
    import sys

    specs = write_spec(model_spec(catalog_name, "{version: 1}").replace("            approved: {version: 1}\n", ""))
    code = (
        "import sys\nfrom ucgov.cli import cli\n"
        f"try:\n    cli.main(['plan', {str(specs)!r}, '--url', {server.url!r}])\nexcept SystemExit:\n    pass\n"
        "print('mlflow' in sys.modules)"
    )
    env = {**os.environ, "UCGOV_TOKEN": server.token}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)

    assert "Plan: 3 to create" in result.stdout
    assert result.stdout.strip().endswith("False")


def test_pinned_mlflows_own_registration_deletes_a_local_runs_model(server, rest, train_iris, catalog_name):
    """Why ucgov copies artifacts itself: seen with MLflow 3.17 against this server. If this starts
    failing, MLflow fixed it; ucgov's own copy stays correct either way."""
    import mlflow
    from mlflow.artifacts import list_artifacts

    run = train_iris()
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    os.environ["MLFLOW_UC_OSS_TOKEN"] = server.token
    mlflow.set_registry_uri(f"uc:{server.url}")
    assert list_artifacts(artifact_uri=f"runs:/{run}/model")

    mlflow.register_model(f"runs:/{run}/model", f"{catalog_name}.s.m")

    assert list_artifacts(artifact_uri=f"runs:/{run}/model") == []


def test_resolve_refuses_a_marker_typed_by_hand_that_names_a_missing_version(
    ucgov, write_spec, rest, train_iris, catalog_name
):
    run = train_iris()
    model = f"{catalog_name}.default.iris"
    specs = write_spec(model_spec(catalog_name, f"{{run: {run}}}"))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    assert ucgov("resolve", model, "--spec", str(specs)).output.strip() == f"models:/{model}/1"
    rest.http.patch(f"/models/{model}", json={"comment": "Iris\n\nucgov: approved version 9"}).raise_for_status()

    result = ucgov("resolve", model)

    assert result.exit_code == 1
    assert (
        f"model {model} names version 9 as approved, but that version does not exist; refusing to resolve it"
        in result.output
    )
    assert "models:/" not in result.output


def test_resolve_with_the_spec_refuses_a_version_from_another_run(ucgov, write_spec, rest, train_iris, catalog_name):
    first, second = train_iris(5), train_iris(6)
    model = f"{catalog_name}.default.iris"
    assert (
        ucgov("apply", str(write_spec(model_spec(catalog_name, f"{{run: {first}}}"))), "--auto-approve").exit_code == 0
    )
    specs = write_spec(model_spec(catalog_name, f"{{run: {second}}}"))  # reviewed, not applied yet

    result = ucgov("resolve", model, "--spec", str(specs))

    assert result.exit_code == 1
    assert f"the spec approves the model from run {second} at 'model'" in result.output


def test_changing_artifact_path_for_the_same_run_registers_that_model(
    ucgov, write_spec, rest, train_iris, catalog_name
):
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    run = train_iris()
    with mlflow.start_run(run_id=run):
        features, labels = load_iris(return_X_y=True, as_frame=True)
        tree = DecisionTreeClassifier(random_state=0).fit(features, labels)
        mlflow.sklearn.log_model(tree, name="tree", serialization_format="cloudpickle")
    model = f"{catalog_name}.default.iris"
    assert ucgov("apply", str(write_spec(model_spec(catalog_name, f"{{run: {run}}}"))), "--auto-approve").exit_code == 0
    tree_spec = write_spec(model_spec(catalog_name, f"{{run: {run}, artifact_path: tree}}"))

    assert actions(ucgov, tree_spec) == [("register", model), ("approve", model)]
    applied = ucgov("apply", str(tree_spec), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert versions(rest, model) == [(1, run, "READY"), (2, run, "READY")]
    assert rest.get(f"/models/{model}/versions/2")["source"] == f"runs:/{run}/tree"
    assert ucgov("resolve", model, "--spec", str(tree_spec)).output.strip() == f"models:/{model}/2"
    assert actions(ucgov, tree_spec) == []


def test_a_spec_that_only_approves_leaves_grants_made_by_hand_alone(ucgov, write_spec, rest, train_iris, catalog_name):
    run = train_iris()
    model = f"{catalog_name}.default.iris"
    assert ucgov("apply", str(write_spec(model_spec(catalog_name, f"{{run: {run}}}"))), "--auto-approve").exit_code == 0
    rest.patch_grants("catalog", catalog_name, "alice@example.com", add=["USE CATALOG"])
    rest.patch_grants("registered_model", model, "bob@example.com", add=["EXECUTE"])
    no_grants = model_spec(catalog_name, f"{{run: {run}}}").replace(
        "            grants: {serving-app@example.com: [EXECUTE]}\n", ""
    )

    plan = ucgov("plan", str(write_spec(no_grants)))

    assert plan.exit_code == 0, plan.output
    assert "No changes" in plan.output
    assert rest.grants("registered_model", model) == {
        "serving-app@example.com": {"EXECUTE"},
        "bob@example.com": {"EXECUTE"},
    }
