"""Against the real server: a principal whose name holds terminal escapes and a bidi override
(SCIM accepts it) cannot rewrite the plan at a terminal or in a pull request."""

from __future__ import annotations

import re
import uuid

import pytest
from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.lock import Holder
from ucgov.render.escape import UNSAFE

pytestmark = pytest.mark.integration

COLOURS = re.compile(r"\x1b\[(3[0-7]|9[0-7]|0)m")  # what ucgov's own colours add


def hostile_user(rest) -> str:
    email = f"x\x1b[1A\x1b[2K\u202emoc.elpmaxe@{uuid.uuid4().hex[:6]}"
    created = rest.scim.post("/Users", json={"displayName": "mallory", "emails": [{"value": email, "primary": True}]})
    created.raise_for_status()
    return email


def plan(server, *args: str):
    """`ucgov plan` as at a colour terminal: the runner keeps every escape ucgov prints."""
    env = {"UCGOV_URL": server.url, "UCGOV_TOKEN": server.token}
    return CliRunner().invoke(cli, ["plan", *args], env=env, color=True, catch_exceptions=False)


def test_a_principal_with_terminal_escapes_granted_by_hand_is_shown_escaped(server, rest, write_spec, catalog_name):
    email = hostile_user(rest)
    rest.post("/catalogs", {"name": catalog_name})
    rest.patch_grants("catalog", catalog_name, email, add=["USE CATALOG"])
    assert email in rest.grants("catalog", catalog_name)  # the server keeps the name as it is
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    grants:\n      alice@example.com: [USE CATALOG]\n")

    text = plan(server, str(specs))
    markdown = plan(server, str(specs), "--format", "markdown")

    assert text.exit_code == 0, text.output
    shown = "x\\x1b[1A\\x1b[2K\\u202emoc.elpmaxe@"
    assert f"- revoke USE CATALOG from {shown}" in text.output
    assert not UNSAFE.search(COLOURS.sub("", text.output).replace("\n", ""))
    assert markdown.exit_code == 0, markdown.output
    assert "**x\\\\x1b\\[1A\\\\x1b\\[2K\\\\u202emoc.elpmaxe@" in markdown.output  # renders as the text shows it
    assert not UNSAFE.search(markdown.output.replace("\n", ""))
    assert markdown.output.rstrip().endswith("**Plan: 1 to grant, 1 to revoke.**")


def test_unlock_shows_a_hostile_lock_holder_escaped(server, rest, monkeypatch):
    holder = Holder(
        who="ci\x1b[2K\rNobody holds the lock",
        host="h\u202e",
        pidns="",
        pid=1,
        since="2026-01-01T00:00:00+00:00",
        expires="2026-01-01T01:00:00+00:00",
        id=uuid.uuid4().hex[:12],
    )
    rest.post("/catalogs", {"name": holder.catalog, "comment": holder.comment()})

    env = {"UCGOV_URL": server.url, "UCGOV_TOKEN": server.token}
    result = CliRunner().invoke(cli, ["unlock", "--force"], env=env, color=True, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "The lock is held by ci\\x1b[2K\\rNobody holds the lock on h\\u202e (pid 1)" in result.output
    assert not UNSAFE.search(result.output.replace("\n", ""))
    assert rest.status(f"/catalogs/{holder.catalog}") == 404
