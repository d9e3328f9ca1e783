"""The MLflow edge: reading the runs that approvals name, and copying a run's model for registration.

The only module that imports mlflow, and only inside its functions: `ucgov --help`, `validate`
and plans without runs never pay for it (about a second and a few hundred MB).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from ucgov.errors import PlanError, UcgovError
from ucgov.state import Approval, RunInfo
from ucgov.storage import Storage
from ucgov.transport import masked_userinfo, without_userinfo


def runs_uri(run_id: str, artifact_path: str) -> str:
    return f"runs:/{run_id}/{artifact_path}"


def read_runs(approvals: list[Approval]) -> dict[str, RunInfo]:
    """Each named run that exists, with metrics, params, tags and which artifact paths hold a model.

    A run missing from the result does not exist. An unreachable store is a PlanError naming
    the spec's file and line.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    runs: dict[str, RunInfo] = {}
    for approval in approvals:
        if approval.run is None or approval.run in runs:
            continue
        try:
            run = client.get_run(approval.run)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                continue
            raise _store_error(approval, exc) from exc
        except OSError as exc:
            raise _store_error(approval, exc) from exc
        paths = {a.artifact_path for a in approvals if a.run == approval.run}
        runs[approval.run] = RunInfo(
            run_id=run.info.run_id,
            artifact_uri=run.info.artifact_uri,
            metrics=dict(run.data.metrics),
            params=dict(run.data.params),
            tags=dict(run.data.tags),
            model_paths=frozenset(p for p in paths if _holds_model(run.info.run_id, p)),
        )
    return runs


def _holds_model(run_id: str, artifact_path: str) -> bool:
    from mlflow.artifacts import list_artifacts
    from mlflow.exceptions import MlflowException

    try:  # runs:/ resolves both run artifacts (MLflow 2) and logged models (MLflow 3)
        listed = list_artifacts(artifact_uri=runs_uri(run_id, artifact_path))
    except (MlflowException, OSError):
        return False
    return any(Path(a.path).name == "MLmodel" for a in listed)


def _store_error(approval: Approval, exc: Exception) -> PlanError:
    uri = without_userinfo(os.environ.get("MLFLOW_TRACKING_URI", "(MLFLOW_TRACKING_URI not set: ./mlruns)"))
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = urlparse(os.environ.get("MLFLOW_TRACKING_URI", "")).password
    first_line = masked_userinfo(first_line.replace(password, "***") if password else first_line)
    return PlanError(
        f"{approval.where}: cannot read run {approval.run} from the MLflow tracking store at {uri}: {first_line}"
    )


def copy_model(run_id: str, artifact_path: str, destination: Storage) -> None:
    """Copy the run's model to a version's storage, leaving the run's artifacts untouched.

    MLflow's own registration deletes a local run's artifacts after copying them (see README),
    so ucgov downloads into a folder of its own, puts it at the destination, and removes only
    that folder.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException

    try:
        with tempfile.TemporaryDirectory(prefix="ucgov-") as scratch:
            downloaded = download_artifacts(artifact_uri=runs_uri(run_id, artifact_path), dst_path=scratch)
            if not (Path(downloaded) / "MLmodel").is_file():  # mlflow returns an empty folder for a missing path
                raise UcgovError(f"run {run_id} has no MLflow model at artifact path '{artifact_path}' any more")
            destination.put_folder(Path(downloaded))
    except (MlflowException, OSError) as exc:
        raise UcgovError(f"cannot copy the model of run {run_id} to {destination.location}: {exc}") from exc
