"""A reviewed plan, saved in CI and applied on merge: exactly as reviewed, or not at all."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from test_lifecycle import add_version, make_by_hand, pruning_spec
from test_plan_apply import team_spec

from ucgov.live import read_live
from ucgov.planfile import SavedPlan, _checksum, dumps
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


@pytest.mark.parametrize("with_specs", [False, True], ids=["file-alone", "file-and-specs"])
def test_after_a_partial_failure_the_same_plan_file_finishes_the_job(
    server, ucgov, write_spec, rest, catalog_name, tmp_path, with_specs
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

    # with the specs, what the first apply made is no longer planned from them, and that is fine
    again = ucgov("apply", "--plan", str(plan_file), *([str(specs)] if with_specs else []), "--auto-approve")

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


def bare_spec(catalog: str, *, catalog_comment: str = "", model_comment: str = "") -> str:
    """A catalog and a model, each with a comment only where asked."""
    return f"""
catalogs:
  {catalog}:
{catalog_comment}    schemas:
      default:
        models:
          iris:
{model_comment}            grants: {{serving-app@example.com: [EXECUTE]}}
"""


def with_comments(catalog: str) -> str:
    return bare_spec(
        catalog,
        catalog_comment="    comment: ML assets\n",
        model_comment="            comment: Iris species classifier\n",
    )


@pytest.mark.parametrize("made_by", ["ucgov", "hand"])
@pytest.mark.parametrize("through", ["specs", "saved plan"])
def test_a_comment_is_set_where_none_exists(ucgov, write_spec, rest, catalog_name, tmp_path, made_by, through):
    if made_by == "ucgov":
        assert ucgov("apply", str(write_spec(bare_spec(catalog_name))), "--auto-approve").exit_code == 0
    else:
        rest.post("/catalogs", {"name": catalog_name})
        rest.post("/schemas", {"name": "default", "catalog_name": catalog_name})
        rest.post("/models", {"name": "iris", "catalog_name": catalog_name, "schema_name": "default"})
    specs = write_spec(with_comments(catalog_name))

    if through == "specs":
        applied = ucgov("apply", str(specs), "--auto-approve")
    else:
        plan_file = tmp_path / "reviewed.plan.json"
        assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
        applied = ucgov("apply", "--plan", str(plan_file), str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/catalogs/{catalog_name}")["comment"] == "ML assets"
    assert rest.get(f"/models/{catalog_name}.default.iris")["comment"] == "Iris species classifier"
    assert ucgov("plan", str(specs), "--detailed-exitcode").exit_code == 0


def test_a_comment_is_kept_next_to_the_approval_line_on_a_model_that_had_none(
    ucgov, write_spec, rest, catalog_name, tmp_path
):
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "default", "catalog_name": catalog_name})
    rest.post("/models", {"name": "iris", "catalog_name": catalog_name, "schema_name": "default"})
    add_version(rest, f"{catalog_name}.default.iris")
    rest.http.patch(
        f"/models/{catalog_name}.default.iris", json={"comment": "ucgov: approved version 1"}
    ).raise_for_status()
    specs = write_spec(
        bare_spec(catalog_name, model_comment="            comment: Iris\n            approved: {version: 1}\n")
    )
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/models/{catalog_name}.default.iris")["comment"] == "Iris\n\nucgov: approved version 1"
    assert ucgov("plan", str(specs), "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_that_deletes_a_model_approved_since_is_stale(ucgov, rest, write_spec, catalog_name, tmp_path):
    make_by_hand(rest, catalog_name)
    specs = write_spec(pruning_spec(catalog_name))
    saved = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(saved)).exit_code == 0
    ranker = f"{catalog_name}.true.ranker"
    rest.http.patch(f"/models/{ranker}", json={"comment": "ucgov: approved version 1"}).raise_for_status()

    stale = ucgov("apply", "--plan", str(saved), "--auto-approve", "--allow-destroy")

    assert stale.exit_code == 1
    assert "stale plan" in stale.stderr and f"delete model {ranker}" in stale.stderr
    assert "Nothing was applied" in stale.stderr
    assert rest.status(f"/models/{ranker}") == 200
    assert rest.status(f"/schemas/{catalog_name}.empty") == 200


def test_a_saved_plan_that_deletes_a_schema_which_gained_a_model_since_is_stale(
    ucgov, rest, write_spec, catalog_name, tmp_path
):
    make_by_hand(rest, catalog_name)
    specs = write_spec(pruning_spec(catalog_name))
    saved = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(saved)).exit_code == 0
    rest.post("/models", {"name": "newcomer", "catalog_name": catalog_name, "schema_name": "empty"})

    stale = ucgov("apply", "--plan", str(saved), "--auto-approve", "--allow-destroy")

    assert stale.exit_code == 1
    assert f"delete schema {catalog_name}.empty" in stale.stderr and "Nothing was applied" in stale.stderr
    assert rest.status(f"/models/{catalog_name}.empty.newcomer") == 200


POLICY = """
policies:
  - name: no-contractor-execute
    deny: {principal: "*@contractors.example.com", privileges: [EXECUTE]}
"""


def edited(plan_file, edit) -> None:
    """The plan file edited by someone who also recomputes the checksum (anyone can)."""
    document = json.loads(plan_file.read_text())
    document.pop("checksum")
    edit(document)
    plan_file.write_text(json.dumps({**document, "checksum": _checksum(document)}))


def test_an_edited_plan_that_grants_what_a_policy_denies_is_refused_with_the_specs(
    ucgov, write_spec, rest, catalog_name, tmp_path
):
    mallory = {"displayName": "mallory", "emails": [{"value": "mallory@contractors.example.com", "primary": True}]}
    rest.scim.post("/Users", json=mallory)
    specs = write_spec(team_spec(catalog_name, extra=POLICY))
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    model = f"{catalog_name}.default.iris"

    def grant_mallory(document: dict) -> None:
        grant = next(c for c in document["changes"] if c["action"] == "grant" and c["address"] == model)
        document["changes"].append({**grant, "principal": "mallory@contractors.example.com"})

    edited(plan_file, grant_mallory)

    refused = ucgov("apply", "--plan", str(plan_file), str(specs), "--auto-approve")

    assert refused.exit_code == 1
    assert "policy 'no-contractor-execute' denies EXECUTE to mallory@contractors.example.com" in refused.stderr
    assert "Traceback" not in refused.output
    assert rest.status(f"/catalogs/{catalog_name}") == 404


def test_an_edited_plan_that_deletes_an_undeclared_model_is_refused_with_the_specs(
    ucgov, rest, write_spec, catalog_name, tmp_path
):
    make_by_hand(rest, catalog_name)
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    schemas:\n      fraud: {{}}\n")
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    scorer = f"{catalog_name}.fraud.scorer"  # undeclared, and it holds the approved version 2

    held = rest.grants("registered_model", scorer)  # copied as they are, so the server's checks all pass

    def delete_scorer(document: dict) -> None:
        payload = {
            "before": {"comment": "Scores card payments"},
            "after": None,
            "versions": [1, 2, 3],
            "approved": 2,
            "children": [],
            "grants": [[who, sorted(privileges)] for who, privileges in sorted(held.items())],
        }
        change = {"action": "delete", "kind": "registered_model", "address": scorer, "principal": None}
        document["changes"].append({**change, "payload": payload, "reason": ""})

    edited(plan_file, delete_scorer)

    refused = ucgov("apply", "--plan", str(plan_file), str(specs), "--auto-approve", "--allow-destroy")

    assert refused.exit_code == 1
    assert f"delete model {scorer}" in refused.stderr and "not what these specs plan" in refused.stderr
    assert "Traceback" not in refused.output
    assert rest.status(f"/models/{scorer}") == 200


def test_empty_values_and_properties_where_none_exist_are_reached_and_stay_reached(
    ucgov, write_spec, rest, catalog_name, tmp_path
):
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "default", "catalog_name": catalog_name})
    rest.post("/models", {"name": "iris", "catalog_name": catalog_name, "schema_name": "default"})
    add_version(rest, f"{catalog_name}.default.iris")
    rest.http.patch(
        f"/models/{catalog_name}.default.iris", json={"comment": "ucgov: approved version 1"}
    ).raise_for_status()
    specs = write_spec(f"""
catalogs:
  {catalog_name}:
    comment: ""
    schemas:
      default:
        properties: {{tier: gold}}
        models:
          iris:
            comment: ""
            approved: {{version: 1}}
""")
    plan_file = tmp_path / "reviewed.plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    planned = {(c["action"], c["address"]) for c in json.loads(plan_file.read_text())["changes"]}
    assert planned == {("update", catalog_name), ("update", f"{catalog_name}.default")}  # the model's "" is there

    applied = ucgov("apply", "--plan", str(plan_file), str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/catalogs/{catalog_name}")["comment"] == ""
    assert rest.get(f"/schemas/{catalog_name}.default")["properties"] == {"tier": "gold"}
    assert rest.get(f"/models/{catalog_name}.default.iris")["comment"] == "ucgov: approved version 1"
    assert ucgov("plan", str(specs), "--detailed-exitcode").exit_code == 0
