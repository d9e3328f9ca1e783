"""The apply lock against the real server: it never deletes what ucgov did not write, a signal while
it is taken leaves no claim, and a claim whose apply has certainly died is recovered without a person."""

from __future__ import annotations

import signal
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from faultproxy import Fault, FaultProxy
from test_concurrency import ucgov_process
from test_plan_apply import team_spec

from ucgov import lock as lock_module
from ucgov.lock import Holder, apply_lock, claims

pytestmark = pytest.mark.integration


def team_catalog(rest, name: str) -> None:
    """A team's catalog with a schema and a model in it, made through the REST API, not ucgov."""
    rest.post("/catalogs", {"name": name, "comment": "the team's models"})
    rest.post("/schemas", {"name": "s", "catalog_name": name})
    rest.post("/models", {"name": "m", "catalog_name": name, "schema_name": "s"})


def drop(rest, name: str) -> None:
    rest.http.delete(f"/catalogs/{name}", params={"force": "true"})


def claim_of(server, pid: int, timeout: float = 60) -> Holder:
    """The claim the process with this pid made, once the server lists it."""
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while time.monotonic() < deadline:
            mine = [c.holder for c in claims(client) if c.holder.pid == pid]
            if mine:
                return mine[0]
            time.sleep(0.2)
    raise AssertionError(f"process {pid} made no claim within {timeout} s")


@pytest.mark.parametrize("name", ["ucgov_lock", f"ucgov_lock_{uuid.uuid4().hex[:12]}"])
def test_a_spec_declaring_a_catalog_in_the_lock_namespace_is_refused_and_nothing_is_made(ucgov, write_spec, rest, name):
    specs = write_spec(f"catalogs:\n  {name}:\n    comment: ours\n")

    result = ucgov("apply", str(specs), "--auto-approve")

    assert result.exit_code == 1
    assert f"spec.yaml:2:3: catalog name '{name}' is kept for ucgov's apply lock" in result.output
    assert rest.status(f"/catalogs/{name}") == 404


@pytest.mark.parametrize("name", ["ucgov_lock", f"ucgov_lock_{uuid.uuid4().hex[:12]}"])
def test_a_team_catalog_named_like_the_lock_survives_unlock_force_and_never_blocks_apply(
    ucgov, write_spec, rest, catalog_name, name
):
    team_catalog(rest, name)
    try:
        broken = ucgov("unlock", "--force")
        applied = ucgov("apply", str(write_spec(team_spec(catalog_name))), "--auto-approve")

        assert broken.exit_code == 0, broken.output
        assert f"Left alone: catalog {name} is named like a lock claim, but ucgov did not write it." in broken.output
        assert rest.get(f"/models/{name}.s.m")["name"] == "m"
        assert applied.exit_code == 0, applied.output
        assert rest.status(f"/catalogs/{name}") == 200
    finally:
        drop(rest, name)


def test_ucgov_lock_naming_a_team_catalog_never_deletes_it(ucgov, rest, catalog_name):
    team_catalog(rest, catalog_name)
    try:
        result = ucgov("unlock", "--force", env={"UCGOV_LOCK": catalog_name})

        assert result.exit_code == 0, result.output
        assert "Nobody holds the lock" in result.output
        assert rest.get(f"/models/{catalog_name}.s.m")["name"] == "m"
    finally:
        drop(rest, catalog_name)


def test_ucgov_lock_that_is_not_a_catalog_name_stem_is_one_sentence_and_makes_nothing(
    ucgov, write_spec, rest, catalog_name
):
    specs = write_spec(team_spec(catalog_name))

    result = ucgov("apply", str(specs), "--auto-approve", env={"UCGOV_LOCK": "a.b"})

    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "UCGOV_LOCK must be the start of a catalog name (letters, digits, _, @ and - only, "
        "at most 242 characters), not 'a.b'"
    )
    assert not [c for c in rest.get("/catalogs")["catalogs"] if c["name"].startswith("b_")]


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_lock_is_taken_exits_128_plus_it_with_the_account_and_leaves_no_claim(
    server, rest, tmp_path, catalog_name, number
):
    (tmp_path / "s.yaml").write_text(team_spec(catalog_name))
    running = ucgov_process(server, "apply", str(tmp_path), "--auto-approve", UCGOV_LOCK_SETTLE="300")
    claim_of(server, running.pid)  # it is in the lock's settle wait now

    running.send_signal(number)
    output = running.communicate(timeout=30)[0]

    assert running.returncode == 128 + number, output
    name = signal.Signals(number).name
    # the lock comes before the server is read: nothing was planned yet, so nothing is listed
    assert f"apply stopped: interrupted by {name} while waiting for the apply lock; nothing was applied" in output
    assert "Traceback" not in output and "Aborted!" not in output
    with server.client() as client:
        assert claims(client) == []
    assert rest.status(f"/catalogs/{catalog_name}") == 404


def test_a_claim_left_by_an_apply_killed_on_this_host_is_removed_by_the_next_apply(
    server, ucgov, tmp_path, catalog_name
):
    (tmp_path / "s.yaml").write_text(team_spec(catalog_name))
    running = ucgov_process(server, "apply", str(tmp_path), "--auto-approve", UCGOV_LOCK_SETTLE="300")
    left = claim_of(server, running.pid)
    running.kill()
    running.wait(timeout=30)

    again = ucgov("apply", str(tmp_path), "--auto-approve")

    assert again.exit_code == 0, again.output
    removed = f"Removed the stale lock claim of {left.describe()}: its process (pid {left.pid}) is no longer running"
    assert removed in again.output
    with server.client() as client:
        assert claims(client) == []


def test_an_expired_claim_from_another_host_is_removed_by_the_next_apply(ucgov, write_spec, rest, catalog_name):
    past = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    gone = Holder("ci", "runner-elsewhere", "pid:[1]", 4242, past.isoformat(), past.isoformat(), uuid.uuid4().hex[:12])
    rest.post("/catalogs", {"name": gone.catalog, "comment": gone.comment()})

    again = ucgov("apply", str(write_spec(team_spec(catalog_name))), "--auto-approve")

    assert again.exit_code == 0, again.output
    assert "Removed the stale lock claim of ci on runner-elsewhere (pid 4242)" in again.output
    assert "expired at" in again.output
    assert rest.status(f"/catalogs/{gone.catalog}") == 404


def test_unlock_refuses_a_live_renewed_claim_unless_forced(server, ucgov, monkeypatch, rest):
    monkeypatch.setattr(lock_module, "RENEW_EVERY", 0.3)
    with server.client() as client, apply_lock(client) as held:
        made = rest.get(f"/catalogs/{held.catalog}")["created_at"]
        time.sleep(2)  # long enough for a renewal in a later second
        after = rest.get(f"/catalogs/{held.catalog}")
        refused = ucgov("unlock")

        renewed = Holder.parse(held.catalog, after["comment"])
        assert renewed is not None and renewed.expires > held.expires
        assert after["created_at"] == made  # a renewal keeps the claim's place in the queue
        assert refused.exit_code == 1
        assert "(live: its apply is renewing it)" in refused.output
        assert "still renewed by its apply, which may be running" in refused.output
        assert [c.holder.id for c in claims(client)] == [held.id]

        forced = ucgov("unlock", "--force")
        assert forced.exit_code == 0 and claims(client) == []


def test_a_server_gone_mid_apply_keeps_the_account_and_the_next_apply_recovers_the_claim(
    server, ucgov, tmp_path, rest, catalog_name
):
    (tmp_path / "s.yaml").write_text(team_spec(catalog_name))
    proxy = FaultProxy(server.url)
    try:
        proxy.inject("POST", r"/schemas$", Fault(reset_before=True), times=1000)
        proxy.inject("DELETE", r"/catalogs/ucgov_lock_", Fault(reset_before=True), times=1000)
        running = ucgov_process(
            server, "apply", str(tmp_path), "--auto-approve", UCGOV_URL=proxy.url, UCGOV_RETRY_SECONDS="2"
        )
        output = running.communicate(timeout=120)[0]
    finally:
        proxy.close()

    assert running.returncode == 1, output
    assert "apply stopped:" in output and "applied (1):" in output and "not applied (6):" in output, output
    assert "Also: the lock claim ucgov_lock_" in output and "could not be withdrawn" in output
    assert "Traceback" not in output
    again = ucgov("apply", str(tmp_path), "--auto-approve")
    assert again.exit_code == 0, again.output
    assert "Removed the stale lock claim" in again.output
    with server.client() as client:
        assert claims(client) == []


def test_a_signal_while_waiting_for_another_apply_leaves_only_the_holders_claim(server, tmp_path, catalog_name):
    (tmp_path / "s.yaml").write_text(team_spec(catalog_name))
    with server.client() as client, apply_lock(client) as held:
        waiting = ucgov_process(server, "apply", str(tmp_path), "--auto-approve", "--lock-timeout", "300")
        claim_of(server, waiting.pid)
        time.sleep(1.5)  # in its settle wait or between tries: both are waiting for the lock
        waiting.send_signal(signal.SIGTERM)
        output = waiting.communicate(timeout=30)[0]

        assert waiting.returncode == 143, output
        assert "interrupted by SIGTERM while waiting for the apply lock" in output
        assert [c.holder.id for c in claims(client)] == [held.id]


def test_ctrl_c_at_the_prompt_stops_apply_at_once_withdraws_its_claim_and_changes_nothing(
    server, rest, tmp_path, catalog_name
):
    import os
    import pty
    import select
    import subprocess
    import sys

    (tmp_path / "s.yaml").write_text(team_spec(catalog_name))
    terminal, its_end = pty.openpty()  # apply asks only at a terminal
    env = {**os.environ, "UCGOV_URL": server.url, "UCGOV_TOKEN": server.token}
    asking = subprocess.Popen(
        [sys.executable, "-m", "ucgov", "apply", str(tmp_path)],
        stdin=its_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    os.close(its_end)
    shown = b""
    deadline = time.monotonic() + 120
    while b"Enter a value" not in shown and time.monotonic() < deadline:
        if select.select([asking.stdout], [], [], 1)[0]:
            shown += os.read(asking.stdout.fileno(), 65536)
    assert b"Enter a value" in shown, shown.decode()
    with server.client() as client:
        assert [c.holder.pid for c in claims(client)] == [asking.pid]  # it asks while holding the lock

    asking.send_signal(signal.SIGINT)
    output = shown.decode() + asking.communicate(timeout=30)[0].decode()
    os.close(terminal)

    assert asking.returncode == 130, output
    assert "apply stopped: interrupted by SIGINT before any change; nothing was applied" in output
    assert "Traceback" not in output
    with server.client() as client:
        assert claims(client) == []
    assert rest.status(f"/catalogs/{catalog_name}") == 404
