"""New model versions: registering an MLflow run, or promoting another model's version (from this
server, or from another target's server through its own client).

Both create a version, copy its files to the storage location the server names, check MLmodel is
there, finalize and wait for READY; a failure part-way deletes what it made (``_clean_up``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ucgov import storage
from ucgov.client import UCClient
from ucgov.errors import ApiError, StorageError, UcgovError
from ucgov.plan import Promotion, Registration
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


def ready_promoted(client: UCClient, name: str, lineage: str) -> int:
    """The newest READY version of the model whose comment carries ``lineage`` (``promoted from MODEL/N``)."""
    ready = [v.version for v in client.list_versions(name) if v.ready and v.carries(lineage)]
    if not ready:
        raise UcgovError(f"no READY version of model {name} is {lineage}; run plan again")
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


def promote(client: UCClient, name: str, promotion: Promotion, *, source: UCClient | None = None) -> int:
    """The READY version of model ``name`` that holds the promoted source version: reused, finished or newly made.

    The new version records the source's run and source, and its comment the lineage; the source's
    files are read with the read credentials its server (``source``: another target's, else
    ``client``'s) vends for it and written with the target's write credentials. The source is never
    changed. If this fails, the version it made is deleted.
    """
    lineage = promotion.lineage
    carrying = [v for v in client.list_versions(name) if v.carries(lineage)]
    ready = [v.version for v in carrying if v.ready]
    if ready:
        return max(ready)
    reader = source or client
    found = _source_version(reader, promotion)
    pending = [v.version for v in carrying if v.status == "PENDING_REGISTRATION"]
    info = client.get_version(name, max(pending)) if pending else _new_promoted(client, name, promotion, found)
    version = int(info["version"])
    what = f"promoting {promotion.named}/{promotion.from_version} as version {version} of model {name}"
    store: Storage | None = None
    try:
        store = storage.at(
            info["storage_location"], vend=lambda: client.model_version_credentials(name, version, write=True)
        )
        _copy_version(reader, promotion, found, store)
        _finalize(client, name, version)
        _wait_until_ready(client, name, version)
    except UcgovError as exc:
        again = "the next apply promotes it again"
        raise UcgovError(f"{what} failed: {exc}; {_clean_up(client, name, version, store, again=again)}") from exc
    return version


def _source_version(client: UCClient, promotion: Promotion) -> dict:
    """The source version as its server has it now: READY, and from the run the plan showed."""
    model, number = promotion.named, promotion.from_version
    try:
        found = client.get_version(promotion.from_model, number)
    except ApiError as exc:
        if exc.not_found:
            raise UcgovError(
                f"version {number} of model {model}, to promote, no longer exists; run plan again"
            ) from exc
        server = promotion.from_server
        if server is not None and exc.status is None:  # nothing answered: say which target, not --url
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "no answer"
            raise UcgovError(
                f"cannot reach target {server.target} at {server.url} ({cause}) to read version {number} "
                f"of model {promotion.from_model}, to promote"
            ) from exc
        raise
    if found.get("status") != "READY":
        raise UcgovError(f"version {number} of model {model}, to promote, is {found.get('status')}, not READY")
    if (found.get("run_id") or None) != promotion.run_id:
        raise UcgovError(
            f"version {number} of model {model} now names run {found.get('run_id')}, and the plan showed "
            f"{promotion.run_id}; run plan again"
        )
    return found


def _new_promoted(client: UCClient, name: str, promotion: Promotion, source: dict) -> dict:
    """A new PENDING_REGISTRATION version carrying the lineage; if the answer to its create was lost, the one it made."""
    made = {"source": source.get("source") or "", "run_id": source.get("run_id") or None, "comment": promotion.lineage}
    try:
        return client.create_version(name, **made)
    except OutcomeUnknown:
        pending = [v.version for v in client.list_versions(name) if v.carries(promotion.lineage) and not v.ready]
        if pending:
            return client.get_version(name, max(pending))
        return client.create_version(name, **made)  # the first never took effect


def _copy_version(client: UCClient, promotion: Promotion, source: dict, destination: Storage) -> None:
    """The source version's files, read with the read credentials its server (``client``) vends, put at
    ``destination``; MLmodel checked on both sides."""
    model, number = promotion.named, promotion.from_version
    location = source.get("storage_location")
    if not location:
        raise UcgovError(f"the server names no storage location for version {number} of model {model}")
    vend = lambda: client.model_version_credentials(promotion.from_model, number, write=False)  # noqa: E731
    origin = storage.at(location, vend=vend)
    with tempfile.TemporaryDirectory(prefix="ucgov-promote-") as scratch:
        origin.get_folder(Path(scratch))
        if not (Path(scratch) / "MLmodel").is_file():
            raise StorageError(
                f"MLmodel is not at {location}, where version {number} of model {model} is", location=location
            )
        destination.put_folder(Path(scratch))
    if not destination.has("MLmodel"):  # finalizing a version without its model would approve an empty folder
        raise StorageError(f"MLmodel is not at {destination.location} after the copy", location=destination.location)


def _clean_up(
    client: UCClient,
    name: str,
    version: int,
    store: Storage | None,
    *,
    again: str = "the next apply registers the run again",
) -> str:
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
    return f"version {version} was deleted, so nothing half-made remains{files}; {again}"
