"""The redactor: every form a known secret takes is masked, and text without one is left as it was."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ucgov.redact import Secrets

TOKEN = "tok3n-Secret-0123456789-abcdefghijklmnop"
USER, PASSWORD = "ci-bot", "pa55/Word@9876543210+zyx"


def known_secrets() -> Secrets:
    known = Secrets()
    known.add(TOKEN)
    known.add_url(f"https://{USER}:{quote(PASSWORD, safe='')}@uc.example.com")
    return known


@pytest.fixture
def secrets() -> Secrets:
    return known_secrets()


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(TOKEN, id="as sent"),
        pytest.param(f"Bearer {TOKEN}".upper(), id="shouted"),
        pytest.param(TOKEN.lower(), id="lower case"),
        pytest.param(json.dumps({"authorization": f"Bearer {TOKEN}"}), id="json"),
        pytest.param(quote(TOKEN, safe=""), id="percent-encoded"),
        pytest.param(b64(f":{TOKEN}"), id="base64 as a basic password"),
        pytest.param(b64(f"anyone:{TOKEN}"), id="base64 after any user"),
        pytest.param(b64(f"x{TOKEN}yz"), id="base64 at another offset"),
        pytest.param(PASSWORD, id="password decoded"),
        pytest.param(quote(PASSWORD, safe=""), id="password as in the url"),
        pytest.param(html.escape(PASSWORD), id="password html-escaped"),
        pytest.param(f"Basic {b64(f'{USER}:{PASSWORD}')}", id="basic credentials"),
        pytest.param(TOKEN[:15], id="a body cut after 15 characters of it"),
        pytest.param(f"{TOKEN[:20]}\n    {TOKEN[20:]}", id="folded over two lines"),
    ],
)
def test_every_form_of_a_known_secret_is_masked(secrets, form):
    shown = secrets.redact(f"cannot read catalog ml: {form} (HTTP 400)")

    assert shown.startswith("cannot read catalog ml: ")
    assert shown.endswith(" (HTTP 400)")
    assert "***" in shown
    for secret in (TOKEN, PASSWORD, b64(f"{USER}:{PASSWORD}")):
        assert not any(secret[i : i + 12].lower() in shown.lower() for i in range(len(secret) - 11))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Authorization: Bearer never-seen-before", "Authorization: Bearer ***"),
        ('{"Proxy-Authorization": "Basic Zm9vOmJhcg=="}', '{"Proxy-Authorization": "Basic ***"}'),
        ("AUTHORIZATION=sometoken | HOST=h", "AUTHORIZATION=*** | HOST=h"),
        ("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig to it", "sent Bearer *** to it"),
        ("cannot reach https://ci:hunter2@uc.example.com/api", "cannot reach https://***@uc.example.com/api"),
    ],
)
def test_credentials_ucgov_was_never_told_are_masked_by_their_shape(text, shown):
    assert Secrets().redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "cannot read catalog ml: Catalog not found (HTTP 404 NOT_FOUND)",
        "specs/ml.yaml:3:5: unknown principal 'alice@example.com'",
        "Basic authentication is not supported; use a Bearer token",
        "",
    ],
)
def test_text_without_a_secret_is_left_as_it_was(secrets, text):
    assert secrets.redact(text) == text


def test_a_short_password_is_masked_as_a_word_not_inside_other_words():
    known = Secrets()
    known.add_url("http://me:pw9@uc")

    assert known.redact("password pw9 was refused; pw90 is another") == "password *** was refused; pw90 is another"


@given(st.text(max_size=300))
def test_redacting_is_idempotent_and_never_fails(text):
    secrets = known_secrets()
    once = secrets.redact(text)

    assert secrets.redact(once) == once
    assert TOKEN not in secrets.redact(text + TOKEN + text)
