"""Two pipelines at once, an apply stopped by a signal or killed outright: the server never ends in
a state that matches neither spec, and the next apply converges."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from test_plan_apply import team_spec

from ucgov.apply import apply_checked, check
from ucgov.live import read_state
from ucgov.lock import LockedError, apply_lock, claims
from ucgov.planner import diff
from ucgov.spec import load_specs

pytestmark = pytest.mark.integration

KILL_TRIALS = int(os.environ.get("UCGOV_KILL_TRIALS", "3"))


def ucgov_process(server, *args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "UCGOV_URL": server.url, "UCGOV_TOKEN": server.token, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "ucgov", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )


def many_models(catalog: str, principal: str, count: int = 30) -> str:
    models = "".join(f"          m{i:02d}:\n            grants: {{{principal}: [EXECUTE]}}\n" for i in range(count))
    return (
        f"catalogs:\n  {catalog}:\n    grants: {{{principal}: [USE CATALOG]}}\n"
        f"    schemas:\n      s:\n        models:\n{models}"
    )


def test_an_apply_is_refused_while_another_holds_the_lock_and_unlock_shows_the_holder(
    server, ucgov, write_spec, rest, catalog_name
):
    specs = write_spec(team_spec(catalog_name))
    with server.client() as client, apply_lock(client) as held:
        refused = ucgov("apply", str(specs), "--auto-approve")

        assert refused.exit_code == 1
        assert f"another apply holds the lock on {server.url}: {held.who} on {held.host}" in refused.output
        assert "--lock-timeout" in refused.output and "ucgov unlock" in refused.output
        assert rest.status(f"/catalogs/{catalog_name}") == 404
        assert [c.holder for c in claims(client)] == [held]  # the refused apply withdrew its claim

        shown = ucgov("unlock", "--force")
        assert f"is held by {held.who} on {held.host} (pid {held.pid})" in shown.output
        assert claims(client) == []

    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    with server.client() as client:
        assert claims(client) == []  # released after apply


def test_of_many_applies_reaching_for_the_lock_at_once_one_holds_it_at_a_time(server):
    for _ in range(3):
        start = Barrier(6)

        def contend(_: int, start: Barrier = start) -> tuple[float, float] | None:
            with server.client() as client:
                start.wait()
                try:
                    with apply_lock(client):
                        held = time.monotonic()
                        time.sleep(0.5)
                        return held, time.monotonic()
                except LockedError:
                    return None

        with ThreadPoolExecutor(6) as pool:
            held = sorted(h for h in pool.map(contend, range(6)) if h)

        # the first holds it; one whose settle wait outlasted that hold may take it after (never during)
        assert held, "nobody got the lock"
        assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(held)), held
        assert len(held) < 6
        with server.client() as client:
            assert claims(client) == []


def test_an_apply_that_waited_for_the_lock_plans_against_what_the_holder_left_not_what_was_there_before(
    server, rest, tmp_path, catalog_name
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "s.yaml").write_text(many_models(catalog_name, "alice@example.com", 3))
    (tmp_path / "b" / "s.yaml").write_text(many_models(catalog_name, "bob@example.com", 3))
    alices = load_specs([tmp_path / "a"])

    with server.client() as client:
        with apply_lock(client):  # alice's pipeline holds the lock while bob's apply starts and waits for it
            waiting = ucgov_process(server, "apply", str(tmp_path / "b"), "--auto-approve", "--lock-timeout", "120")
            deadline = time.monotonic() + 60
            while len(claims(client)) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(claims(client)) == 2, "bob's apply never reached the lock"
            apply_checked(check(diff(alices, read_state(client, alices)), read_state(client, alices)), client)
        output = waiting.communicate(timeout=300)[0]

    assert waiting.returncode == 0, output
    holders = {frozenset(rest.grants("registered_model", f"{catalog_name}.s.m{i:02d}")) for i in range(3)}
    holders.add(frozenset(rest.grants("catalog", catalog_name)))
    assert holders == {frozenset({"bob@example.com"})}, output  # bob's specs, authoritative over alice's grants


@pytest.mark.parametrize("trial", range(3))
def test_two_applies_at_once_end_in_exactly_one_specs_state(server, rest, tmp_path, catalog_name, trial):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "s.yaml").write_text(many_models(catalog_name, "alice@example.com", 12))
    (tmp_path / "b" / "s.yaml").write_text(many_models(catalog_name, "bob@example.com", 12))

    first = ucgov_process(server, "apply", str(tmp_path / "a"), "--auto-approve")
    second = ucgov_process(server, "apply", str(tmp_path / "b"), "--auto-approve")
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    codes = [first.returncode, second.returncode]

    assert 0 in codes, outputs
    for code, output in zip(codes, outputs, strict=True):
        assert code == 0 or "holds the lock" in output or "stale plan" in output, output
    holders = {frozenset(rest.grants("registered_model", f"{catalog_name}.s.m{i:02d}")) for i in range(12)}
    holders.add(frozenset(rest.grants("catalog", catalog_name)))
    assert holders in ({frozenset({"alice@example.com"})}, {frozenset({"bob@example.com"})}), (holders, codes, outputs)


def test_with_a_lock_timeout_two_applies_run_one_after_the_other(server, rest, tmp_path, catalog_name):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "s.yaml").write_text(many_models(catalog_name, "alice@example.com", 10))

    runs = [
        ucgov_process(server, "apply", str(tmp_path / "a"), "--auto-approve", "--lock-timeout", "120") for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in runs]

    assert [p.returncode for p in runs] == [0, 0], outputs
    assert rest.grants("catalog", catalog_name) == {"alice@example.com": {"USE CATALOG"}}


def test_sigterm_during_apply_finishes_the_request_in_flight_and_says_what_was_left(
    server, ucgov, rest, tmp_path, catalog_name
):
    (tmp_path / "s.yaml").write_text(many_models(catalog_name, "alice@example.com"))
    running = ucgov_process(server, "apply", str(tmp_path), "--auto-approve")
    lines = []
    for line in running.stdout:
        lines.append(line)
        if line.startswith("  done: create model"):
            running.send_signal(signal.SIGTERM)
            break
    rest_of_output = running.communicate(timeout=120)[0]
    output = "".join(lines) + rest_of_output

    assert running.returncode == 128 + signal.SIGTERM, output
    assert "apply stopped: interrupted by SIGTERM before the next change" in output
    assert "applied (" in output and "not applied (" in output
    assert "Traceback" not in output
    with server.client() as client:
        assert claims(client) == []
    assert ucgov("apply", str(tmp_path), "--auto-approve").exit_code == 0
    assert ucgov("plan", str(tmp_path), "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("trial", range(KILL_TRIALS))
def test_an_apply_killed_at_a_random_moment_converges_on_the_next_apply(
    server, ucgov, rest, tmp_path, catalog_name, trial
):
    (tmp_path / "s.yaml").write_text(many_models(catalog_name, "carol@example.com", 20))
    running = ucgov_process(server, "apply", str(tmp_path), "--auto-approve")
    time.sleep(random.uniform(1.0, 4.0))  # start-up takes about a second; apply runs a few more
    running.kill()
    running.wait(timeout=30)

    # no `ucgov unlock`: a claim the killed apply left is its dead pid's, on this host, so the next apply removes it
    again = ucgov("apply", str(tmp_path), "--auto-approve")

    assert again.exit_code == 0, again.output
    with server.client() as client:
        assert claims(client) == []
    assert ucgov("plan", str(tmp_path), "--detailed-exitcode").exit_code == 0
    assert rest.grants("registered_model", f"{catalog_name}.s.m19") == {"carol@example.com": {"EXECUTE"}}


def test_a_url_with_a_user_and_password_never_reaches_a_plan_file_or_output(
    server, ucgov, write_spec, catalog_name, tmp_path
):
    specs = write_spec(team_spec(catalog_name))
    with_password = server.url.replace("http://", "http://ci:hunter2@")
    plan_file = tmp_path / "p.json"

    result = ucgov("plan", str(specs), "--out", str(plan_file), "--url", with_password)

    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "hunter2" not in plan_file.read_text()
    assert server.token not in plan_file.read_text() + result.output
