"""Every managed field of every kind, absent, empty or set, goes through plan, plan file and precondition intact.

The story: a spec sets (or empties) a comment or properties on an object that has none, an empty
one, or another one. The plan saved to a file and read back must still say "to do" against the
server it was planned against, and "done" once the server holds the spec's value, with None a
value like any other (a comment that is not there), never "not part of the change".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ucgov.plan import UNMANAGED, Action, Address, Change, Fields, ObjectChange, Plan
from ucgov.planfile import SavedPlan, dumps, loads
from ucgov.planner import diff
from ucgov.preconditions import Status, status
from ucgov.state import Kind, LiveState, Securable

NAMES = {Kind.CATALOG: "ml", Kind.SCHEMA: "ml.prod", Kind.MODEL: "ml.prod.churn"}
INDENT = {Kind.CATALOG: 4, Kind.SCHEMA: 8, Kind.MODEL: 12}
LIVE_VALUES = {
    "comment": {"absent": None, "empty": "", "set": "old"},
    "properties": {"absent": {}, "empty": {}, "set": {"a": "1"}},  # the server has no absent map
}
SPEC_VALUES = {
    "comment": {"empty": ('""', ""), "set": ("new", "new")},
    "properties": {"set": ('{b: "2"}', {"b": "2"})},  # `properties: {}` cannot be reached (planner refuses)
}
KIND_FIELDS = [(Kind.CATALOG, "comment"), (Kind.CATALOG, "properties"), (Kind.SCHEMA, "comment")]
KIND_FIELDS += [(Kind.SCHEMA, "properties"), (Kind.MODEL, "comment")]  # a model has no properties in specs


def spec(kind: Kind, field: str | None = None, written: str = "") -> str:
    """ml, ml.prod and ml.prod.churn, with ``field: written`` on the object of ``kind`` only."""
    lines = {k: f"{' ' * INDENT[k]}{field}: {written}\n" if field and k is kind else "" for k in Kind}
    return (
        "catalogs:\n  ml:\n"
        + lines[Kind.CATALOG]
        + "    schemas:\n      prod:\n"
        + lines[Kind.SCHEMA]
        + "        models:\n          churn:\n"
        + lines[Kind.MODEL]
        + "            grants: {}\n"
    )


def live(kind: Kind, field: str, value: object) -> LiveState:
    """All three objects on the server, the one of ``kind`` holding ``value`` in ``field``."""
    objects = {k: Securable(k, name, comment=None, properties={}, grants={}) for k, name in NAMES.items()}
    objects[kind] = replace(objects[kind], **{field: value})
    return LiveState(objects={o.ref: o for o in objects.values()}, known_principals=frozenset())


def through_a_plan_file(plan):
    return loads(dumps(SavedPlan(plan=plan, url="http://uc.example.com")), source="plan.json").plan


CASES = [
    pytest.param(kind, field, had, wanted, id=f"{kind.label}-{field}-{had}-to-{wanted}")
    for kind, field in KIND_FIELDS
    for had in LIVE_VALUES[field]
    for wanted in SPEC_VALUES[field]
]


@pytest.mark.parametrize(("kind", "field", "had", "wanted"), CASES)
def test_a_field_is_set_from_absent_empty_or_another_value(load_spec, kind, field, had, wanted):
    written, value = SPEC_VALUES[field][wanted]
    before = live(kind, field, LIVE_VALUES[field][had])

    plan = through_a_plan_file(diff(load_spec(spec(kind, field, written)), before))

    if LIVE_VALUES[field][had] == value:
        assert plan.empty
        return
    [change] = plan.changes
    assert (change.action, change.address.full_name) == (Action.UPDATE, NAMES[kind])
    assert change.payload.before.as_dict() == {field: LIVE_VALUES[field][had]}
    assert change.payload.after.as_dict() == {field: value}
    assert status(change, before.named(NAMES[kind])) is Status.PENDING
    assert status(change, live(kind, field, value).named(NAMES[kind])) is Status.DONE
    moved = {"comment": "edited by hand", "properties": {"c": "3"}}[field]
    assert status(change, live(kind, field, moved).named(NAMES[kind])) is Status.MOVED


@pytest.mark.parametrize(("kind", "field"), KIND_FIELDS)
@pytest.mark.parametrize("had", ["absent", "empty", "set"])
def test_a_field_the_spec_leaves_out_is_never_part_of_a_change(load_spec, kind, field, had):
    plan = diff(load_spec(spec(kind)), live(kind, field, LIVE_VALUES[field][had]))

    assert plan.empty


CREATE_CASES = [
    pytest.param(kind, field, wanted, id=f"{kind.label}-{field}-{wanted}")
    for kind, field in KIND_FIELDS
    for wanted in ["left out", *SPEC_VALUES[field]]  # `properties: {}` is not a value ucgov writes
]


@pytest.mark.parametrize(("kind", "field", "wanted"), CREATE_CASES)
def test_an_object_created_with_a_field_absent_empty_or_set(load_spec, kind, field, wanted):
    written, value = SPEC_VALUES[field].get(wanted, (None, None))
    desired = load_spec(spec(kind, field, written) if written else spec(kind))
    nothing = LiveState(objects={}, known_principals=frozenset())

    plan = through_a_plan_file(diff(desired, nothing))

    [change] = [c for c in plan.changes if c.address.full_name == NAMES[kind]]
    assert change.action is Action.CREATE
    assert change.payload.after.as_dict() == ({} if written is None else {field: value})
    assert status(change, None) is Status.PENDING
    made = Securable(kind, NAMES[kind], comment=value if field == "comment" else None, properties={})
    if field == "properties" and value is not None:
        made = replace(made, properties=value)
    assert status(change, made) is Status.DONE


@pytest.mark.parametrize(
    "fields",
    [
        Fields(),
        Fields(comment=None),
        Fields(comment=""),
        Fields(comment="x"),
        Fields(properties={}),
        Fields(properties={"a": "1"}),
        Fields(comment=None, properties={}),
    ],
    ids=repr,
)
def test_which_fields_a_change_is_about_reads_back_exactly(fields):
    change = Change(Action.UPDATE, Address(Kind.CATALOG, "ml"), ObjectChange(before=fields, after=fields))

    [back] = through_a_plan_file(Plan(changes=(change,))).changes

    assert back.payload == change.payload
    assert (back.payload.before.comment is UNMANAGED) == (fields.comment is UNMANAGED)
