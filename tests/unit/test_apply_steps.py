"""Apply turns a plan into requests: one per object change, one per object for all its grant changes."""

from __future__ import annotations

from unit_helpers import kind_at

from ucgov.apply import apply_steps, waves
from ucgov.plan import Action, Address, Change, Fields, GrantChange, ObjectChange
from ucgov.planner import diff
from ucgov.state import Kind, LiveState, ModelVersion, Ref, Securable


def create(full_name: str, **after) -> Change:
    return Change(Action.CREATE, Address(kind_at(full_name), full_name), ObjectChange(after=Fields(**after)))


def update(full_name: str, before: dict, after: dict) -> Change:
    payload = ObjectChange(before=Fields(**before), after=Fields(**after))
    return Change(Action.UPDATE, Address(kind_at(full_name), full_name), payload)


def grant(full_name: str, principal: str, *privileges: str) -> Change:
    return Change(Action.GRANT, Address(kind_at(full_name), full_name, principal), GrantChange(privileges))


def revoke(full_name: str, principal: str, *privileges: str) -> Change:
    payload = GrantChange(privileges, held=frozenset(privileges))
    return Change(Action.REVOKE, Address(kind_at(full_name), full_name, principal), payload)


def steps_of(*changes: Change) -> list[tuple[Change, ...]]:
    return [step.changes for step in apply_steps(changes)]


def test_an_empty_plan_has_no_steps():
    assert apply_steps(()) == []


def test_object_changes_stay_one_per_step_in_plan_order():
    changes = (
        create("unity", comment="ML"),
        update("other", {"comment": "a"}, {"comment": "b"}),
        create("unity.default"),
        update("unity.default", {"comment": None}, {"comment": "c"}),  # same object, still its own request
    )

    assert steps_of(*changes) == [(c,) for c in changes]


def test_all_grant_changes_on_one_object_become_one_step():
    alice = grant("unity", "alice@example.com", "USE CATALOG")
    bob_loses = revoke("unity", "bob@example.com", "USE CATALOG", "SELECT")
    carol = grant("unity", "carol@example.com", "CREATE SCHEMA")
    carol_loses = revoke("unity", "carol@example.com", "MODIFY")

    [step] = apply_steps((alice, bob_loses, carol, carol_loses))

    assert step.changes == (alice, bob_loses, carol, carol_loses)
    assert step.is_grants


def test_a_grant_step_sits_where_its_objects_first_grant_change_was():
    alice_unity = grant("unity", "alice@example.com", "USE CATALOG")
    make_schema = create("unity.default")
    alice_schema = grant("unity.default", "alice@example.com", "USE SCHEMA")
    bob_unity = revoke("unity", "bob@example.com", "USE CATALOG")
    make_model = create("unity.default.iris")

    assert steps_of(alice_unity, make_schema, alice_schema, bob_unity, make_model) == [
        (alice_unity, bob_unity),
        (make_schema,),
        (alice_schema,),
        (make_model,),
    ]


def test_grants_on_different_objects_are_separate_steps():
    on_catalog = grant("unity", "alice@example.com", "USE CATALOG")
    on_schema = grant("unity.unity", "alice@example.com", "USE SCHEMA")

    assert steps_of(on_catalog, on_schema) == [(on_catalog,), (on_schema,)]


def test_a_planned_change_set_becomes_creates_then_one_grant_request_per_object(load_spec):
    desired = load_spec(
        """
        catalogs:
          unity:
            grants:
              alice@example.com: [USE CATALOG]
              bob@example.com: [USE CATALOG]
            schemas:
              default:
                grants:
                  alice@example.com: [USE SCHEMA, CREATE MODEL]
        """
    )
    live = LiveState(
        objects={
            Ref(Kind.CATALOG, "unity"): Securable(
                Kind.CATALOG, "unity", properties={}, grants={"carol@example.com": frozenset({"SELECT"})}
            )
        },
        known_principals=frozenset({"alice@example.com", "bob@example.com"}),
    )

    steps = apply_steps(diff(desired, live).changes)

    assert [[(c.action, str(c.address)) for c in step.changes] for step in steps] == [
        [(Action.CREATE, "unity.default")],
        [
            (Action.GRANT, "unity (alice@example.com)"),
            (Action.GRANT, "unity (bob@example.com)"),
            (Action.REVOKE, "unity (carol@example.com)"),
        ],
        [(Action.GRANT, "unity.default (alice@example.com)")],
    ]
    assert [step.is_grants for step in steps] == [False, True, True]


def test_each_step_describes_its_changes_for_apply_progress():
    [step] = apply_steps((grant("unity.default", "alice@example.com", "USE SCHEMA", "CREATE MODEL"),))

    assert step.describe() == ["grant USE SCHEMA, CREATE MODEL on schema unity.default to alice@example.com"]


def test_a_revoke_is_described_as_taken_from_the_principal():
    [step] = apply_steps((revoke("unity", "bob@example.com", "USE CATALOG", "SELECT"),))

    assert step.describe() == ["revoke USE CATALOG, SELECT on catalog unity from bob@example.com"]


def test_steps_run_in_waves_one_depth_at_a_time_then_grants_then_approvals(load_spec):
    desired = load_spec(
        """
        catalogs:
          a:
            grants: {alice@example.com: [USE CATALOG]}
            schemas:
              s1: {grants: {alice@example.com: [USE SCHEMA]}}
              s2:
                models:
                  m1: {grants: {bob@example.com: [EXECUTE]}}
                  m2: {approved: {version: 1}}
          b: {comment: other}
        """
    )
    live = LiveState(
        objects={
            Ref(Kind.MODEL, "a.s2.m2"): Securable(
                Kind.MODEL, "a.s2.m2", properties={}, versions=(ModelVersion(1, None, "READY"),)
            )
        },
        known_principals=frozenset({"alice@example.com", "bob@example.com"}),
    )

    grouped = waves(apply_steps(diff(desired, live).changes))

    assert [[str(step.changes[0].address) for step in wave] for wave in grouped] == [
        ["a", "b"],
        ["a.s1", "a.s2"],
        ["a.s2.m1"],
        ["a (alice@example.com)", "a.s1 (alice@example.com)", "a.s2.m1 (bob@example.com)"],
        ["a.s2.m2"],
    ]


def test_every_request_the_server_refused_in_a_wave_shows_its_reason_in_the_account():
    from ucgov.apply import _stopped
    from ucgov.errors import ApiError

    wave = list(apply_steps((create("ml.a"), create("ml.b"), create("ml.c"))))
    tables = ApiError("cannot create schema ml.a: Cannot create, tables in the way (HTTP 400 FAILED_PRECONDITION)")
    functions = ApiError("cannot create schema ml.b: Cannot create, functions in the way (HTTP 400)", status=400)
    account = _stopped(wave, [tables, functions, ["create schema ml.c"]], [], ["create schema ml.c"], None)

    message = account.format_message()
    assert "tables in the way" in message and "functions in the way" in message  # the second is not hidden
    assert "1 more failed requests in flight with it: cannot create schema ml.b: Cannot create, functions" in message
    assert account.pending == ("create schema ml.a", "create schema ml.b")
