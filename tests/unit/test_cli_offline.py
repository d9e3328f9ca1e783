"""The command line without a server: validate specs, read help, and fail cleanly when the server is unreachable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ucgov.cli import cli

GOOD = {
    "platform.yaml": """\
        catalogs:
          unity:
            comment: ML assets for ${var.ENV}
            grants:
              data-scientists@example.com: [USE CATALOG]
            schemas:
              default:
                grants:
                  alice@example.com: [USE SCHEMA, CREATE MODEL]
        """,
    "teams/iris.yml": """\
        catalogs:
          unity:
            schemas:
              default:
                models:
                  iris:
                    grants:
                      serving-app@example.com: [EXECUTE]
        """,
}

BAD = {
    "platform.yaml": """\
        catalogs:
          unity:
            commment: typo
        """,
    "teams/iris.yml": """\
        catalogs:
          unity:
            schemas:
              default:
                models:
                  iris:
                    grants:
                      serving-app@example.com: [CREATE MODEL]
        """,
}

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, prog_name="ucgov")


def assert_clean_failure(result: Result) -> None:
    """An error for people: a message, not a Python traceback."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_validate_accepts_good_specs(write_specs):
    specs = write_specs(GOOD)

    result = run("validate", str(specs), "--var", "ENV=prod")

    assert result.exit_code == 0, result.output
    assert result.output == "Specs are valid: 3 objects, 3 principals.\n"


def test_validate_takes_variables_from_the_environment(write_specs):
    specs = write_specs(GOOD)

    result = run("validate", str(specs), env={"UCGOV_VAR_ENV": "prod"})

    assert result.exit_code == 0, result.output


def test_validate_lists_every_problem_as_path_line_col_and_exits_1(write_specs):
    specs = write_specs(BAD)

    result = run("validate", str(specs), "--var", "ENV=prod")

    assert result.exit_code == 1
    assert_clean_failure(result)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        f"Error: {specs}/platform.yaml:3:5: unknown key 'commment' "
        "(expected one of: comment, properties, grants, grants_mode, prune, storage_root, schemas)",
        f"{specs}/teams/iris.yml:8:41: privilege 'CREATE MODEL' cannot be granted on a model "
        "(allowed: EXECUTE), on unity.default.iris",
        "2 errors in specs; nothing was changed on the server.",
    ]
    assert all(re.match(r"^(Error: )?\S+:\d+:\d+: ", line) for line in lines[:-1])


def test_validate_reports_an_unset_variable(write_specs):
    specs = write_specs(GOOD)

    result = run("validate", str(specs))

    assert result.exit_code == 1
    assert_clean_failure(result)
    assert f"{specs}/platform.yaml:3:14: variable 'ENV' is not set" in result.stderr


def test_validate_reports_a_missing_path(tmp_path):
    result = run("validate", str(tmp_path / "specz"))

    assert result.exit_code == 1
    assert_clean_failure(result)
    assert f"{tmp_path / 'specz'}: does not exist" in result.stderr


def test_a_var_without_equals_is_a_usage_error(write_specs):
    specs = write_specs(GOOD)

    result = run("validate", str(specs), "--var", "ENV")

    assert result.exit_code != 0
    assert_clean_failure(result)
    assert "Invalid value for '--var': expected NAME=VALUE, got 'ENV'" in result.stderr


def test_a_usage_error_exits_1_not_the_changes_pending_status(write_specs):
    specs = write_specs(GOOD)

    result = run("plan", str(specs), "--detailed-exitcode", "--var", "ENV", "--url", UNREACHABLE)

    assert result.exit_code == 1


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["validate", "--help"], ["apply", "--help"]])
def test_help_exits_0(args):
    result = run(*args)

    assert result.exit_code == 0
    assert result.output.startswith("Usage: ucgov")


def test_plan_help_shows_the_options_a_pipeline_needs():
    result = run("plan", "--help")

    for option in ("--var", "--url", "--format", "--detailed-exitcode"):
        assert option in result.output


@pytest.fixture
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """No retry budget, so a refused connection fails in milliseconds."""
    monkeypatch.setenv("UCGOV_RETRY_SECONDS", "0")


def test_plan_against_an_unreachable_server_is_a_one_line_error(write_specs, no_retry_wait):
    specs = write_specs({"unity.yaml": "catalogs:\n  unity: {}\n"})

    result = run("plan", str(specs), "--url", UNREACHABLE)

    assert result.exit_code == 1
    assert_clean_failure(result)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: cannot reach Unity Catalog at {UNREACHABLE} ")
    assert "UCGOV_URL" in line


def test_plan_with_bad_specs_stops_before_contacting_the_server(write_specs, no_retry_wait):
    specs = write_specs(BAD)

    result = run("plan", str(specs), "--url", UNREACHABLE)

    assert result.exit_code == 1
    assert_clean_failure(result)
    assert "cannot reach" not in result.output
    assert "nothing was changed on the server" in result.stderr


def test_the_example_specs_are_valid():
    examples = Path(__file__).resolve().parents[2] / "specs"
    given = ["--var", "IRIS_RUN=0", "--var", "SANDBOX_STORAGE=file:///srv/uc/managed"]
    result = CliRunner().invoke(cli, ["validate", str(examples), *given])
    assert result.exit_code == 0, result.output
    assert "Specs are valid: 6 objects, 3 principals." in result.output
