"""Plans a reviewer can trust: what a spec leaves out stays untouched, approvals cannot be faked,
and approval comes after every grant."""

from __future__ import annotations

import subprocess
import sys

import pytest
from unit_helpers import kind_at, ref

from ucgov import approval
from ucgov.errors import SpecError
from ucgov.plan import Action, GrantChange
from ucgov.planner import diff
from ucgov.render import render_markdown, render_text
from ucgov.state import Approval, GrantsMode, Kind, LiveState, ModelVersion, RunInfo, Securable

USERS = frozenset({"alice@example.com", "bob@example.com", "serving-app@example.com"})
RUN = "5f1c0e2a8b7d4c3e9f6a1b2c3d4e5f60"


def live(*objects: Securable, runs: dict | None = None, known=USERS) -> LiveState:
    return LiveState(objects={o.ref: o for o in objects}, known_principals=known, runs=runs or {})


def held(full_name: str, grants: dict[str, set[str]], **fields) -> Securable:
    return Securable(
        kind_at(full_name),
        full_name,
        properties={},
        grants={p: frozenset(v) for p, v in grants.items()},
        **fields,
    )


def rows(plan) -> list[tuple]:
    return [(c.action.value, c.address.full_name, c.address.principal) for c in plan.changes]


# -- grants a spec does not mention stay as they are ------------------------------------------


def test_a_spec_that_only_sets_a_models_comment_revokes_nothing_on_it_or_its_parents(load_spec):
    desired = load_spec(
        """
        catalogs:
          ml:
            schemas:
              prod:
                models:
                  churn:
                    comment: Churn model
        """
    )
    server = live(
        held("ml", {"alice@example.com": {"USE CATALOG"}}),
        held("ml.prod", {"alice@example.com": {"USE SCHEMA"}}),
        held("ml.prod.churn", {"serving-app@example.com": {"EXECUTE"}}, comment="old"),
    )

    plan = diff(desired, server)

    assert rows(plan) == [("update", "ml.prod.churn", None)]
    assert plan.grants_modes == {ref("ml.prod.churn"): GrantsMode.UNMANAGED}
    assert "  ~ model ml.prod.churn  (grants: unmanaged)" in render_text(plan)


def test_grants_written_as_empty_revoke_everything_and_the_plan_says_so_loudly(load_spec):
    desired = load_spec("catalogs:\n  ml:\n    grants: {}\n")
    server = live(held("ml", {"alice@example.com": {"USE CATALOG"}, "bob@example.com": {"CREATE SCHEMA"}}))

    plan = diff(desired, server)

    assert rows(plan) == [("revoke", "ml", "alice@example.com"), ("revoke", "ml", "bob@example.com")]
    assert plan.warnings == (
        "catalog ml declares `grants: {}` with authoritative grants: every grant on it is revoked "
        "(2 principals lose access: alice@example.com, bob@example.com)",
    )
    assert "Warning: catalog ml declares `grants: {}`" in render_text(plan)
    assert "> **Warning:** catalog ml declares `grants: {}`" in render_markdown(plan)


def test_a_revoke_that_leaves_a_principal_with_nothing_is_flagged_but_a_partial_one_is_not(load_spec):
    desired = load_spec("catalogs:\n  ml:\n    grants:\n      alice@example.com: [USE CATALOG]\n")
    server = live(
        held("ml", {"alice@example.com": {"USE CATALOG", "CREATE SCHEMA"}, "bob@example.com": {"USE CATALOG"}})
    )

    plan = diff(desired, server)

    alice, bob = (c.payload for c in plan.changes)
    assert isinstance(alice, GrantChange) and not alice.removes_all
    assert isinstance(bob, GrantChange) and bob.removes_all
    text = render_text(plan)
    assert "revoke CREATE SCHEMA from alice@example.com  (not in the spec; grants are authoritative)\n" in text
    assert (
        "revoke USE CATALOG from bob@example.com  (not in the spec; grants are authoritative; bob@example.com keeps no privilege on it)"
        in text
    )
    markdown = render_markdown(plan)
    assert markdown.count("**left with no privilege on it**") == 1


# -- approvals --------------------------------------------------------------------------------


def test_approval_is_the_last_step_after_every_grant(load_spec):
    desired = load_spec(
        f"""
        catalogs:
          ml:
            grants: {{alice@example.com: [USE CATALOG]}}
            schemas:
              prod:
                models:
                  churn:
                    grants: {{serving-app@example.com: [EXECUTE]}}
                    approved: {{run: {RUN}}}
        """
    )
    runs = {RUN: RunInfo(RUN, "file:///runs/x", model_paths=frozenset({"model"}))}

    plan = diff(desired, live(runs=runs))

    assert [c.action for c in plan.changes] == [
        Action.CREATE,
        Action.CREATE,
        Action.CREATE,
        Action.REGISTER,
        Action.GRANT,
        Action.GRANT,
        Action.APPROVE,
    ]


def model_with(*versions: ModelVersion, approved: int | None = None) -> Securable:
    return Securable(
        Kind.MODEL,
        "ml.prod.churn",
        properties={},
        versions=versions,
        approved=Approval(version=approved) if approved else None,
    )


def churn_spec(approved: str) -> str:
    return f"catalogs:\n  ml:\n    schemas:\n      prod:\n        models:\n          churn:\n            approved: {approved}\n"


def test_changing_artifact_path_for_the_same_run_plans_a_new_registration(load_spec):
    desired = load_spec(churn_spec(f"{{run: {RUN}, artifact_path: tuned}}"))
    registered = ModelVersion(1, RUN, "READY", source=f"runs:/{RUN}/model")
    runs = {RUN: RunInfo(RUN, "file:///runs/x", model_paths=frozenset({"model", "tuned"}))}

    plan = diff(desired, live(held("ml", {}), held("ml.prod", {}), model_with(registered, approved=1), runs=runs))

    assert [c.action for c in plan.changes] == [Action.REGISTER, Action.APPROVE]
    assert plan.changes[0].after == {"run": RUN, "artifact_path": "tuned"}


def test_a_version_mlflow_registered_from_the_runs_artifact_folder_counts_as_that_runs_model(load_spec):
    desired = load_spec(churn_spec(f"{{run: {RUN}}}"))
    by_mlflow = ModelVersion(4, RUN, "READY", source=f"file:///mlruns/1/{RUN}/artifacts/model")
    runs = {RUN: RunInfo(RUN, "file:///runs/x", model_paths=frozenset({"model"}))}

    plan = diff(desired, live(held("ml", {}), held("ml.prod", {}), model_with(by_mlflow, approved=4), runs=runs))

    assert plan.empty


def test_every_planning_problem_is_reported_at_once_with_its_file_and_line(load_spec):
    desired = load_spec(
        f"""
        catalogs:
          ml:
            grants: {{mallory@example.com: [USE CATALOG]}}
            schemas:
              prod:
                models:
                  churn:
                    approved: {{run: {RUN}}}
        """
    )

    with pytest.raises(SpecError) as raised:
        diff(desired, live())

    assert [str(p) for p in raised.value.problems] == [
        "specs/team.yaml:4:14: unknown principal 'mallory@example.com': no active user by that name on the server (names are exact and case-sensitive)",
        f"specs/team.yaml:9:29: unknown run {RUN}: no such run in the MLflow tracking store",
    ]


def test_a_spec_comment_shaped_like_the_approval_line_is_an_error_at_its_line(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(
            """
            catalogs:
              ml:
                schemas:
                  prod:
                    models:
                      churn:
                        comment: "Churn\\n\\nucgov: approved version 9"
            """
        )

    [problem] = [str(p) for p in raised.value.problems]
    assert problem.startswith(
        "specs/team.yaml:8:22: the comment of model ml.prod.churn contains text shaped like ucgov's approval line"
    )


def test_a_comment_too_long_for_the_approval_line_is_caught_offline_by_validate(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(
            churn_spec("{version: 1}").replace(
                "            approved", "            comment: " + "x" * 250 + "\n            approved"
            )
        )

    [problem] = [str(p) for p in raised.value.problems]
    assert (
        "the comment of model ml.prod.churn is 250 characters; with the approval line it must be at most 224" in problem
    )


@pytest.mark.parametrize(
    "comment",
    [
        "Churn\n\nucgov: approved version 3",
        "Churn\n\nucgov: approved version 3\n",
        "Churn\n\nucgov: approved version 3  \n\n",
        "Churn\r\n\r\nucgov: approved version 3\r\n",
    ],
)
def test_whitespace_a_ui_adds_after_the_approval_line_keeps_the_approval(comment):
    human, version = approval.read(comment)

    assert version == 3
    assert human.strip() == "Churn"


def test_the_planner_does_not_know_how_approvals_are_stored():
    code = "import sys, ucgov.planner; print('ucgov.approval' in sys.modules)"

    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert imported.strip() == "False"
