"""The MLflow edge: reading the runs that approvals name, and copying a run's model for registration.

The only module that imports mlflow, and only inside its functions: `ucgov --help`, `validate`
and plans without runs never pay for it (about a second and a few hundred MB).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
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

    if _missing_local_store(_tracking_uri()):
        return {}  # opening it would create an empty store (MLflow's default: ./mlflow.db), with no run in it
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
            logged_models=_logged_models(client, run, approval),
        )
    return runs


def tracking_store() -> str:
    """The tracking store runs are looked up in, in words for a message: which one, and why that one."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = _tracking_uri()
    shown = masked_userinfo(without_userinfo(uri))
    missing = ", which does not exist" if _missing_local_store(uri) else ""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return f"the MLflow tracking store {shown} (MLFLOW_TRACKING_URI){missing}"
    return (
        f"MLflow's default tracking store {shown}{missing} (MLFLOW_TRACKING_URI is not set: "
        "set it to the store the run was logged in)"
    )


def _tracking_uri() -> str:
    import mlflow

    return mlflow.get_tracking_uri()


def _missing_local_store(uri: str) -> bool:
    """Whether ``uri`` is a local store (a sqlite file or a folder) that does not exist yet."""
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        path = uri.split("://", 1)[1].split("?", 1)[0][1:]  # sqlite:///rel.db, sqlite:////abs.db
        return bool(path) and path != ":memory:" and not Path(path).exists()
    if parsed.scheme == "file" or (not parsed.scheme and uri != "databricks"):  # a bare name that is not a path
        return not Path(parsed.path if parsed.scheme else uri).exists()
    return False


def _logged_models(client: Any, run: Any, approval: Approval) -> dict[str, frozenset[str]]:
    """MLflow 3 logs a model as a "logged model" of the run; a registration of it records
    ``models:/m-ID`` as its source, often with no run id. Per model name: the sources naming it."""
    from mlflow.exceptions import MlflowException

    search = getattr(client, "search_logged_models", None)
    if search is None:  # MLflow 2: a model is a folder of the run's artifacts
        return {}
    try:
        found = search(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'")
    except MlflowException as exc:
        if exc.error_code in ("ENDPOINT_NOT_FOUND", "NOT_IMPLEMENTED", "FEATURE_DISABLED"):
            return {}  # a tracking server from before logged models
        raise _store_error(approval, exc) from exc
    except OSError as exc:
        raise _store_error(approval, exc) from exc
    named: dict[str, set[str]] = {}
    for model in found:
        named.setdefault(model.name, set()).update(
            s for s in (f"models:/{model.model_id}", model.artifact_location) if s
        )
    return {name: frozenset(sources) for name, sources in named.items()}


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
