"""What ucgov prints and saves cannot be hijacked by a name, and never carries a secret."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.errors import PlanFileError
from ucgov.mlflow_bridge import _store_error
from ucgov.plan import Action, Address, Change, GrantChange, Plan
from ucgov.planfile import SavedPlan, _checksum, dumps, loads
from ucgov.render import render_markdown
from ucgov.state import Approval, Kind
from ucgov.transport import checked_token, without_userinfo

UNREACHABLE = "http://127.0.0.1:9"


def grant_to(principal: str) -> Change:
    return Change(
        Action.GRANT, Address(Kind.CATALOG, "ml", principal), GrantChange(("USE CATALOG",)), reason="in the spec"
    )


def test_a_principal_cannot_inject_markdown_or_html_into_the_review():
    markdown = render_markdown(Plan(changes=(grant_to("<!--@example.com"), grant_to("*bold*[x](y)@example.com"))))

    assert "<!--" not in markdown
    assert "**&lt;\\!--@example.com** — 1 gain, 0 losses" in markdown
    assert "**\\*bold\\*\\[x\\]\\(y\\)@example.com** — 1 gain" in markdown


def test_a_plan_file_whose_principal_fakes_a_line_is_refused():
    document = json.loads(dumps(SavedPlan(plan=Plan(changes=(grant_to("eve@example.com"),)), url="http://uc")))
    document["changes"][0]["principal"] = "eve@example.com\nApply complete"
    document.pop("checksum")

    with pytest.raises(PlanFileError, match="is not a valid ucgov plan file: at changes/0/principal"):
        loads(json.dumps({**document, "checksum": _checksum(document)}), source="plan.json")


def test_plan_out_to_a_missing_folder_fails_before_contacting_the_server(tmp_path):
    (tmp_path / "ml.yaml").write_text("catalogs:\n  ml: {}\n")

    result = CliRunner().invoke(
        cli, ["plan", str(tmp_path), "--url", UNREACHABLE, "--out", str(tmp_path / "no" / "p.json")]
    )

    assert result.exit_code == 1
    assert (
        f"cannot save the plan to {tmp_path / 'no' / 'p.json'}: the folder {tmp_path / 'no'} does not exist"
        in result.output
    )
    assert "cannot reach" not in result.output


def test_apply_of_an_unreadable_plan_file_is_one_sentence(tmp_path):
    (tmp_path / "p.json").write_bytes(b"\xff\xfe\x00binary")

    result = CliRunner().invoke(cli, ["apply", "--plan", str(tmp_path / "p.json"), "--url", UNREACHABLE])

    assert result.exit_code == 1
    assert f"cannot read the plan file {tmp_path / 'p.json'}" in result.output
    assert "Traceback" not in result.output


def test_diff_of_a_binary_spec_at_a_revision_is_a_located_error(tmp_path, monkeypatch):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ml.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    git("add", ".")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "binary")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["diff", "HEAD", "HEAD", "specs"])

    assert result.exit_code == 1
    assert "HEAD:specs/ml.yaml: cannot read file: not UTF-8 text" in result.output
    assert "Traceback" not in result.output


def test_urls_lose_their_user_and_password_before_they_are_shown_or_saved(tmp_path):
    assert without_userinfo("https://ci:s3cret@uc.example.com:8443/x") == "https://uc.example.com:8443/x"
    error = _store_error(Approval(run="r"), RuntimeError("401 for https://ci:s3cret@mlflow.example.com"))
    assert "s3cret" not in str(error)


def test_the_mlflow_tracking_uri_password_is_never_printed(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://ci:s3cret@mlflow.example.com")

    error = _store_error(Approval(run="r"), RuntimeError("cannot log in with s3cret"))

    assert "s3cret" not in str(error)
    assert "https://mlflow.example.com" in str(error)


@pytest.mark.parametrize("given", ["tok\n", "  tok  ", "\ttok\r\n"])
def test_a_token_is_stripped_of_surrounding_whitespace(given):
    assert checked_token(given) == "tok"


def test_a_token_with_a_line_break_inside_is_refused_without_showing_it():
    with pytest.raises(Exception) as raised:
        checked_token("secret-part-one\nsecret-part-two")

    assert "position 16 of 31" in str(raised.value)
    assert "secret" not in str(raised.value)
