"""A reviewed plan, saved in CI and applied on merge: exactly as reviewed, or not at all."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from test_plan_apply import team_spec

from ucgov.live import read_live
from ucgov.planfile import SavedPlan, dumps
from ucgov.planner import diff
from ucgov.spec import load_specs

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


def test_a_plan_whose_principal_was_changed_by_hand_is_stale_and_applies_nothing(
    ucgov, write_spec, rest, catalog_name, tmp_path
):
    specs = write_spec(team_spec(catalog_name))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    changed = write_spec(
        team_spec(catalog_name).replace("[USE SCHEMA, CREATE MODEL]", "[USE SCHEMA]").replace("Iris models", "Iris")
    )
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(changed), "--out", str(plan_file)).exit_code == 0
    rest.patch_grants("schema", f"{catalog_name}.default", "alice@example.com", add=["SELECT"])

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert applied.exit_code == 1
    assert "stale plan: the server no longer holds what these changes were planned against" in applied.output
    assert f"revoke CREATE MODEL on schema {catalog_name}.default from alice@example.com" in applied.output
    assert "Nothing was applied" in applied.output
    schema = rest.get(f"/schemas/{catalog_name}.default")
    assert schema["comment"] == "Iris models"
    assert rest.grants("schema", f"{catalog_name}.default")["alice@example.com"] == {
        "USE SCHEMA",
        "CREATE MODEL",
        "SELECT",
    }


def test_after_a_partial_failure_the_same_plan_file_finishes_the_job(
    server, ucgov, write_spec, rest, catalog_name, tmp_path
):
    ghost = f"{catalog_name}@example.com"
    specs = write_spec(team_spec(catalog_name).replace("serving-app@example.com: [EXECUTE]", f"{ghost}: [EXECUTE]"))
    desired = load_specs([specs])
    with server.client() as client:
        live = read_live(client, desired)
        # the user is known when the plan is made, and missing when it is first applied
        plan = diff(desired, replace(live, known_principals=live.known_principals | {ghost}))
    plan_file = tmp_path / "reviewed.plan.json"
    plan_file.write_text(dumps(SavedPlan(plan=plan, url=server.url)))

    first = ucgov("apply", "--plan", str(plan_file), "--auto-approve")
    assert first.exit_code == 1
    assert "User not found" in first.output and f"create catalog {catalog_name}" in first.output
    rest.scim.post("/Users", json={"displayName": "ghost", "emails": [{"value": ghost, "primary": True}]})

    again = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert again.exit_code == 0, again.output
    assert f"already done: create catalog {catalog_name}" in again.output
    assert f"done: grant EXECUTE on model {catalog_name}.default.iris to {ghost}" in again.output
    assert rest.grants("registered_model", f"{catalog_name}.default.iris") == {ghost: {"EXECUTE"}}
    assert ucgov("plan", str(specs), "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_is_refused_against_another_server(ucgov, write_spec, catalog_name, tmp_path):
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(write_spec(team_spec(catalog_name))), "--out", str(plan_file)).exit_code == 0

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve", "--url", "http://127.0.0.1:9")

    assert applied.exit_code == 1
    assert "was planned against" in applied.output
