"""The MLflow + Unity Catalog walkthrough, governed by ucgov.

Train a RandomForest on iris with MLflow, let ucgov register the run as a version of
unity.default.iris, approve it and grant EXECUTE (specs/), then load the approved version
back through MLflow's Unity Catalog registry and predict. Then the next pull request
(examples/promotion/) promotes that version to prod.default.iris, gated on its run's accuracy:
plan, apply, load the promoted version from prod and check it predicts the same.

Needs a server in UCGOV_URL / UCGOV_TOKEN, e.g. from `eval "$(ucgov sandbox start ...)"`.
MLflow uses MLFLOW_TRACKING_URI, or a local sqlite store in .ucgov-demo/. The run and the store
are written to .ucgov-demo/env, so `. .ucgov-demo/env && ucgov plan specs/` plans it by hand.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".ucgov-demo"  # git ignores it
MODEL = "unity.default.iris"
PROMOTED = "prod.default.iris"  # examples/promotion/prod.yaml promotes MODEL's version 1 there


def tracking_store() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if "MLFLOW_TRACKING_URI" in os.environ:
        return
    import mlflow

    DEMO.mkdir(exist_ok=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{DEMO / 'mlflow.db'}"
    if mlflow.get_experiment_by_name("iris") is None:
        mlflow.create_experiment("iris", artifact_location=(DEMO / "mlruns").as_uri())


def remember(run_id: str) -> None:
    """The run and its store, for a shell to plan again by hand: MLflow's store is set in this
    process only, and ucgov would otherwise look for the run in MLflow's default store."""
    DEMO.mkdir(exist_ok=True)
    store, run = shlex.quote(os.environ["MLFLOW_TRACKING_URI"]), shlex.quote(run_id)
    (DEMO / "env").write_text(f"export MLFLOW_TRACKING_URI={store} UCGOV_VAR_IRIS_RUN={run}\n")


def train() -> str:
    """The walkthrough's model: a RandomForest on iris, logged with its accuracy."""
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    mlflow.set_experiment("iris")
    features, labels = load_iris(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=0.2, random_state=42)
    with mlflow.start_run() as run:
        params = {"n_estimators": 100, "max_depth": 4, "random_state": 42}
        model = RandomForestClassifier(**params).fit(x_train, y_train)
        mlflow.log_params(params)
        mlflow.log_metric("accuracy", model.score(x_test, y_test))
        mlflow.sklearn.log_model(model, name="model", input_example=x_train.head(3), serialization_format="cloudpickle")
    print(f"Trained run {run.info.run_id} (test accuracy {model.score(x_test, y_test):.3f})")
    return run.info.run_id


def ucgov(*args: str) -> int:
    """Run a ucgov command as a user would, showing it first."""
    print(f"\n$ ucgov {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "ucgov", *args], cwd=ROOT).returncode


def load_and_predict(name: str, what: str) -> list[str]:
    """Load the approved version of model ``name`` through MLflow's Unity Catalog registry and
    predict; the predicted classes of all of iris."""
    import mlflow
    from sklearn.datasets import load_iris

    import ucgov as governance

    os.environ["MLFLOW_UC_OSS_TOKEN"] = os.environ.get("UCGOV_TOKEN", "")  # MLflow sends a token only from here
    mlflow.set_registry_uri(f"uc:{os.environ.get('UCGOV_URL', 'http://127.0.0.1:8080')}")
    uri = governance.resolve(name)
    print(f"\nLoading the {what} version: {uri}")
    model = mlflow.pyfunc.load_model(uri)
    iris = load_iris(as_frame=True)
    predicted = [iris.target_names[i] for i in model.predict(iris.data)]
    rows = iris.data.head(5).copy()
    rows["actual_class"] = [iris.target_names[i] for i in iris.target.head(5)]
    rows["predicted_class"] = predicted[:5]
    print(rows.to_string(index=False))
    accuracy = sum(p == iris.target_names[t] for p, t in zip(predicted, iris.target, strict=True)) / len(predicted)
    print(f"accuracy on all of iris: {accuracy:.3f}")
    return predicted


def main() -> int:
    tracking_store()
    run_id = train()
    remember(run_id)
    var = f"IRIS_RUN={run_id}"
    for step in (
        ("plan", "specs/", "--var", var),
        ("apply", "specs/", "--var", var, "--auto-approve"),
        ("plan", "specs/", "--var", var, "--detailed-exitcode"),
    ):
        if ucgov(*step) != 0:
            return 1
    approved = load_and_predict(MODEL, "approved")
    # the next pull request promotes the reviewed version to prod: plan it, apply it, load it there
    promotion = ("specs/", "examples/promotion/", "--var", var)
    for step in (("plan", *promotion), ("apply", *promotion, "--auto-approve")):
        if ucgov(*step) != 0:
            return 1
    promoted = load_and_predict(PROMOTED, "promoted")
    print(f"The promoted version predicts {'the same as' if promoted == approved else 'OTHER THAN'} the approved one.")
    if promoted != approved:
        return 1
    print("\nTo plan it again by hand, with this run and MLflow store: . .ucgov-demo/env && ucgov plan specs/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
