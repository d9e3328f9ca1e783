"""Targets without a server: one spec repository names several servers, each with its token variable
and variables; a saved plan remembers its target and is refused under another."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.errors import SpecError, UcgovError
from ucgov.plan import Plan
from ucgov.planfile import SavedPlan, dumps, loads
from ucgov.spec import load_specs
from ucgov.targets import chosen

TARGETS = """
targets:
  dev:  {url: "http://127.0.0.1:1", token_env: UCGOV_TOKEN_DEV, vars: {env: dev}}
  prod: {url: "http://127.0.0.1:2", token_env: UCGOV_TOKEN_PROD, vars: {env: prod}}
catalogs:
  ml:
    comment: the ${var.env} models
"""


def test_a_target_gives_its_server_token_variable_and_variables(write_specs, monkeypatch):
    specs = write_specs({"targets.yaml": TARGETS})
    monkeypatch.setenv("UCGOV_TOKEN_PROD", "prod-token")

    prod = chosen([specs], "prod")

    assert (prod.url, prod.token_env, dict(prod.variables)) == (
        "http://127.0.0.1:2",
        "UCGOV_TOKEN_PROD",
        {"env": "prod"},
    )
    assert prod.token() == "prod-token"
    assert load_specs([specs], variables=prod.variables).named("ml").comment == "the prod models"


def test_an_unknown_target_an_unset_token_and_a_malformed_target_are_one_clear_error(write_specs, monkeypatch):
    specs = write_specs({"targets.yaml": TARGETS, "bad.yaml": "targets:\n  qa: {token_env: 'A B'}\n"})
    monkeypatch.delenv("UCGOV_TOKEN_DEV", raising=False)

    with pytest.raises(UcgovError, match=r"no target 'staging' in the specs \(targets declared: dev, prod, qa\)"):
        chosen([specs], "staging")
    with pytest.raises(UcgovError, match="target dev reads its token from UCGOV_TOKEN_DEV, which is not set"):
        chosen([specs], "dev").token()
    with pytest.raises(SpecError, match=r"bad.yaml:2:7: target qa needs a url"):
        chosen([specs], "qa")


def test_targets_are_part_of_a_valid_spec_and_refused_when_malformed(write_specs):
    load_specs([write_specs({"targets.yaml": TARGETS})], variables={"env": "dev"})

    with pytest.raises(SpecError, match="unknown key 'password'"):
        load_specs([write_specs({"t.yaml": "targets:\n  dev: {url: x, password: y}\n"})])


def test_a_saved_plan_records_its_target(write_specs):
    saved = SavedPlan(plan=Plan(), url="http://127.0.0.1:2", target="prod")

    assert loads(dumps(saved), source="plan.json") == saved


def test_a_plan_saved_for_one_target_is_refused_on_another_before_any_request(write_specs, tmp_path, monkeypatch):
    specs = write_specs({"targets.yaml": TARGETS})
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(dumps(SavedPlan(plan=Plan(), url="http://127.0.0.1:1", target="dev")))
    monkeypatch.setenv("UCGOV_TOKEN_PROD", "prod-token")

    refused = CliRunner().invoke(cli, ["apply", "--plan", str(plan_file), "--target", "prod", str(specs)])
    untargeted = CliRunner().invoke(cli, ["apply", "--plan", str(plan_file), "--url", "http://127.0.0.1:1"])

    assert refused.exit_code != 0
    assert "was planned for target dev, and this apply names --target prod" in refused.output
    assert "was planned for target dev, and this apply names no --target" in untargeted.output
    assert "Traceback" not in refused.output + untargeted.output
