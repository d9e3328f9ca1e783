"""A reviewed plan, saved in CI and applied on merge: exactly as reviewed, or not at all."""

from __future__ import annotations

import json

import pytest
from test_plan_apply import team_spec

pytestmark = pytest.mark.integration


def test_a_saved_plan_is_applied_exactly_as_reviewed(ucgov, write_spec, rest, catalog_name, tmp_path):
    specs = write_spec(team_spec(catalog_name))
    plan_file = tmp_path / "reviewed.plan.json"
    planned = ucgov("plan", str(specs), "--out", str(plan_file))
    assert planned.exit_code == 0, planned.output
    write_spec(team_spec(catalog_name).replace("Iris models", "edited after review"))  # specs move on

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/schemas/{catalog_name}.default")["comment"] == "Iris models"
    assert rest.grants("registered_model", f"{catalog_name}.default.iris") == {"serving-app@example.com": {"EXECUTE"}}
    assert "token" not in plan_file.read_text().lower()


def test_a_change_to_an_object_the_plan_does_not_touch_does_not_make_it_stale(
    ucgov, write_spec, rest, catalog_name, tmp_path
):
    specs = write_spec(team_spec(catalog_name, extra="settings: {grants_mode: additive}\n"))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    changed = write_spec(team_spec(catalog_name).replace("[USE SCHEMA, CREATE MODEL]", "[USE SCHEMA]"))
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(changed), "--out", str(plan_file)).exit_code == 0
    touched = {c["address"] for c in json.loads(plan_file.read_text())["changes"]}
    assert touched == {f"{catalog_name}.default"}
    rest.patch_grants("registered_model", f"{catalog_name}.default.iris", "carol@example.com", add=["EXECUTE"])

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert rest.grants("schema", f"{catalog_name}.default") == {"alice@example.com": {"USE SCHEMA"}}


def test_a_plan_whose_touched_object_changed_is_stale(ucgov, write_spec, rest, catalog_name, tmp_path):
    specs = write_spec(team_spec(catalog_name))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    changed = write_spec(team_spec(catalog_name).replace("[USE SCHEMA, CREATE MODEL]", "[USE SCHEMA]"))
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(changed), "--out", str(plan_file)).exit_code == 0
    rest.patch_grants("schema", f"{catalog_name}.default", "bob@example.com", add=["USE SCHEMA"])

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert applied.exit_code == 1
    assert (
        f"stale plan: {catalog_name}.default changed on the server since the plan was made; nothing was applied"
        in applied.output
    )
    assert rest.grants("schema", f"{catalog_name}.default")["alice@example.com"] == {"USE SCHEMA", "CREATE MODEL"}


def test_a_saved_plan_is_refused_against_another_server(ucgov, write_spec, catalog_name, tmp_path):
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(write_spec(team_spec(catalog_name))), "--out", str(plan_file)).exit_code == 0

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve", "--url", "http://127.0.0.1:9")

    assert applied.exit_code == 1
    assert "was planned against" in applied.output
