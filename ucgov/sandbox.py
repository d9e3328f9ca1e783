"""A real open-source Unity Catalog server on this machine, with authorization on.

The server's jars come through Maven once (see ``ucgov.maven``) and are cached; each start
gets a fresh working directory, so the database starts empty. Only the server this module
started on a port is ever stopped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from ucgov.client import UCClient
from ucgov.errors import ApiError, SandboxError
from ucgov.maven import SERVER_VERSION, Progress, server_jars

__all__ = ["SERVER_VERSION", "Sandbox", "current", "java_command", "start", "state_dir", "stop"]

MAIN_CLASS = "io.unitycatalog.server.UnityCatalogServer"
DEFAULT_PORT = 8080
START_TIMEOUT = 180.0


@dataclass(frozen=True)
class Sandbox:
    """A started server: where it listens and where its files are."""

    port: int
    pid: int
    workdir: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        """The admin's token, as the server wrote it (ucgov keeps no copy)."""
        return (Path(self.workdir) / "etc" / "conf" / "token.txt").read_text().strip()

    def env_lines(self) -> list[str]:
        return [f"export UCGOV_URL={self.url}", f"export UCGOV_TOKEN={self.token}"]

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
) -> Sandbox:
    """Start a fresh server on ``port`` (and port+1), wait until it answers, create ``users``.

    The server's jars come from Maven the first time, from ``maven_repos`` and UCGOV_MAVEN_REPO
    before Maven Central; ``progress`` hears what that download is doing.
    """
    base = base or state_dir()
    running = _recorded(base, port)
    if running and _alive(running.pid):
        raise SandboxError(f"a sandbox already runs on port {port}; stop it with `ucgov sandbox stop --port {port}`")
    java = java_command()
    for p in (port, port + 1):
        if not _port_free(p):
            raise SandboxError(f"port {p} is busy (the server needs {port} and {port + 1}): choose another with --port")
    lib = server_jars(repositories=maven_repos, progress=progress)
    sandbox = _launch(java, lib, port, base / str(port))
    try:
        _wait_until_ready(sandbox)
        with sandbox.client() as client:
            for email in users:
                _ensure_user(client, email)
    except BaseException:
        stop(port, base=base)
        raise
    return sandbox


def _launch(java: str, lib: Path, port: int, workdir: Path) -> Sandbox:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, mode=0o700)
    workdir.chmod(0o700)  # mkdir's mode is filtered by the caller's umask
    (workdir / "models").mkdir()
    cmd = [
        java,
        "-Dserver.authorization=enable",
        f"-Dstorage-root.models={(workdir / 'models').resolve().as_uri()}",
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
    sandbox = Sandbox(port=port, pid=process.pid, workdir=str(workdir))
    (workdir / "sandbox.json").write_text(json.dumps(asdict(sandbox)))
    return sandbox


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
        _terminate(sandbox.pid)
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


def _terminate(pid: int, timeout: float = 20.0) -> None:
    if MAIN_CLASS not in _cmdline(pid) and Path(f"/proc/{pid}").exists():
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
