"""--target on every command that reads a server or specs, without a server: which server and
variables a command would use, and the usage errors that stop it before any request."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ucgov.cli import cli

TARGETS = """\
targets:
  dev:  {url: "http://127.0.0.1:1", token_env: UCGOV_TOKEN_DEV, vars: {env: dev}}
  prod: {url: "http://127.0.0.1:2", token_env: UCGOV_TOKEN_PROD, vars: {env: prod}}
"""
ESTATE = """\
catalogs:
  ${var.env}_ml:
    grants:
      ${var.env}-readers@example.com: [USE CATALOG]
    schemas:
      s:
        models:
          m: {approved: {version: 1}}
"""


def git(repo: Path, *args: str) -> None:
    who = ["-c", "user.email=ci@example.com", "-c", "user.name=CI"]
    subprocess.run(["git", *who, *args], cwd=repo, check=True, capture_output=True, text=True)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def specs(write_specs, monkeypatch) -> Path:
    monkeypatch.setenv("UCGOV_RETRY_SECONDS", "0")  # a refused connection fails at once
    monkeypatch.setenv("UCGOV_TOKEN_DEV", "dev-token")
    monkeypatch.setenv("UCGOV_TOKEN_PROD", "prod-token")
    specs = write_specs({"targets.yaml": TARGETS, "estate.yaml": ESTATE})
    git(specs.parent, "init", "-q", "-b", "main")  # history and diff read the specs' commits
    git(specs.parent, "add", ".")
    git(specs.parent, "commit", "-qm", "base")
    return specs


SERVER_COMMANDS = [
    pytest.param(["plan", "{specs}"], id="plan"),
    pytest.param(["apply", "{specs}", "--auto-approve"], id="apply"),
    pytest.param(["export", "--specs", "{specs}"], id="export"),
    pytest.param(["unlock", "--specs", "{specs}"], id="unlock"),
    pytest.param(["access", "--catalog", "{env}_ml"], id="access"),
    pytest.param(["history", "{env}_ml.s.m", "--specs", "{specs}"], id="history"),
    pytest.param(["resolve", "{env}_ml.s.m", "--spec", "{specs}"], id="resolve"),
]


@pytest.mark.parametrize("args", SERVER_COMMANDS)
def test_url_on_the_command_line_with_a_target_is_a_usage_error_naming_both(specs, args):
    result = run(*[a.format(specs=specs, env="dev") for a in args], "--target", "dev", "--url", "http://127.0.0.1:3")

    assert result.exit_code == 1
    assert "--url and --target both name the server" in result.output
    assert "cannot reach" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", SERVER_COMMANDS)
def test_the_target_wins_over_ucgov_url_and_ucgov_token_in_the_environment(specs, args, monkeypatch):
    monkeypatch.chdir(specs.parent)  # access reads its targets from specs/
    env = {"UCGOV_URL": "http://127.0.0.1:3", "UCGOV_TOKEN": "ambient-token"}

    result = run(*[a.format(specs=specs, env="prod") for a in args], "--target", "prod", env=env)

    assert result.exit_code == 1
    assert "cannot reach Unity Catalog at http://127.0.0.1:2" in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args", [["export"], ["unlock"], ["access"], ["history", "c.s.m"]], ids=["export", "unlock", "access", "history"]
)
def test_a_target_without_specs_to_declare_it_is_a_usage_error(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)  # no specs/ here

    result = run(*args, "--target", "prod")

    assert result.exit_code == 1
    assert "--specs" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_target_names_those_declared(specs):
    result = run("unlock", "--specs", str(specs), "--target", "staging")

    assert result.exit_code == 1
    assert "no target 'staging' in the specs (targets declared: dev, prod)" in result.output


def test_validate_with_a_target_loads_its_names(specs):
    assert "Specs are valid" in run("validate", str(specs), "--target", "prod").output
    unset = run("validate", str(specs))
    assert unset.exit_code == 1
    assert "variable 'env' is not set" in unset.output


def test_offline_access_with_a_target_reads_the_specs_with_its_variables_and_needs_no_token(specs, monkeypatch):
    monkeypatch.delenv("UCGOV_TOKEN_PROD")

    result = run("access", "--specs", str(specs), "--target", "prod", "--format", "csv")

    assert result.exit_code == 0, result.output
    assert "prod_ml" in result.output
    assert "prod-readers@example.com" in result.output
    assert "dev_ml" not in result.output


def test_diff_with_a_target_shows_that_targets_names_offline(specs, monkeypatch):
    monkeypatch.chdir(specs.parent)
    granted = "      ${var.env}-writers@example.com: [CREATE SCHEMA]\n"
    (specs / "estate.yaml").write_text(ESTATE.replace("    schemas:\n", granted + "    schemas:\n"))
    monkeypatch.delenv("UCGOV_TOKEN_PROD")  # offline: no token read

    result = run("diff", "main", "--target", "prod")

    assert result.exit_code == 0, result.output
    assert "prod-writers@example.com" in result.output
    assert "prod_ml" in result.output
    assert "dev" not in result.output


def test_a_target_whose_name_is_a_path_is_refused_before_export_writes_anywhere(write_specs, monkeypatch):
    specs = write_specs({"t.yaml": "targets:\n  ../up: {url: 'http://127.0.0.1:1'}\n"})
    monkeypatch.chdir(specs.parent)

    result = run("export", "--target", "../up")

    assert result.exit_code == 1
    assert "specs/t.yaml:2:10: bad target name '../up'" in result.output
    assert not (specs.parent.parent / "up").exists()


@pytest.mark.parametrize("command", ["export", "unlock"])
def test_specs_without_a_target_is_a_usage_error_not_ignored(specs, command):
    result = run(command, "--specs", str(specs))

    assert result.exit_code == 1
    assert "--specs names the specs that declare --target's targets: give --target NAME too" in result.output
