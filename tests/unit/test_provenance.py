"""A saved plan given with its specs does what those specs plan, and nothing their policies deny."""

from __future__ import annotations

from dataclasses import replace

from ucgov.plan import Action, Address, ApprovalChange, Change, Fields, GrantChange, ObjectChange, Registration
from ucgov.planner import diff
from ucgov.provenance import differences, policy_problems
from ucgov.state import Kind, LiveState, Securable

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
        objects={"ml": Securable(Kind.CATALOG, "ml", comment="ML", properties={})},
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

    assert problem.message == (
        f"policy 'no-contractor-execute' denies EXECUTE to {MALLORY} on ml (catalog)"
    )
