"""`ucgov sandbox` as a user runs it: a real server in the background, found again, stopped."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import _free_port_pair

pytestmark = pytest.mark.integration


def ucgov(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ucgov", *args], capture_output=True, text=True, env=env, timeout=300)


def test_sandbox_start_env_stop(server, tmp_path):
    env = {**os.environ, "UCGOV_SANDBOX_DIR": str(tmp_path)}
    port = str(_free_port_pair())

    started = ucgov("sandbox", "start", "--port", port, "--user", "dana@example.com", env=env)
    try:
        assert started.returncode == 0, started.stderr
        exports = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines())
        assert exports["UCGOV_URL"] == f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {exports['UCGOV_TOKEN']}"}
        users = httpx.get(f"{exports['UCGOV_URL']}/api/1.0/unity-control/scim2/Users", headers=auth).json()
        assert "dana@example.com" in {u["userName"] for u in users["Resources"]}
        managed = (tmp_path / port / "managed").resolve().as_uri()
        assert f"Managed volumes need a catalog or schema storage_root under {managed}." in started.stderr
        api = f"{exports['UCGOV_URL']}/api/2.1/unity-catalog"
        location = httpx.get(f"{api}/external-locations/ucgov_sandbox", headers=auth).json()
        assert (location["url"], location["credential_name"]) == (managed, "ucgov_sandbox")
        assert ucgov("sandbox", "env", "--port", port, env=env).stdout == started.stdout
        # after `eval`, UCGOV_TOKEN is that token: the export lines still hand it over, never masked
        evaluated = {**env, "UCGOV_TOKEN": exports["UCGOV_TOKEN"]}
        assert ucgov("sandbox", "env", "--port", port, env=evaluated).stdout == started.stdout
    finally:
        stopped = ucgov("sandbox", "stop", "--port", port, env=env)

    assert stopped.stdout.startswith(f"Stopped the sandbox on port {port}")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert "No sandbox was running" in ucgov("sandbox", "stop", "--port", port, env=env).stdout


def test_a_busy_port_is_one_clear_sentence(server, tmp_path):
    env = {**os.environ, "UCGOV_SANDBOX_DIR": str(tmp_path)}

    result = ucgov("sandbox", "start", "--port", str(server.port), env=env)

    assert result.returncode == 1
    assert f"port {server.port} is busy" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_admin_token_and_signing_key_are_readable_by_their_owner_alone(server):
    conf = Path(server.workdir) / "etc" / "conf"

    for secret in (conf / "token.txt", conf / "private_key.der"):
        assert stat.S_IMODE(secret.stat().st_mode) & 0o077 == 0, f"{secret} is {oct(secret.stat().st_mode)}"
    assert stat.S_IMODE(Path(server.workdir).stat().st_mode) == 0o700


@pytest.mark.parametrize("port", ["0", "-1", "70000"])
def test_a_port_the_server_cannot_use_is_refused_in_one_sentence_and_nothing_is_left_listening(tmp_path, port):
    env = {**os.environ, "UCGOV_SANDBOX_DIR": str(tmp_path)}

    result = ucgov("sandbox", "start", "--port", port, env=env)

    assert result.returncode == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert error == f"Error: Invalid value for '--port': {port} is not in the range 1<=x<=65534."
    assert "Traceback" not in result.stderr
    assert result.stdout == "false\n"  # so `eval "$(ucgov sandbox start ...)" && ...` stops
    assert list(tmp_path.iterdir()) == []  # no working directory: no server was started
    assert _processes_under(tmp_path) == []


def _processes_under(folder: Path) -> list[int]:
    """Processes whose working directory is inside ``folder``: a sandbox's servers run in theirs."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")).is_relative_to(folder):
                found.append(int(proc.name))
        except OSError:
            continue
    return found
