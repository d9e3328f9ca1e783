"""One real Unity Catalog server for the whole test session, started the way `ucgov sandbox` does."""

from __future__ import annotations

import os
import re
import socket
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization

from ucgov import sandbox
from ucgov.cli import cli
from ucgov.errors import SandboxError

USERS = ("alice@example.com", "bob@example.com", "carol@example.com", "serving-app@example.com")


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and sandbox._port_free(port + 1):
            return port
    raise RuntimeError("no two free neighbouring ports")


def server_required() -> bool:
    """In CI (CI=true) and with UCGOV_REQUIRE_SERVER=1 an integration test never skips: no server fails it."""
    return os.environ.get("UCGOV_REQUIRE_SERVER") == "1" or os.environ.get("CI", "").lower() in {"true", "1"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    yield from _sandbox(tmp_path_factory, "sandbox", "the real Unity Catalog server")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """A second real server whose model versions live in a bucket of a local S3 server (moto), started as `ucgov sandbox start --storage s3` does."""
    yield from _sandbox(tmp_path_factory, "sandbox-s3", "the real Unity Catalog server with S3 storage", storage="s3")


@pytest.fixture(scope="session")
def second_server(tmp_path_factory: pytest.TempPathFactory):
    """Another real server on its own ports, for what spans two servers: a promotion from one target's to another's."""
    yield from _sandbox(tmp_path_factory, "sandbox-second", "a second real Unity Catalog server")


def _sandbox(factory: pytest.TempPathFactory, folder: str, what: str, **options):
    """A started sandbox for the session, stopped after it; where it cannot start, a fail in CI, else a skip."""
    base = factory.mktemp(folder)
    port = _free_port_pair()
    try:
        started = sandbox.start(port, users=USERS, base=base, progress=print, **options)
    except SandboxError as exc:
        reason = f"{what} cannot be had here, so nothing is faked: {exc}"
        if server_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    yield started
    sandbox.stop(port, base=base)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "integration" in report.keywords and server_required():
        _skipped_integration.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Where the server is required, an integration test that skipped anyway fails the run."""
    if _skipped_integration and exitstatus == 0:
        print(
            f"\n{len(_skipped_integration)} integration test(s) skipped where the server is required (CI or UCGOV_REQUIRE_SERVER=1)"
        )
        session.exitstatus = 1


_skipped_integration: list[str] = []


class Rest:
    """Reads and writes the server directly, not through ucgov, to check what ucgov did."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url + "/api/2.1/unity-catalog", headers={"Authorization": f"Bearer {token}"})
        self.scim = httpx.Client(
            base_url=url + "/api/1.0/unity-control/scim2", headers={"Authorization": f"Bearer {token}"}
        )

    def get(self, path: str) -> dict:
        response = self.http.get(path)
        response.raise_for_status()
        return response.json()

    def status(self, path: str) -> int:
        return self.http.get(path).status_code

    def grants(self, securable_type: str, full_name: str) -> dict[str, set[str]]:
        body = self.get(f"/permissions/{securable_type}/{full_name}")
        return {a["principal"]: set(a["privileges"]) for a in body.get("privilege_assignments", []) if a["privileges"]}

    def patch_grants(self, securable_type: str, full_name: str, principal: str, add=(), remove=()) -> None:
        change = {"principal": principal, "add": list(add), "remove": list(remove)}
        self.http.patch(f"/permissions/{securable_type}/{full_name}", json={"changes": [change]}).raise_for_status()

    def post(self, path: str, body: dict) -> dict:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def tracking_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real local MLflow tracking store (sqlite), shared by the session's runs."""
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    # artifacts under the session's folder, not ./mlruns in the working directory
    mlflow.set_experiment(
        experiment_id=mlflow.create_experiment("ucgov-tests", artifact_location=(folder / "artifacts").as_uri())
    )
    return uri


@pytest.fixture(scope="session")
def train_iris(tracking_store):
    """Trains a RandomForest on iris in a real MLflow run, as the MLflow walkthrough does; returns the run id."""
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    def train(n_estimators: int = 10, *, log_model: bool = True) -> str:
        features, labels = load_iris(return_X_y=True, as_frame=True)
        with mlflow.start_run() as run:
            model = RandomForestClassifier(n_estimators=n_estimators, random_state=0).fit(features, labels)
            mlflow.log_param("n_estimators", n_estimators)
            mlflow.log_metric("accuracy", model.score(features, labels))
            if log_model:
                mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle")
        return run.info.run_id

    return train


@pytest.fixture(scope="session")
def token_for(server):
    """A token for any user, signed with the server's own key like the admin's (no password login exists)."""
    conf = Path(server.workdir) / "etc" / "conf"
    key = serialization.load_der_private_key((conf / "private_key.der").read_bytes(), password=None)
    admin = jwt.decode(server.token, options={"verify_signature": False})

    def token(email: str) -> str:
        claims = {**admin, "sub": email, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, key, algorithm="RS512", headers={"kid": (conf / "key_id.txt").read_text().strip()})

    return token


@pytest.fixture(scope="session")
def rest(server) -> Rest:
    return Rest(server.url, server.token)


@pytest.fixture(scope="session")
def second_rest(second_server) -> Rest:
    return Rest(second_server.url, second_server.token)


@pytest.fixture(scope="session")
def s3_rest(s3_server) -> Rest:
    return Rest(s3_server.url, s3_server.token)


@pytest.fixture
def catalog_name(request) -> str:
    """A catalog name no other test uses, since all tests share one server."""
    stem = re.sub(r"[^a-zA-Z0-9_]", "_", request.node.name)[:40]
    return f"{stem}_{uuid.uuid4().hex[:6]}"


@pytest.fixture
def ucgov(server, monkeypatch):
    """Runs the ucgov CLI against the session's server, as a user would."""
    monkeypatch.setenv("UCGOV_URL", server.url)
    monkeypatch.setenv("UCGOV_TOKEN", server.token)
    runner = CliRunner()

    def run(*args: str, env: dict | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


@pytest.fixture
def write_spec(tmp_path: Path):
    def write(text: str, name: str = "spec.yaml") -> Path:
        (tmp_path / "specs").mkdir(exist_ok=True)
        path = tmp_path / "specs" / name
        path.write_text(text)
        return tmp_path / "specs"

    return write
