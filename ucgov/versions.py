"""Registering an MLflow run as a new model version: create, copy artifacts, check, finalize, wait for READY."""

from __future__ import annotations

import time

from ucgov import storage
from ucgov.client import UCClient
from ucgov.errors import ApiError, StorageError, UcgovError
from ucgov.plan import Registration
from ucgov.storage import Storage
from ucgov.transport import OutcomeUnknown

READY_TIMEOUT = 120.0


def register(client: UCClient, name: str, registration: Registration) -> int:
    """The READY version that now holds the run's model: reused, finished or newly made.

    A version left PENDING_REGISTRATION by an earlier failed apply is finished, not duplicated;
    if this registration fails, the version it made is deleted, or the error says it remains.
    """
    run, path = registration.run, registration.artifact_path
    from_run = [v for v in client.list_versions(name) if v.came_from(run, path)]
    ready = [v.version for v in from_run if v.ready]
    if ready:
        return max(ready)
    pending = [v.version for v in from_run if v.status == "PENDING_REGISTRATION"]
    from ucgov import mlflow_bridge  # imported only when a run is registered

    info = client.get_version(name, max(pending)) if pending else _new_version(client, name, registration)
    version = int(info["version"])
    store: Storage | None = None
    try:
        store = storage.at(
            info["storage_location"], vend=lambda: client.model_version_credentials(name, version, write=True)
        )
        mlflow_bridge.copy_model(run, path, store)
        if not store.has("MLmodel"):  # finalizing a version without its model would approve an empty folder
            raise StorageError(f"MLmodel is not at {store.location} after the copy", location=store.location)
        _finalize(client, name, version)
        _wait_until_ready(client, name, version)
    except UcgovError as exc:
        raise UcgovError(
            f"registering run {run} as version {version} of model {name} failed: {exc}; "
            f"{_clean_up(client, name, version, store)}"
        ) from exc
    return version


def _new_version(client: UCClient, name: str, registration: Registration) -> dict:
    """A new PENDING_REGISTRATION version; if the answer to its create was lost, the one it made."""
    from ucgov import mlflow_bridge

    run, path = registration.run, registration.artifact_path
    source = mlflow_bridge.runs_uri(run, path)
    try:
        return client.create_version(name, source=source, run_id=run)
    except OutcomeUnknown:
        made = [v.version for v in client.list_versions(name) if v.came_from(run, path) and not v.ready]
        if made:
            return client.get_version(name, max(made))
        return client.create_version(name, source=source, run_id=run)  # the first never took effect


def _finalize(client: UCClient, name: str, version: int) -> None:
    """Finalize the version; when the answer is lost or refused, its status says whether it happened."""
    try:
        client.finalize_version(name, version)
    except ApiError:
        if client.get_version(name, version).get("status") != "READY":
            raise


def ready_from_run(client: UCClient, name: str, run: str, artifact_path: str) -> int:
    """The newest READY version of the model that holds the model the run logged at ``artifact_path``."""
    ready = [v.version for v in client.list_versions(name) if v.came_from(run, artifact_path) and v.ready]
    if not ready:
        raise UcgovError(
            f"no READY version of model {name} holds run {run}'s model at '{artifact_path}'; run plan again"
        )
    return max(ready)


def _wait_until_ready(client: UCClient, name: str, version: int, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status = client.get_version(name, version).get("status")
        if status == "READY":
            return
        if status == "FAILED_REGISTRATION" or time.monotonic() > deadline:
            raise UcgovError(f"version {version} of model {name} is {status}, not READY")
        time.sleep(0.5)


def _clean_up(client: UCClient, name: str, version: int, store: Storage | None) -> str:
    """Delete the version this registration made and the files it copied, but only when it is provably unfinished.

    The server leaves a deleted version's files in place, so they go first, while the version
    still vends write credentials; if they cannot be removed, the version stays so that the next
    apply can finish it at the same location instead of orphaning them.
    """
    try:
        status = client.get_version(name, version).get("status")
        if status == "READY":
            return f"version {version} is READY and stays; the next apply approves it"
        if store is not None:
            store.remove()
        client.delete_version(name, version)
    except UcgovError as exc:
        return (
            f"version {version} could not be deleted ({exc}) and stays PENDING_REGISTRATION; the next apply finishes it"
        )
    files = f" (its files at {store.location} were removed first)" if store is not None else ""
    return f"version {version} was deleted, so nothing half-made remains{files}; the next apply registers the run again"
