"""Plan and apply against the real Unity Catalog server, read back through its REST API."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ucgov.apply import apply_plan
from ucgov.errors import ApplyError
from ucgov.live import read_live
from ucgov.planner import diff
from ucgov.spec import load_specs

pytestmark = pytest.mark.integration


def team_spec(catalog: str, *, extra: str = "") -> str:
    return f"""
catalogs:
  {catalog}:
    comment: ML assets
    properties: {{cost_center: ml-platform}}
    grants:
      alice@example.com: [USE CATALOG]
      serving-app@example.com: [use_catalog]
    schemas:
      default:
        comment: Iris models
        grants:
          alice@example.com: [USE SCHEMA, CREATE MODEL]
        models:
          iris:
            comment: Iris species classifier
            grants:
              serving-app@example.com: [EXECUTE]
{extra}"""


def test_empty_server_to_spec_and_then_nothing_to_do(ucgov, write_spec, rest, catalog_name):
    specs = write_spec(team_spec(catalog_name))

    planned = ucgov("plan", str(specs), "--format", "json")
    assert planned.exit_code == 0, planned.output
    actions = [(c["action"], c["address"]) for c in json.loads(planned.output)["changes"]]
    assert actions[:3] == [
        ("create", catalog_name),
        ("create", f"{catalog_name}.default"),
        ("create", f"{catalog_name}.default.iris"),
    ]
    assert sorted(a for a, _ in actions[3:]) == ["grant"] * 4

    applied = ucgov("apply", str(specs), "--auto-approve")
    assert applied.exit_code == 0, applied.output

    catalog = rest.get(f"/catalogs/{catalog_name}")
    assert (catalog["comment"], catalog["properties"]) == ("ML assets", {"cost_center": "ml-platform"})
    assert rest.get(f"/schemas/{catalog_name}.default")["comment"] == "Iris models"
    assert rest.get(f"/models/{catalog_name}.default.iris")["comment"] == "Iris species classifier"
    assert rest.grants("catalog", catalog_name) == {
        "alice@example.com": {"USE CATALOG"},
        "serving-app@example.com": {"USE CATALOG"},
    }
    assert rest.grants("schema", f"{catalog_name}.default") == {"alice@example.com": {"USE SCHEMA", "CREATE MODEL"}}
    assert rest.grants("registered_model", f"{catalog_name}.default.iris") == {"serving-app@example.com": {"EXECUTE"}}

    again = ucgov("plan", str(specs), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_grants_changed_behind_ucgovs_back_are_detected_and_reverted(ucgov, write_spec, rest, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    rest.patch_grants("catalog", catalog_name, "carol@example.com", add=["USE CATALOG", "CREATE SCHEMA"])
    rest.patch_grants("schema", f"{catalog_name}.default", "alice@example.com", remove=["CREATE MODEL"])

    planned = ucgov("plan", str(specs), "--format", "json", "--detailed-exitcode")
    assert planned.exit_code == 2
    changes = {(c["action"], c["address"], c["principal"]): c for c in json.loads(planned.output)["changes"]}
    assert set(changes) == {
        ("revoke", catalog_name, "carol@example.com"),
        ("grant", f"{catalog_name}.default", "alice@example.com"),
    }
    assert changes[("revoke", catalog_name, "carol@example.com")]["before"] == ["USE CATALOG", "CREATE SCHEMA"]

    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    assert "carol@example.com" not in rest.grants("catalog", catalog_name)
    assert rest.grants("schema", f"{catalog_name}.default")["alice@example.com"] == {"USE SCHEMA", "CREATE MODEL"}


def test_additive_mode_keeps_grants_it_did_not_make(ucgov, write_spec, rest, catalog_name):
    specs = write_spec(team_spec(catalog_name, extra="settings: {grants_mode: additive}\n"))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    rest.patch_grants("catalog", catalog_name, "carol@example.com", add=["USE CATALOG"])

    planned = ucgov("plan", str(specs), "--detailed-exitcode")

    assert planned.exit_code == 0, planned.output
    assert rest.grants("catalog", catalog_name)["carol@example.com"] == {"USE CATALOG"}


def test_unknown_principal_fails_before_any_change(ucgov, write_spec, rest, catalog_name):
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    grants:\n      mallory@example.com: [USE CATALOG]\n")

    result = ucgov("apply", str(specs), "--auto-approve")

    assert result.exit_code == 1
    assert "spec.yaml:4:7: unknown principal 'mallory@example.com'" in result.output
    assert "Traceback" not in result.output
    assert rest.status(f"/catalogs/{catalog_name}") == 404


def test_wrong_token_fails_cleanly_and_never_echoes_it(ucgov, write_spec, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    secret = "not-a-real-token-7f3a9"

    result = ucgov("plan", str(specs), env={"UCGOV_TOKEN": secret})

    assert result.exit_code == 1
    assert "HTTP 401" in result.output and "UCGOV_TOKEN" in result.output
    assert secret not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["plan", "export", "unlock", "resolve"])
def test_without_a_token_the_error_says_it_is_not_set(ucgov, write_spec, tmp_path, catalog_name, command):
    specs = write_spec(team_spec(catalog_name))
    args = {
        "plan": ["plan", str(specs)],
        "export": ["export", "--out", str(tmp_path / "out")],
        "unlock": ["unlock", "--force"],
        "resolve": ["resolve", f"{catalog_name}.default.iris"],
    }[command]

    result = ucgov(*args, env={"UCGOV_TOKEN": None})

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "UCGOV_TOKEN is not set" in line and "HTTP 401" in line
    assert "rejected the token" not in line


def test_a_url_password_the_server_refuses_is_named_and_never_shown(ucgov, write_spec, server, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    url = server.url.replace("://", "://ci:url-pa55word-never-shown@")

    result = ucgov("plan", str(specs), "--url", url, env={"UCGOV_TOKEN": None})

    assert result.exit_code == 1
    assert "the server rejected the user and password in --url / UCGOV_URL" in result.output
    assert "url-pa55word" not in result.output
    assert "Traceback" not in result.output


def test_a_user_lacking_privileges_is_told_so_and_nothing_changes(ucgov, write_spec, rest, token_for, catalog_name):
    specs = write_spec(team_spec(catalog_name))
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 0
    changed = team_spec(catalog_name).replace("comment: ML assets\n", "comment: taken over by bob\n")
    specs = write_spec(changed)

    result = ucgov("apply", str(specs), "--auto-approve", env={"UCGOV_TOKEN": token_for("bob@example.com")})

    assert result.exit_code == 1
    assert "HTTP 403" in result.output and "lacks a privilege" in result.output
    assert "Traceback" not in result.output
    assert rest.get(f"/catalogs/{catalog_name}")["comment"] == "ML assets"


def test_failed_apply_says_what_was_done_and_a_rerun_finishes(server, ucgov, write_spec, rest, catalog_name):
    ghost = f"{catalog_name}@example.com"
    specs = write_spec(
        team_spec(catalog_name, extra="settings: {grants_mode: additive}\n").replace(
            "serving-app@example.com: [EXECUTE]", f"{ghost}: [EXECUTE]"
        )
    )
    desired = load_specs([specs])
    with server.client() as client:
        live = read_live(client, desired)
        # the user existed when the plan was made and is gone when apply runs
        plan = diff(desired, replace(live, known_principals=live.known_principals | {ghost}))
        with pytest.raises(ApplyError) as failed:
            apply_plan(plan, client)

    assert f"create catalog {catalog_name}" in failed.value.applied
    assert failed.value.pending == (f"grant EXECUTE on model {catalog_name}.default.iris to {ghost}",)
    assert "User not found" in failed.value.format_message()
    rest.scim.post("/Users", json={"displayName": "ghost", "emails": [{"value": ghost, "primary": True}]})
    rerun = ucgov("apply", str(specs), "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    assert rest.grants("registered_model", f"{catalog_name}.default.iris") == {ghost: {"EXECUTE"}}
    assert ucgov("plan", str(specs), "--detailed-exitcode").exit_code == 0


def test_deactivated_user_counts_as_unknown(ucgov, write_spec, rest, catalog_name):
    gone = f"{catalog_name}@example.com"
    created = rest.scim.post(
        "/Users", json={"displayName": "gone", "emails": [{"value": gone, "primary": True}]}
    ).json()
    rest.scim.delete(f"/Users/{created['id']}").raise_for_status()  # the server keeps the user, inactive
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    grants:\n      {gone}: [USE CATALOG]\n")

    result = ucgov("plan", str(specs))

    assert result.exit_code == 1
    assert f"unknown principal '{gone}'" in result.output


def test_object_created_meanwhile_with_same_content_counts_as_done(server, write_spec, rest, catalog_name):
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    comment: shared\n")
    desired = load_specs([specs])
    with server.client() as client:
        live = read_live(client, desired)
        plan = diff(desired, live)
        rest.post("/catalogs", {"name": catalog_name, "comment": "shared"})

        # planned against `live`, the create meets the server's "already exists" and accepts it
        assert apply_plan(plan, client, live=live).made == (
            f"create catalog {catalog_name}: someone else had made it meanwhile, as planned",
        )
        # read again first, it is seen as done before any request
        assert apply_plan(plan, client).already_done == (f"create catalog {catalog_name}",)


def test_apply_without_a_terminal_refuses_without_auto_approve(ucgov, write_spec, rest, catalog_name):
    specs = write_spec(team_spec(catalog_name))

    result = ucgov("apply", str(specs))

    assert result.exit_code == 1
    assert "--auto-approve" in result.output
    assert rest.status(f"/catalogs/{catalog_name}") == 404


def test_a_grant_changed_by_hand_during_apply_stops_it_before_that_request(server, write_spec, rest, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    rest.patch_grants("catalog", catalog_name, "bob@example.com", add=["USE CATALOG"])
    specs = write_spec(
        f"catalogs:\n  {catalog_name}:\n    grants: {{alice@example.com: [USE CATALOG]}}\n    schemas:\n      default: {{}}\n"
    )
    desired = load_specs([specs])

    def someone_else_meanwhile(line: str) -> None:
        if line.startswith("create schema"):
            rest.patch_grants("catalog", catalog_name, "bob@example.com", add=["CREATE SCHEMA"])

    with server.client() as client:
        plan = diff(desired, read_live(client, desired))
        with pytest.raises(ApplyError) as stopped:
            apply_plan(plan, client, progress=someone_else_meanwhile)

    assert stopped.value.applied == (f"create schema {catalog_name}.default",)
    assert "stale plan" in str(stopped.value.cause)
    assert f"revoke USE CATALOG on catalog {catalog_name} from bob@example.com" in stopped.value.pending
    assert rest.grants("catalog", catalog_name) == {"bob@example.com": {"USE CATALOG", "CREATE SCHEMA"}}


def test_a_token_pasted_into_a_comment_on_the_server_is_masked_in_every_plan_format(
    server, ucgov, write_spec, rest, catalog_name
):
    pasted = server.token[:60]  # someone pasted part of the token into a comment by hand
    rest.post("/catalogs", {"name": catalog_name, "comment": f"see {pasted}"})
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    comment: ML assets\n")

    for fmt in ("text", "markdown", "json"):
        result = ucgov("plan", str(specs), "--format", fmt)

        assert result.exit_code == 0, result.output
        assert "***" in result.stdout
        assert not any(pasted[i : i + 12] in result.stdout for i in range(len(pasted) - 11)), fmt
