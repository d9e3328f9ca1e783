"""A wrong --url / UCGOV_URL or UCGOV_RETRY_SECONDS is one sentence naming it: never a traceback, never a hang."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ucgov.cli import cli
from ucgov.client import UCClient
from ucgov.errors import UcgovError
from ucgov.transport import without_userinfo

DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port: every connection is refused


def server_commands(tmp_path) -> list[list[str]]:
    (tmp_path / "ml.yaml").write_text("catalogs:\n  ml: {}\n")
    return [
        ["plan", str(tmp_path)],
        ["apply", str(tmp_path), "--auto-approve"],
        ["export", "--out", str(tmp_path / "out")],
        ["unlock", "--force"],
        ["resolve", "ml.prod.churn"],
    ]


def run(args: list[str], **env: str) -> Result:
    started = time.monotonic()
    result = CliRunner().invoke(cli, args, env=env)
    assert time.monotonic() - started < 10, "took too long: a hang in the making"
    return result


def assert_one_sentence(result: Result, *expected: str) -> None:
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    for text in expected:
        assert text in line


@pytest.mark.parametrize(
    ("url", "shown", "why"),
    [
        ("http://[::1", "'http://[::1'", "Invalid IPv6 URL"),
        ("http://ci:s3cret-pw@[::1", "'http://***@[::1'", "Invalid IPv6 URL"),
        ("http://127.0.0.1:99999", "'http://127.0.0.1:99999'", "Port out of range"),
        ("http://127.0.0.1:port", "'http://127.0.0.1:port'", "Port could not be cast"),
        ("http://ci:s3cret-pw@127.0.0.1:port", "'http://***@127.0.0.1:port'", "Port could not be cast"),
        ("ftp://127.0.0.1", "'ftp://127.0.0.1'", "does not start with http:// or https://"),
        ("127.0.0.1:8080", "'127.0.0.1:8080'", "does not start with http:// or https://"),
        ("ci:s3cret-pw@127.0.0.1:8080", "'***@127.0.0.1:8080'", "does not start with http:// or https://"),
        ("localhost:8080", "'localhost:8080'", "does not start with http:// or https://"),
        ("", "''", "does not start with http:// or https://"),
        ("http://", "'http://'", "names no host"),
        ("http:///api", "'http:///api'", "names no host"),
        ("http://a b", "'http://a b'", "a space or a control character"),
        ("http://127.0.0.1\n:8080", "'http://127.0.0.1\\n:8080'", "non-printable"),
    ],
)
def test_a_url_ucgov_cannot_use_is_one_sentence_naming_it(tmp_path, url, shown, why):
    for args in server_commands(tmp_path):
        result = run([*args, "--url", url], UCGOV_RETRY_SECONDS="0")

        assert_one_sentence(result, f"--url / UCGOV_URL {shown} is not a server URL", why)
        assert "s3cret" not in result.output


def test_a_url_with_a_trailing_newline_from_a_file_is_used_as_meant(tmp_path):
    [plan, *_] = server_commands(tmp_path)

    result = run([*plan, "--url", f"{DEAD}\n"], UCGOV_RETRY_SECONDS="0")

    assert_one_sentence(result, f"cannot reach Unity Catalog at {DEAD} ")


@pytest.mark.parametrize("given", ["inf", "-inf", "Infinity", "nan", "1e309", "86401", "-1", "5s", "0x10", " "])
def test_a_retry_budget_that_is_endless_or_not_a_number_is_refused_before_any_request(tmp_path, given):
    for args in server_commands(tmp_path):
        result = run([*args, "--url", DEAD], UCGOV_RETRY_SECONDS=given)

        assert_one_sentence(result, f"UCGOV_RETRY_SECONDS must be a number of seconds from 0 to 86400, not {given!r}")


@pytest.mark.parametrize("given", ["0", "0.5", "1_0"])
def test_a_finite_retry_budget_gives_up_on_a_dead_server_in_time(tmp_path, given):
    [plan, *_] = server_commands(tmp_path)

    result = run([*plan, "--url", DEAD], UCGOV_RETRY_SECONDS=given)

    assert_one_sentence(result, f"cannot reach Unity Catalog at {DEAD} ")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ci:s3cret@uc.example.com:8443/x", "https://uc.example.com:8443/x"),
        ("http://ci:s3cret@[::1]:8080", "http://[::1]:8080"),
        ("http://ci:s3cret@[::1", "http://***@[::1"),
    ],
)
def test_a_url_shown_or_saved_keeps_its_host_and_loses_its_password(url, shown):
    assert without_userinfo(url) == shown


URL_PIECES = st.sampled_from(
    ["http://", "https://", "ftp://", "", "://", "ci:s3cret@", "[", "]", "::1", "[::1]", "127.0.0.1", ":", "8080"]
    + [":99999", "/", "?x=1", "#f", " ", "\n", "\x00", "ü", "%40", "@", "localhost", "\t"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(URL_PIECES, max_size=8).map("".join) | st.text(max_size=40))
@example("//][ci:s3cret@")  # httpx's own message quoted the password back
def test_any_url_is_taken_or_refused_in_one_sentence_without_its_password(url):
    try:
        UCClient(url, retry_budget=0).close()
    except UcgovError as refused:
        assert "s3cret" not in str(refused)
        assert len(str(refused).splitlines()) == 1
    assert "s3cret" not in without_userinfo(url)
