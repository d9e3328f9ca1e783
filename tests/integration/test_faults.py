"""A flaky network and a loaded server, injected by a proxy in front of the real server: plan and
apply still converge, with no duplicate create and no lost version."""

from __future__ import annotations

import time

import pytest
from faultproxy import Fault, FaultProxy
from test_approvals import model_spec, versions
from test_plan_apply import team_spec

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(server):
    started = FaultProxy(server.url)
    yield started
    started.close()


def via(proxy: FaultProxy, **more: str) -> dict[str, str]:
    return {"UCGOV_URL": proxy.url, **more}


def test_plan_rides_out_503s_and_waits_as_long_as_retry_after_asks(ucgov, write_spec, proxy, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    proxy.inject("GET", rf"/catalogs/{catalog_name}$", Fault(status=503), times=2)
    proxy.inject("GET", "/scim2/Users", Fault(status=429, headers={"retry-after": "2"}))

    result = ucgov("plan", str(specs), env=via(proxy))

    assert result.exit_code == 0, result.output
    assert "Plan: 3 to create" in result.output
    users = [e for e in proxy.log if "/scim2/Users" in e.path]
    assert users[1].at - users[0].at >= 1.9


def test_a_create_whose_answer_is_lost_after_the_server_acted_is_not_made_twice(
    ucgov, write_spec, rest, proxy, catalog_name
):
    specs = write_spec(team_spec(catalog_name))
    proxy.inject("POST", r"/catalogs$", Fault(reset_after=True), body=catalog_name)
    proxy.inject("POST", r"/schemas$", Fault(reset_before=True))
    proxy.inject("POST", r"/models$", Fault(status=429))

    result = ucgov("apply", str(specs), "--auto-approve", env=via(proxy))

    assert result.exit_code == 0, result.output
    assert len(proxy.sent("POST", r"/catalogs$", body=catalog_name)) == 1
    assert len(proxy.sent("POST", r"/schemas$")) == 1
    assert len(proxy.sent("POST", r"/models$")) == 1
    assert [e.fault for e in proxy.log if e.fault] == [
        Fault(reset_after=True),
        Fault(reset_before=True),
        Fault(status=429),
    ]
    assert rest.get(f"/models/{catalog_name}.default.iris")["comment"] == "Iris species classifier"
    assert ucgov("plan", str(specs), "--detailed-exitcode").exit_code == 0


def test_a_lost_answer_to_finalize_keeps_the_ready_version_and_approves_it(
    ucgov, write_spec, rest, proxy, train_iris, catalog_name
):
    run = train_iris()
    model = f"{catalog_name}.default.iris"
    specs = write_spec(model_spec(catalog_name, f"{{run: {run}}}"))
    proxy.inject("PATCH", r"/versions/\d+/finalize$", Fault(reset_after=True))
    proxy.inject("POST", r"/models/versions$", Fault(reset_after=True))

    result = ucgov("apply", str(specs), "--auto-approve", env=via(proxy))

    assert result.exit_code == 0, result.output
    assert versions(rest, model) == [(1, run, "READY")]
    assert rest.get(f"/models/{model}")["comment"].endswith("ucgov: approved version 1")


def test_a_page_that_is_not_json_is_an_error_naming_the_url(ucgov, write_spec, proxy, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    proxy.inject("GET", rf"/catalogs/{catalog_name}$", Fault(html=True))

    result = ucgov("plan", str(specs), env=via(proxy))

    assert result.exit_code == 1
    assert (
        f"{proxy.url}/api/2.1/unity-catalog/catalogs/{catalog_name} answered HTTP 200 with text/html" in result.output
    )
    assert "Traceback" not in result.output and "Plan:" not in result.output


def test_retries_stop_when_the_time_budget_is_spent(ucgov, write_spec, proxy, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    proxy.inject("GET", rf"/catalogs/{catalog_name}$", Fault(status=503), times=1000)
    started = time.monotonic()

    result = ucgov("plan", str(specs), env=via(proxy, UCGOV_RETRY_SECONDS="3"))

    assert result.exit_code == 1
    assert "HTTP 503" in result.output
    assert time.monotonic() - started < 3 + 15  # the budget, plus one request and start-up
    assert len([e for e in proxy.log if e.path.endswith(catalog_name)]) >= 3


def test_a_token_with_surrounding_whitespace_works_and_a_broken_one_is_never_shown(
    ucgov, write_spec, server, catalog_name
):
    specs = write_spec(team_spec(catalog_name))

    padded = ucgov("plan", str(specs), env={"UCGOV_TOKEN": f"  {server.token}\n"})
    broken = ucgov("plan", str(specs), env={"UCGOV_TOKEN": server.token[:20] + "\n" + server.token[20:]})

    assert padded.exit_code == 0, padded.output
    assert server.token not in padded.output
    assert broken.exit_code == 1
    assert "UCGOV_TOKEN holds a character an HTTP header cannot carry (at position 21 of" in broken.output
    assert server.token[:20] not in broken.output and server.token[20:] not in broken.output


def test_slow_answers_and_a_dropped_read_still_give_the_same_plan(ucgov, write_spec, proxy, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    expected = ucgov("plan", str(specs), "--format", "json").output
    proxy.inject("GET", "/permissions/", Fault(delay=1.5), times=3)
    proxy.inject("GET", rf"/catalogs/{catalog_name}$", Fault(reset_before=True))
    proxy.inject("GET", "/scim2/Users", Fault(status=502))

    result = ucgov("plan", str(specs), "--format", "json", env=via(proxy))

    assert result.exit_code == 0, result.output
    assert result.output == expected
