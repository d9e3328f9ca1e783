"""Whatever is passed to `apply --plan`, ucgov answers with one sentence: never a traceback, never a hang.

Edited files here carry a recomputed checksum, as anyone can make: the checksum is not a signature.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit_helpers import refs

from ucgov.errors import PlanFileError
from ucgov.plan import Action, Address, Change, Fields, GrantChange, ObjectChange, Plan
from ucgov.planfile import SavedPlan, _checksum, dumps, loads
from ucgov.preconditions import status
from ucgov.state import Approval, Kind, ModelVersion, Ref, Securable

ALICE = "alice@example.com"
PLAN = Plan(
    changes=(
        Change(Action.CREATE, Address(Kind.CATALOG, "ml"), ObjectChange(after=Fields(comment="ML"))),
        Change(Action.UPDATE, Address(Kind.SCHEMA, "ml.prod"), ObjectChange(Fields(comment=None), Fields(comment="x"))),
        Change(Action.GRANT, Address(Kind.CATALOG, "ml", ALICE), GrantChange(("USE CATALOG",), object_held=())),
        Change(
            Action.DELETE,
            Address(Kind.MODEL, "ml.prod.old"),
            ObjectChange(before=Fields(comment=None), versions=(1, 2), approved=2),
        ),
    ),
    objects=(Ref(Kind.CATALOG, "ml"), Ref(Kind.SCHEMA, "ml.prod")),
)
DOCUMENT = json.loads(dumps(SavedPlan(plan=PLAN, url="http://uc.example.com")))
WEIRD = [None, 0, -1, 10**30, 1.5, True, "", "x\x00y", "a.b.c.d", [], [None], {}, {"x": 1}, "ünïcødé" * 50]


def resealed(document: dict) -> str:
    document = {k: v for k, v in document.items() if k != "checksum"}
    return json.dumps({**document, "checksum": _checksum(document)})


def leaves(node, path=()):
    """Every place in the document a value sits, to put something unexpected there."""
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from leaves(child, (*path, key))


def put(document: dict, path: tuple, value) -> dict:
    edited = copy.deepcopy(document)
    if not path:
        return value
    target = edited
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return edited


LIVE = [
    None,
    Securable(Kind.CATALOG, "ml", comment="ML", properties={}, grants={ALICE: frozenset({"USE CATALOG"})}),
    Securable(Kind.MODEL, "ml.prod.old", versions=(ModelVersion(1, None, "READY"),), approved=Approval(version=2)),
]
MUTATIONS = [(path, value) for path in leaves(DOCUMENT) if path[:1] != ("checksum",) for value in WEIRD]


def test_every_value_swapped_for_something_unexpected_is_refused_or_read_cleanly():
    """Counted for the record: every mutation of every value of a plan file, checksum recomputed."""
    refused = read = 0
    for path, value in MUTATIONS:
        text = resealed(put(DOCUMENT, path, value)) if path else json.dumps(value)
        try:
            saved = loads(text, source="plan.json")
        except PlanFileError as exc:
            assert "\n" not in str(exc) and str(exc).startswith("plan.json"), (path, value, exc)
            refused += 1
            continue
        for change in saved.plan.changes:  # what reads back must be something apply can judge
            for live in LIVE:
                status(change, live)
        read += 1
    assert refused + read == len(MUTATIONS) > 700
    assert refused > read
    print(f"{len(MUTATIONS)} mutations: {refused} refused in one sentence, {read} read back and judged")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="lists"),
        pytest.param('{"a":' * 100_000 + "1" + "}" * 100_000, id="objects"),
        pytest.param(None, id="deep-inside-a-resealed-plan"),
    ],
)
def test_a_deeply_nested_plan_file_is_one_sentence(text):
    if text is None:
        deep: object = 1
        for _ in range(900):  # just under what the parser takes, so the checksum and checks see it
            deep = [deep]
        text = resealed(put(DOCUMENT, ("changes", 0, "payload", "after", "comment"), deep))

    with pytest.raises(PlanFileError) as raised:
        loads(text, source="plan.json")

    assert str(raised.value).startswith("plan.json is not a")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_apply_on_a_fifo_says_so_instead_of_waiting(tmp_path):
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "ucgov", "apply", "--plan", str(fifo), "--url", "http://127.0.0.1:9"]

    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=os.getcwd(), env=os.environ)

    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: cannot read the plan file {fifo}: it is not a regular file"


@pytest.mark.parametrize("version", [2, 3, 4])
def test_a_plan_file_from_an_older_format_is_one_sentence(version):
    document = {**DOCUMENT, "format_version": version}

    with pytest.raises(
        PlanFileError, match=f"has plan format version {version}, but this ucgov reads version 5: make the plan"
    ):
        loads(resealed(document), source="plan.json")


def test_each_saved_change_says_what_kind_of_object_it_is_about():
    assert [c["kind"] for c in DOCUMENT["changes"]] == ["catalog", "schema", "catalog", "registered_model"]
    assert loads(dumps(SavedPlan(plan=PLAN, url="http://uc.example.com")), source="plan.json").plan == PLAN


def test_the_kind_a_saved_change_names_is_read_from_the_file_not_guessed_from_its_name():
    document = copy.deepcopy(DOCUMENT)
    document["changes"][1]["kind"] = "catalog"  # "ml.prod" as a catalog: ucgov must not re-guess a schema

    assert loads(resealed(document), source="plan.json").plan.changes[1].address.kind is Kind.CATALOG


def test_a_saved_change_of_an_unknown_kind_is_one_sentence():
    document = copy.deepcopy(DOCUMENT)
    document["changes"][0]["kind"] = "connection"  # a securable the server has and ucgov does not govern

    with pytest.raises(PlanFileError, match="plan.json is not a valid ucgov plan file: at changes/0/kind"):
        loads(resealed(document), source="plan.json")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
CHANGE_KEYS = ["action", "address", "principal", "payload", "reason"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "action": st.sampled_from([a.value for a in Action]) | JSON,
                "address": st.sampled_from(["ml", "ml.prod", "ml.prod.churn"]) | JSON,
                "principal": st.none() | st.just(ALICE) | JSON,
                "payload": JSON,
                "reason": st.just(""),
            }
        ),
        max_size=3,
    )
)
def test_any_resealed_list_of_changes_is_refused_or_read_cleanly(changes):
    text = resealed({**DOCUMENT, "changes": changes})
    try:
        saved = loads(text, source="plan.json")
    except PlanFileError as exc:
        assert "\n" not in str(exc)
        return
    for change in saved.plan.changes:
        for live in LIVE:
            status(change, live)


def test_a_delete_reads_back_with_everything_that_goes_with_it():
    schema_delete = Change(
        Action.DELETE,
        Address(Kind.SCHEMA, "ml.tmp"),
        ObjectChange(before=Fields(comment="", properties={"a": "1"}), children=refs("ml.tmp.a", "ml.tmp.b")),
    )
    plan = Plan(changes=(*PLAN.changes, schema_delete))

    back = loads(dumps(SavedPlan(plan=plan, url="http://uc.example.com")), source="plan.json").plan

    assert back.changes == plan.changes
