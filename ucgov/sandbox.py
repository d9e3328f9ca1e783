"""A real open-source Unity Catalog server on this machine, with authorization on.

The server's jars come through Maven once (see ``ucgov.maven``) and are cached; each start
gets a fresh working directory, so the database starts empty. Only the server this module
started on a port is ever stopped.

Model versions are stored in a folder of that working directory (``storage="file"``), or in a
bucket of a local S3-compatible server (``storage="s3"``: moto's server mode, an extra) that
the Unity Catalog server vends static credentials for, as it would for a real bucket.

Managed objects need a storage root, and the 0.6.0 server finds one in different places by kind:
models and managed tables fall back to server settings (``storage-root.models``,
``storage-root.tables``, given on the command line), but managed volumes only to the storage
root of their catalog or schema. A catalog or schema can only have one inside an external
location, so every sandbox registers one, ``ucgov_sandbox`` (with a storage credential of the
same name), over ``Sandbox.managed_root``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

import httpx

from ucgov.client import UCClient
from ucgov.errors import ApiError, SandboxError
from ucgov.maven import SERVER_VERSION, Progress, server_jars

__all__ = ["SERVER_VERSION", "Sandbox", "current", "java_command", "start", "state_dir", "stop"]

MAIN_CLASS = "io.unitycatalog.server.UnityCatalogServer"
DEFAULT_PORT = 8080
MAX_PORT = 65534
"""The highest PORT a sandbox can have: it also listens on PORT+1."""
START_TIMEOUT = 180.0
STORAGES = ("file", "s3")
S3_BUCKET = "ucgov-sandbox"
S3_REGION = "us-east-1"
S3_MAIN = "moto.server"
MANAGED_LOCATION = "ucgov_sandbox"
"""The external location (and its storage credential) over the sandbox's managed storage."""
_ROLE_ARN = "arn:aws:iam::000000000000:role/ucgov-sandbox"  # the server stores it; nothing assumes it
# moto accepts any keys; all three set makes the server vend them as they are, never calling STS
_S3_KEYS = {
    "accessKey": "ucgov-sandbox-key",
    "secretKey": "ucgov-sandbox-secret",
    "sessionToken": "ucgov-sandbox-session",
}


@dataclass(frozen=True)
class Sandbox:
    """A started server: where it listens and where its files are."""

    port: int
    pid: int
    workdir: str
    storage: str = "file"
    s3_port: int | None = None
    s3_pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def s3_endpoint(self) -> str | None:
        """The local S3 server's URL, when model versions are stored there."""
        return f"http://127.0.0.1:{self.s3_port}" if self.s3_port else None

    @property
    def storage_root(self) -> str:
        """Where the server puts model versions."""
        if self.storage == "s3":
            return f"s3://{S3_BUCKET}/root"
        return (Path(self.workdir) / "models").resolve().as_uri()

    @property
    def tables_root(self) -> str:
        """Where the server puts managed tables whose catalog and schema have no storage root."""
        return self._root("tables")

    @property
    def managed_root(self) -> str:
        """Under this, a catalog's or schema's ``storage_root`` is allowed (external location
        ``ucgov_sandbox``); only there can managed volumes be created."""
        return self._root("managed")

    def _root(self, folder: str) -> str:
        if self.storage == "s3":
            return f"s3://{S3_BUCKET}/{folder}"
        return (Path(self.workdir) / folder).resolve().as_uri()

    @property
    def token(self) -> str:
        """The admin's token, as the server wrote it (ucgov keeps no copy)."""
        return (Path(self.workdir) / "etc" / "conf" / "token.txt").read_text().strip()

    def env_lines(self) -> list[str]:
        lines = [f"export UCGOV_URL={self.url}", f"export UCGOV_TOKEN={self.token}"]
        # specs name it as ${var.SANDBOX_STORAGE}: a storage_root there may hold managed volumes
        lines.append(f"export UCGOV_VAR_SANDBOX_STORAGE={shlex.quote(self.managed_root)}")
        if self.s3_endpoint:  # boto3 (ucgov's copy) and MLflow (loading a model) both read these
            lines += [
                f"export AWS_ENDPOINT_URL_S3={self.s3_endpoint}",
                f"export MLFLOW_S3_ENDPOINT_URL={self.s3_endpoint}",
            ]
        return lines

    def client(self) -> UCClient:
        return UCClient(self.url, token=self.token)


def state_dir() -> Path:
    """Where running sandboxes keep their working directories (UCGOV_SANDBOX_DIR overrides)."""
    if os.environ.get("UCGOV_SANDBOX_DIR"):
        return Path(os.environ["UCGOV_SANDBOX_DIR"])
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "ucgov" / "sandbox"


def java_command() -> str:
    """The java executable, checked to be version 17 or newer (JAVA_HOME first)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else shutil.which("java")
    if not java:
        raise SandboxError(
            "Java 17 or newer is needed to run the Unity Catalog server: install it, e.g. `apt-get install openjdk-17-jre-headless`"
        )
    result = subprocess.run([java, "-version"], capture_output=True, text=True)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    major = int(match.group(1)) if match else 0
    major = int(match.group(2)) if match and major == 1 and match.group(2) else major
    if major < 17:
        raise SandboxError(
            f"Java 17 or newer is needed, but {java} is version {major or 'unknown'}: install a newer JDK or set JAVA_HOME"
        )
    return java


def start(
    port: int = DEFAULT_PORT,
    *,
    users: Iterable[str] = (),
    base: Path | None = None,
    maven_repos: Sequence[str] = (),
    progress: Progress = lambda _: None,
    storage: str = "file",
) -> Sandbox:
    """Start a fresh server on ``port`` (and port+1), wait until it answers, create ``users``.

    The server's jars come from Maven the first time, from ``maven_repos`` and UCGOV_MAVEN_REPO
    before Maven Central; ``progress`` hears what that download is doing. With ``storage="s3"``
    a local S3 server on a free port holds the model versions.
    """
    if storage not in STORAGES:
        raise SandboxError(f"storage {storage!r} is not one of {', '.join(STORAGES)}")
    if not 1 <= port <= MAX_PORT:  # 0 would let the server pick a port no one could find again
        raise SandboxError(f"port {port} cannot be used: the server needs PORT and PORT+1, from 1 to {MAX_PORT + 1}")
    if storage == "s3":
        _check_s3_server_installed()
    base = base or state_dir()
    running = _recorded(base, port)
    if running and _alive(running.pid):
        raise SandboxError(f"a sandbox already runs on port {port}; stop it with `ucgov sandbox stop --port {port}`")
    java = java_command()
    for p in (port, port + 1):
        if not _port_free(p):
            raise SandboxError(f"port {p} is busy (the server needs {port} and {port + 1}): choose another with --port")
    lib = server_jars(repositories=maven_repos, progress=progress)
    workdir = _fresh(base / str(port))
    s3 = _start_s3(workdir) if storage == "s3" else None
    try:
        sandbox = _launch(java, lib, port, workdir, s3)
    except BaseException:
        if s3:
            _terminate(s3[1], S3_MAIN)
        raise
    try:
        _wait_until_ready(sandbox)
        _register_managed_location(sandbox)
        with sandbox.client() as client:
            for email in users:
                _ensure_user(client, email)
    except BaseException:
        stop(port, base=base)
        raise
    return sandbox


def _fresh(workdir: Path) -> Path:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, mode=0o700)
    workdir.chmod(0o700)  # mkdir's mode is filtered by the caller's umask
    return workdir


def _launch(java: str, lib: Path, port: int, workdir: Path, s3: tuple[int, int] | None) -> Sandbox:
    storage = "s3" if s3 else "file"
    sandbox = Sandbox(
        port=port, pid=0, workdir=str(workdir), storage=storage, s3_port=s3 and s3[0], s3_pid=s3 and s3[1]
    )
    if s3:
        _write_s3_settings(workdir, sandbox)
    else:
        for folder in ("models", "tables", "managed"):
            (workdir / folder).mkdir()
    cmd = [
        java,
        "-Dserver.authorization=enable",
        f"-Dstorage-root.models={sandbox.storage_root}",
        f"-Dstorage-root.tables={sandbox.tables_root}",
        "-cp",
        f"{lib}/*",
        MAIN_CLASS,
        "--port",
        str(port),
    ]
    with open(workdir / "server.log", "wb") as log:
        process = subprocess.Popen(
            cmd,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,  # the admin token and the signing key it writes are for this user alone
        )
    sandbox = dataclasses.replace(sandbox, pid=process.pid)
    (workdir / "sandbox.json").write_text(json.dumps(asdict(sandbox)))
    return sandbox


def _write_s3_settings(workdir: Path, sandbox: Sandbox) -> None:
    """The bucket's settings, in the working directory's server.properties rather than on the
    command line, where every user of the machine could read the keys."""
    conf = workdir / "etc" / "conf"
    conf.mkdir(parents=True, mode=0o700)
    settings = {"bucketPath": f"s3://{S3_BUCKET}", "region": S3_REGION, **_S3_KEYS}
    lines = [f"s3.{key}.0={value}" for key, value in settings.items()]
    (conf / "server.properties").write_text("\n".join(lines) + "\n")
    (conf / "server.properties").chmod(0o600)


def _check_s3_server_installed() -> None:
    if find_spec("moto") is None or find_spec("flask") is None:
        raise SandboxError(
            "`--storage s3` runs moto's S3 server beside Unity Catalog, and it is not installed: "
            "pip install 'ucgov[sandbox-s3]'"
        )


def _start_s3(workdir: Path, timeout: float = 60.0) -> tuple[int, int]:
    """Start a local S3 server on a free port and create the sandbox's bucket: (port, pid)."""
    port = _free_port()
    with open(workdir / "s3.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", S3_MAIN, "-H", "127.0.0.1", "-p", str(port)],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(process.pid):
            break
        try:  # moto takes unsigned requests; the bucket must exist before the server writes to it
            if httpx.put(f"{endpoint}/{S3_BUCKET}", timeout=2).status_code == 200:
                return port, process.pid
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    _terminate(process.pid, S3_MAIN)
    log_text = (workdir / "s3.log").read_text(errors="replace")
    raise SandboxError(f"the local S3 server did not start on port {port}; its log:\n{log_text[-2000:]}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_ready(sandbox: Sandbox, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    token_file = Path(sandbox.workdir) / "etc" / "conf" / "token.txt"
    while time.monotonic() < deadline:
        if not _alive(sandbox.pid):
            raise SandboxError(f"the Unity Catalog server exited during start-up; its log:\n{_log_tail(sandbox)}")
        try:
            if httpx.get(sandbox.url + "/", timeout=2).status_code < 500 and token_file.exists():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SandboxError(f"the Unity Catalog server did not answer within {timeout:.0f}s; its log:\n{_log_tail(sandbox)}")


def _register_managed_location(sandbox: Sandbox) -> None:
    """A storage credential and the external location ``ucgov_sandbox`` over ``managed_root``,
    so that catalogs and schemas may be given a storage root there (and hold managed volumes)."""
    api = sandbox.url + "/api/2.1/unity-catalog"
    auth = {"Authorization": f"Bearer {sandbox.token}"}
    credential = {"name": MANAGED_LOCATION, "purpose": "STORAGE", "aws_iam_role": {"role_arn": _ROLE_ARN}}
    location = {"name": MANAGED_LOCATION, "url": sandbox.managed_root, "credential_name": MANAGED_LOCATION}
    for path, body in (("/credentials", credential), ("/external-locations", location)):
        response = httpx.post(api + path, json=body, headers=auth, timeout=30)
        if response.status_code != 200:
            raise SandboxError(
                f"the sandbox could not register its managed storage ({path} answered {response.status_code}: {response.text[:300]})"
            )


def _ensure_user(client: UCClient, email: str) -> None:
    try:
        client.create_user(email)
    except ApiError:
        if email not in client.list_users():  # a duplicate answers 500; anything else is real
            raise


def stop(port: int = DEFAULT_PORT, *, base: Path | None = None) -> bool:
    """Stop the sandbox this module started on ``port``; False if none was running."""
    base = base or state_dir()
    sandbox = _recorded(base, port)
    if sandbox is None:
        return False
    was_running = _alive(sandbox.pid)
    if was_running:
        _terminate(sandbox.pid, MAIN_CLASS)
    if sandbox.s3_pid and _alive(sandbox.s3_pid):
        _terminate(sandbox.s3_pid, S3_MAIN)
    shutil.rmtree(sandbox.workdir, ignore_errors=True)
    return was_running


def current(port: int = DEFAULT_PORT, *, base: Path | None = None) -> Sandbox:
    """The running sandbox on ``port``, for `ucgov sandbox env`."""
    sandbox = _recorded(base or state_dir(), port)
    if sandbox is None or not _alive(sandbox.pid):
        raise SandboxError(f"no sandbox runs on port {port}; start one with `ucgov sandbox start --port {port}`")
    return sandbox


def _recorded(base: Path, port: int) -> Sandbox | None:
    record = base / str(port) / "sandbox.json"
    if not record.exists():
        return None
    return Sandbox(**json.loads(record.read_text()))


def _alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, exited and now reaped
    except ChildProcessError:
        pass  # not our child: started by an earlier `ucgov sandbox start`
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _terminate(pid: int, marker: str, timeout: float = 20.0) -> None:
    if marker not in _cmdline(pid) and Path(f"/proc/{pid}").exists():
        return  # the pid was reused by something else: never kill what we did not start
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _log_tail(sandbox: Sandbox, lines: int = 30) -> str:
    log = Path(sandbox.workdir) / "server.log"
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])
