"""A server or proxy that quotes our request back never makes ucgov print the token or the URL password.

The server here is a tiny echo on 127.0.0.1 (not Unity Catalog: it only answers every request
with one status and a body that repeats the request's headers, as proxies and debug servers do).
"""

from __future__ import annotations

import base64
import html
import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlencode

import click
import pytest
from click.testing import CliRunner, Result

from ucgov import redact
from ucgov.cli import _Group, cli
from ucgov.client import UCClient
from ucgov.errors import ApiError, UcgovError
from ucgov.state import Kind

TOKEN = "tok3n-Secret-0123456789-abcdefghijklmnop"
USER, PASSWORD = "ci-bot", "pa55-Word-9876543210-zyxwvu"
STATUSES = (400, 401, 403, 404, 409, 500, 502)
STYLES = ("json", "text", "html", "shouting")  # shouting: names in capitals, on one line
ODD_STYLES = ("lowercase", "wrapped", "padded", "urlencoded", "python", "json-headers-only")
SPEC = "catalogs:\n  ml:\n    schemas:\n      prod:\n        models:\n          churn: {approved: {version: 1}}\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRETS = {
    "token": TOKEN,
    "password": PASSWORD,
    "basic credentials": b64(f"{USER}:{PASSWORD}"),
    "token as basic password": b64(f":{TOKEN}"),
}


class Echo:
    """Answers every request with ``status`` and the request's headers in a body of ``style``."""

    def __init__(self) -> None:
        self.status, self.style = 400, "json"
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            do_POST = do_PATCH = do_DELETE = do_GET

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                body, kind = echo.body(self.command, self.path, dict(self.headers))
                self.send_response(echo.status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def body(self, method: str, path: str, headers: dict[str, str]) -> tuple[bytes, str]:
        lines = [f"{name}: {value}" for name, value in headers.items()]
        seen = f"{method} {path}\n" + "\n".join(lines)
        if self.style == "json":
            return json.dumps({"error_code": "ECHO", "message": seen, "headers": headers}).encode(), "application/json"
        if self.style == "html":
            page = f"<html><body><h1>{self.status}</h1><pre>{html.escape(seen)}</pre></body></html>"
            return page.encode(), "text/html"
        if self.style == "shouting":  # header names in capitals, values as sent, one line
            return " | ".join(f"{n.upper()}={v}" for n, v in headers.items()).encode(), "text/plain"
        if self.style == "lowercase":
            return seen.lower().encode(), "text/plain"
        if self.style == "wrapped":  # folded at 64 columns, wherever that cuts the token
            return "\n".join(textwrap.wrap(seen.replace("\n", " "), 64)).encode(), "text/plain"
        if self.style == "padded":  # the token straddles the 200 characters an error quotes
            return ("x" * 190 + " " + seen).encode(), "text/plain"
        if self.style == "urlencoded":
            return urlencode(headers).encode(), "application/x-www-form-urlencoded"
        if self.style == "python":
            return repr(headers).encode(), "text/plain"
        if self.style == "json-headers-only":  # no message: the whole body is quoted
            return json.dumps({"request": {"headers": headers}}).encode(), "application/json"
        return seen.encode(), "text/plain"


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.server.shutdown()


@pytest.fixture
def specs(tmp_path):
    (tmp_path / "ml.yaml").write_text(SPEC)
    return tmp_path


def leaked(output: str) -> list[str]:
    """The secrets, or any 10 characters in a row of one, that appear in ``output``."""
    found = []
    for name, secret in SECRETS.items():
        if any(secret[i : i + 10] in output for i in range(len(secret) - 9)):
            found.append(name)
    return found


def commands(specs) -> dict[str, list[str]]:
    return {
        "plan": ["plan", str(specs)],
        "apply": ["apply", str(specs), "--auto-approve"],
        "export": ["export", "--out", str(specs / "exported")],
        "unlock": ["unlock", "--force"],
        "resolve": ["resolve", "ml.prod.churn"],
    }


def run(echo: Echo, args: list[str], *, url: str, token: str | None) -> Result:
    env = {"UCGOV_RETRY_SECONDS": "0", **({"UCGOV_TOKEN": token} if token else {})}
    return CliRunner().invoke(cli, [*args, "--url", url], env=env)


@pytest.mark.parametrize(
    ("command", "auth"),
    [
        (command, auth)
        for command in ("plan", "apply", "export", "unlock", "resolve")
        for auth in ("token", "url password")
    ]
    + [("plan", "both")],  # the token is sent, the URL's password only shown: once is enough
)
def test_an_answer_that_echoes_the_request_never_shows_a_secret(echo, specs, command, auth):
    netloc = f"{USER}:{quote(PASSWORD)}@" if auth != "token" else ""
    url = f"http://{netloc}127.0.0.1:{echo.port}"
    problems = []
    for echo.status in STATUSES:
        for echo.style in STYLES:
            result = run(echo, commands(specs)[command], url=url, token=TOKEN if auth != "url password" else None)
            if leaked(result.output) or "Traceback" in result.output:
                problems.append(f"{echo.status} {echo.style}: {result.output}")
            elif result.exit_code == 1 and echo.status != 404 and f"HTTP {echo.status}" not in result.output:
                problems.append(f"{echo.status} {echo.style} does not say what failed: {result.output}")

    assert problems == []


@pytest.mark.parametrize("auth", ["token", "url password"])
def test_an_echo_folded_cut_lowercased_or_encoded_never_shows_a_secret_either(echo, specs, auth):
    netloc = f"{USER}:{quote(PASSWORD)}@" if auth != "token" else ""
    url = f"http://{netloc}127.0.0.1:{echo.port}"
    problems = []
    for echo.status in STATUSES:
        for echo.style in ODD_STYLES:
            result = run(echo, commands(specs)["plan"], url=url, token=TOKEN if auth == "token" else None)
            if leaked(result.output) or "Traceback" in result.output:
                problems.append(f"{echo.status} {echo.style}: {result.output}")

    assert problems == []


def test_the_client_quotes_an_echo_without_the_token_for_library_callers_too(echo):
    echo.status, echo.style = 400, "json"

    with UCClient(f"http://127.0.0.1:{echo.port}", token=TOKEN) as client, pytest.raises(ApiError) as failed:
        client.get_securable(Kind.CATALOG, "ml")

    assert leaked(str(failed.value)) == []
    assert str(failed.value).startswith("cannot read catalog ml: GET /api/2.1/unity-catalog/catalogs/ml ")
    assert "Authorization: Bearer ***" in str(failed.value)


def test_any_error_or_line_on_stderr_is_redacted_whatever_code_path_made_it():
    redact.remember(TOKEN)

    @click.group(cls=_Group)
    def tool() -> None:
        pass

    @tool.command()
    def fails() -> None:
        click.echo(f"note: the proxy said Bearer {TOKEN}", err=True)
        raise UcgovError(f"something new went wrong with {TOKEN[:20]}")

    result = CliRunner().invoke(tool, ["fails"])

    assert result.exit_code == 1
    assert result.stderr == "note: the proxy said Bearer ***\nError: something new went wrong with ***\n"


def test_secrets_in_the_environment_are_kept_out_before_any_client_is_made(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "mlflow-Tracking-Token-42")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://ml:mlflow-Pass-Word-17@mlflow.example.com")

    @click.group(cls=_Group)
    def tool() -> None:
        pass

    @tool.command()
    def fails() -> None:
        raise UcgovError("the tracking store said: mlflow-Tracking-Token-42 / mlflow-Pass-Word-17 refused")

    result = CliRunner().invoke(tool, ["fails"])

    assert result.stderr == "Error: the tracking store said: *** / *** refused\n"
