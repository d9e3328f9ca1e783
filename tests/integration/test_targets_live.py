"""Targets against the real server: --target picks the server, its token variable and its variables;
a plan saved for one target is refused under another."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_a_target_plans_and_applies_against_its_server_and_its_saved_plan_is_refused_under_another(
    server, ucgov, write_spec, rest, catalog_name, tmp_path
):
    specs = write_spec(f"""
targets:
  dev: {{url: "{server.url}", token_env: UCGOV_TOKEN_DEV, vars: {{env: dev}}}}
  prod: {{url: "{server.url}", token_env: UCGOV_TOKEN_DEV, vars: {{env: prod}}}}
catalogs:
  {catalog_name}:
    comment: models for ${{var.env}}
""")
    # the target's URL and token variable are used, not UCGOV_URL and UCGOV_TOKEN
    env = {"UCGOV_URL": "http://127.0.0.1:9", "UCGOV_TOKEN": "", "UCGOV_TOKEN_DEV": server.token}
    plan_file = tmp_path / "dev.plan.json"

    planned = ucgov("plan", str(specs), "--target", "dev", "--out", str(plan_file), env=env)
    refused = ucgov("apply", "--plan", str(plan_file), "--target", "prod", str(specs), "--auto-approve", env=env)
    applied = ucgov("apply", "--plan", str(plan_file), "--target", "dev", str(specs), "--auto-approve", env=env)

    assert planned.exit_code == 0, planned.output
    assert 'comment = "models for dev"' in planned.output
    assert refused.exit_code == 1
    assert "was planned for target dev, and this apply names --target prod" in refused.output
    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/catalogs/{catalog_name}")["comment"] == "models for dev"
    approving = tmp_path / "approving.yaml"  # resolve reads the targets from the specs it checks against
    approving.write_text(
        f"targets: {{dev: {{url: '{server.url}', token_env: UCGOV_TOKEN_DEV}}}}\n"
        f"catalogs: {{{catalog_name}: {{schemas: {{s: {{models: {{m: {{approved: {{version: 1}}}}}}}}}}}}}}\n"
    )
    resolved = ucgov("resolve", f"{catalog_name}.s.m", "--target", "dev", "--spec", str(approving), env=env)
    assert resolved.exit_code == 1
    assert f"model {catalog_name}.s.m does not exist on {server.url}" in resolved.output
