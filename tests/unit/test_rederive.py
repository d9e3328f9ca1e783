"""A saved plan given with its specs does what those specs plan, and nothing their policies deny."""

from __future__ import annotations

import json
from dataclasses import replace

from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.plan import (
    Action,
    Address,
    ApprovalChange,
    Change,
    Fields,
    GrantChange,
    ObjectChange,
    Registration,
    VersionDeletion,
)
from ucgov.planfile import SavedPlan, _checksum, dumps
from ucgov.planner import diff
from ucgov.rederive import differences, policy_problems
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Ref, Securable

MALLORY = "mallory@contractors.example.com"
SPEC = """
policies:
  - name: no-contractor-execute
    deny: {principal: "*@contractors.example.com", privileges: [EXECUTE]}
catalogs:
  ml:
    comment: ML
    schemas:
      prod:
        models:
          churn:
            grants: {serving-app@example.com: [EXECUTE]}
"""
NOTHING = LiveState(known_principals=frozenset({"serving-app@example.com", MALLORY}))
RUN = "0123456789abcdef0123456789abcdef"


def test_a_plan_from_the_specs_against_the_same_server_does_not_differ(load_spec):
    plan = diff(load_spec(SPEC), NOTHING)

    assert differences(plan.changes, plan.changes, diff(load_spec(SPEC), NOTHING).changes) == []


def test_a_change_added_to_the_file_is_named(load_spec):
    plan = diff(load_spec(SPEC), NOTHING)
    grant = next(c for c in plan.changes if c.action is Action.GRANT)
    added = replace(grant, address=replace(grant.address, principal=MALLORY))
    delete = Change(Action.DELETE, Address(Kind.MODEL, "ml.prod.scorer"), ObjectChange(Fields(comment=None)))
    edited = (*plan.changes, added, delete)

    assert differences(edited, edited, plan.changes) == [
        f"not from these specs: grant EXECUTE on model ml.prod.churn to {MALLORY}",
        "not from these specs: delete model ml.prod.scorer",
    ]


def test_a_change_taken_out_of_the_file_or_rewritten_is_named(load_spec):
    plan = diff(load_spec(SPEC), NOTHING)
    create = plan.changes[0]
    rewritten = replace(create, payload=ObjectChange(after=Fields(comment="something else")))
    edited = (rewritten, *plan.changes[2:])  # the schema's create dropped

    assert differences(edited, edited, plan.changes) == [
        "not from these specs: create catalog ml",
        "missing from the file: create catalog ml",
        "missing from the file: create schema ml.prod",
    ]


def test_changes_an_earlier_apply_made_are_no_longer_planned_and_that_is_fine(load_spec):
    desired = load_spec(SPEC)
    plan = diff(desired, NOTHING)
    made = LiveState(
        objects={Ref(Kind.CATALOG, "ml"): Securable(Kind.CATALOG, "ml", comment="ML", properties={})},
        known_principals=NOTHING.known_principals,
    )
    pending = plan.changes[1:]

    assert differences(pending, plan.changes, diff(desired, made).changes) == []


def test_approving_the_run_matches_once_its_version_was_registered():
    address = Address(Kind.MODEL, "ml.prod.churn")
    register = Change(Action.REGISTER, address, Registration(RUN))
    by_run = Change(Action.APPROVE, address, ApprovalChange(None, RUN, replaces=1))
    now = Change(Action.APPROVE, address, ApprovalChange(4, RUN, replaces=1))

    assert differences((by_run,), (register, by_run), (now,)) == []


def test_the_files_grants_are_checked_against_the_specs_policies(load_spec):
    grant = Change(
        Action.GRANT, Address(Kind.CATALOG, "ml", MALLORY), GrantChange(("USE CATALOG", "EXECUTE"), object_held=())
    )

    [problem] = policy_problems((grant,), load_spec(SPEC))

    assert problem.message == (f"policy 'no-contractor-execute' denies EXECUTE to {MALLORY} on ml (catalog)")


RICH = """
settings: {prune: true}
policies:
  - name: no-contractor-execute
    deny: {principal: "*@contractors.example.com", privileges: [EXECUTE]}
catalogs:
  ml:
    comment: ML
    properties: {team: ml}
    grants: {alice@example.com: [USE CATALOG]}
    schemas:
      prod:
        models:
          churn:
            comment: Churn
            grants: {serving-app@example.com: [EXECUTE]}
            approved: {version: 2}
"""
PEOPLE = frozenset({"alice@example.com", "bob@example.com", "serving-app@example.com", MALLORY})


def rich_live() -> LiveState:
    versions = tuple(ModelVersion(v, None, "READY") for v in (1, 2))
    objects = {
        Ref(Kind.CATALOG, "ml"): Securable(
            Kind.CATALOG, "ml", "old", {"team": "x"}, {"bob@example.com": frozenset({"USE CATALOG"})}
        ),
        Ref(Kind.SCHEMA, "ml.prod"): Securable(Kind.SCHEMA, "ml.prod", None, {}),
        Ref(Kind.MODEL, "ml.prod.churn"): Securable(
            Kind.MODEL, "ml.prod.churn", None, {}, {}, approved=Approval(1), versions=versions
        ),
    }
    scorer = Securable(Kind.MODEL, "ml.prod.scorer", None, {}, versions=versions, approved=Approval(2))
    return LiveState(
        objects=objects,
        known_principals=PEOPLE,
        children={
            "ml": (Ref(Kind.SCHEMA, "ml.prod"),),
            "ml.prod": (Ref(Kind.MODEL, "ml.prod.churn"), Ref(Kind.MODEL, "ml.prod.scorer")),
        },
        undeclared={scorer.ref: scorer},
    )


def _edit(changes: tuple, action: Action, fn) -> tuple:
    found = next(i for i, c in enumerate(changes) if c.action is action)
    return (*changes[:found], *fn(changes[found]), *changes[found + 1 :])


def _principal(change, who):
    return [replace(change, address=replace(change.address, principal=who))]


EDITS = {
    "grant to another principal": (Action.GRANT, lambda c: _principal(c, MALLORY)),
    "grant more privileges": (
        Action.GRANT,
        lambda c: [replace(c, payload=replace(c.payload, privileges=(*c.payload.privileges, "CREATE SCHEMA")))],
    ),
    "grant on another object": (
        Action.GRANT,
        lambda c: [replace(c, address=Address(Kind.SCHEMA, "ml.prod", c.address.principal))],
    ),
    "revoke dropped": (Action.REVOKE, lambda c: []),
    "revoke turned into a grant": (Action.REVOKE, lambda c: [replace(c, action=Action.GRANT)]),
    "update writes another comment": (
        Action.UPDATE,
        lambda c: [replace(c, payload=replace(c.payload, after=Fields(comment="pwned", properties={"team": "ml"})))],
    ),
    "update dropped": (Action.UPDATE, lambda c: []),
    "approval of another version": (
        Action.APPROVE,
        lambda c: [replace(c, payload=replace(c.payload, version=1, replaces=1))],
    ),
    "approval turned into one of a run": (
        Action.APPROVE,
        lambda c: [replace(c, payload=ApprovalChange(None, "f" * 32, replaces=1))],
    ),
    "delete of a declared model added": (
        Action.DELETE,
        lambda c: [c, replace(c, address=Address(Kind.MODEL, "ml.prod.churn"))],
    ),
    "delete of a schema added": (
        Action.DELETE,
        lambda c: [c, replace(c, address=Address(Kind.SCHEMA, "ml.prod"), payload=ObjectChange(Fields(comment=None)))],
    ),
    "delete dropped": (Action.DELETE, lambda c: []),
    "a version delete added": (
        Action.DELETE,
        lambda c: [c, Change(Action.DELETE, Address(Kind.MODEL, "ml.prod.churn"), VersionDeletion(2))],
    ),
    "a registration added": (
        Action.DELETE,
        lambda c: [c, Change(Action.REGISTER, Address(Kind.MODEL, "ml.prod.churn"), Registration("e" * 32))],
    ),
}


def test_every_kind_of_edit_to_what_a_plan_does_is_named(load_spec):
    """Counted for the record: each edit a hostile hand could make to what a saved plan does."""
    desired = load_spec(RICH)
    planned = diff(desired, rich_live()).changes
    assert {c.action for c in planned} >= {Action.UPDATE, Action.GRANT, Action.REVOKE, Action.APPROVE, Action.DELETE}

    unnamed = []
    for name, (action, fn) in EDITS.items():
        edited = _edit(planned, action, fn)
        found = differences(edited, edited, planned) or policy_problems(edited, desired)
        if not found:
            unnamed.append(name)

    assert unnamed == []
    assert len(EDITS) == 14


def test_what_only_people_read_may_differ(load_spec):
    planned = diff(load_spec(RICH), rich_live()).changes
    reworded = tuple(replace(c, reason="looks harmless") for c in planned)

    assert differences(reworded, reworded, planned) == []


def test_apply_refuses_a_resealed_file_granting_what_the_specs_policies_deny_before_asking_the_server(
    load_spec, tmp_path
):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ml.yaml").write_text(SPEC)
    document = json.loads(dumps(SavedPlan(plan=diff(load_spec(SPEC), NOTHING), url="http://127.0.0.1:9")))
    grant = next(c for c in document["changes"] if c["action"] == "grant")
    document["changes"].append({**grant, "principal": MALLORY})
    document.pop("checksum")
    (tmp_path / "plan.json").write_text(json.dumps({**document, "checksum": _checksum(document)}))

    args = ["apply", "--plan", str(tmp_path / "plan.json"), str(tmp_path / "specs"), "--url", "http://127.0.0.1:9"]
    result = CliRunner().invoke(cli, [*args, "--auto-approve"])

    assert result.exit_code == 1
    assert f"policy 'no-contractor-execute' denies EXECUTE to {MALLORY} on ml.prod.churn (model)" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
