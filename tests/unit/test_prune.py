"""Planning deletes: only with prune, only what no spec declares under a declared parent, children first."""

from __future__ import annotations

from dataclasses import replace

from unit_helpers import kind_at

from ucgov.plan import Action, ObjectChange, VersionDeletion
from ucgov.planner import diff
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Ref, Securable

SPEC = """
settings: {{prune: {prune}}}
catalogs:
  ml:
    schemas:
      fraud:
        models:
          scorer: {{}}
"""


def live(*objects: Securable, undeclared: tuple[Securable, ...] = (), holding: tuple[Ref, ...] = ()) -> LiveState:
    """The server: declared objects, plus the undeclared ones the live reader found under pruned parents,
    plus ``holding``: what else schemas hold that prune never deletes (tables, functions)."""
    children: dict[str, list[Ref]] = {}
    for r in [o.ref for o in objects + undeclared] + list(holding):
        if "." in r.full_name:
            children.setdefault(r.full_name.rsplit(".", 1)[0], []).append(r)
    return LiveState(
        objects={o.ref: o for o in objects},
        known_principals=None,
        children={k: tuple(sorted(v, key=lambda r: r.full_name)) for k, v in children.items()},  # as listed
        undeclared={o.ref: o for o in undeclared},
    )


def obj(full_name: str, *, comment: str | None = None, versions=(), approved: int | None = None) -> Securable:
    return Securable(
        kind_at(full_name),
        full_name,
        comment=comment,
        properties={},
        versions=tuple(ModelVersion(v, "r", "READY") for v in versions),
        approved=Approval(version=approved) if approved else None,
    )


DECLARED = (obj("ml"), obj("ml.fraud"), obj("ml.fraud.scorer"))
STRAYS = (
    obj("ml.fraud.old", comment="v0", versions=(1, 2), approved=2),
    obj("ml.scratch"),
    obj("ml.scratch.tmp", versions=(1,)),
)


def deletes(plan) -> list[tuple[str, str]]:
    return [(c.address.full_name, c.reason) for c in plan.changes if c.action is Action.DELETE]


def test_without_prune_undeclared_objects_are_left_alone(load_spec):
    plan = diff(load_spec(SPEC.format(prune="false")), live(*DECLARED, undeclared=STRAYS))
    assert plan.empty


def test_with_prune_undeclared_children_are_deleted_children_before_parents(load_spec):
    plan = diff(load_spec(SPEC.format(prune="true")), live(*DECLARED, undeclared=STRAYS))
    assert [name for name, _ in deletes(plan)] == ["ml.fraud.old", "ml.scratch.tmp", "ml.scratch"]
    old = plan.changes[0]
    assert isinstance(old.payload, ObjectChange)
    assert old.payload.after is None and old.payload.before.comment == "v0"
    assert old.payload.versions == (1, 2)
    reasons = dict(deletes(plan))
    assert "holds the approved version 2" in reasons["ml.fraud.old"]
    assert "2 versions" in reasons["ml.fraud.old"]
    assert "1 model" in reasons["ml.scratch"]
    assert any("--allow-destroy" in w for w in plan.warnings)


def test_prune_on_one_schema_deletes_only_inside_it(load_spec):
    spec = SPEC.format(prune="false").replace("      fraud:\n", "      fraud:\n        prune: true\n")
    plan = diff(load_spec(spec), live(*DECLARED, undeclared=STRAYS))
    assert [name for name, _ in deletes(plan)] == ["ml.fraud.old"]


def test_a_schema_can_opt_out_of_its_catalogs_prune(load_spec):
    spec = (
        SPEC.format(prune="false")
        .replace("  ml:\n", "  ml:\n    prune: true\n")
        .replace("      fraud:\n", "      fraud:\n        prune: false\n")
    )
    plan = diff(load_spec(spec), live(*DECLARED, undeclared=STRAYS))
    assert [name for name, _ in deletes(plan)] == ["ml.scratch.tmp", "ml.scratch"]


def test_deletes_come_after_every_other_change(load_spec):
    spec = SPEC.format(prune="true").replace("          scorer: {}", "          scorer: {comment: new}")
    plan = diff(load_spec(spec), live(*DECLARED, undeclared=STRAYS))
    assert [c.action for c in plan.changes] == [Action.UPDATE] + [Action.DELETE] * 3


KEEP = """
settings: {{prune: {prune}}}
catalogs:
  ml:
    schemas:
      fraud:
        models:
          scorer:
            approved: {{version: 2, keep_versions: 2}}
"""


def test_keep_versions_deletes_older_unapproved_versions_and_never_the_approved_one(load_spec):
    scorer = obj("ml.fraud.scorer", versions=(1, 2, 3, 4, 5), approved=2)
    plan = diff(load_spec(KEEP.format(prune="true")), live(obj("ml"), obj("ml.fraud"), scorer))
    gone = [c for c in plan.changes if isinstance(c.payload, VersionDeletion)]
    assert [(c.action, c.address.full_name, c.payload.version) for c in gone] == [
        (Action.DELETE, "ml.fraud.scorer", 1),
        (Action.DELETE, "ml.fraud.scorer", 3),
    ]
    assert gone[0].describe() == "delete version 1 of model ml.fraud.scorer"


def test_keep_versions_keeps_the_version_the_spec_is_about_to_approve(load_spec):
    scorer = obj("ml.fraud.scorer", versions=(1, 2, 3, 4, 5), approved=5)
    plan = diff(load_spec(KEEP.format(prune="true")), live(obj("ml"), obj("ml.fraud"), scorer))
    assert [c.payload.version for c in plan.changes if isinstance(c.payload, VersionDeletion)] == [1, 3]
    assert plan.changes[0].action is Action.APPROVE


def test_keep_versions_without_prune_deletes_nothing_and_says_so(load_spec):
    scorer = obj("ml.fraud.scorer", versions=(1, 2, 3, 4, 5), approved=2)
    plan = diff(load_spec(KEEP.format(prune="false")), live(obj("ml"), obj("ml.fraud"), scorer))
    assert plan.empty
    assert any("keep_versions" in w and "prune" in w for w in plan.warnings)


def test_versions_still_unfinished_from_the_approved_run_are_kept(load_spec):
    spec = KEEP.format(prune="true").replace("version: 2, keep_versions: 2", "run: abc, keep_versions: 1")
    versions = tuple(ModelVersion(v, "other", "READY") for v in (1, 2)) + (
        ModelVersion(3, "abc", "PENDING_REGISTRATION", "runs:/abc/model"),
    )
    scorer = replace(obj("ml.fraud.scorer"), versions=versions)
    desired = load_spec(spec)
    from ucgov.state import RunInfo

    runs = {"abc": RunInfo("abc", "file:///a", model_paths=frozenset({"model"}))}
    plan = diff(desired, replace(live(obj("ml"), obj("ml.fraud"), scorer), runs=runs))
    assert [c.payload.version for c in plan.changes if isinstance(c.payload, VersionDeletion)] == [1, 2]


def test_deletes_read_back_from_a_saved_plan_with_their_preconditions(load_spec):
    from ucgov.planfile import SavedPlan, dumps, loads

    spec = KEEP.format(prune="true")
    scorer = obj("ml.fraud.scorer", versions=(1, 2, 3, 4), approved=2)
    state = live(obj("ml"), obj("ml.fraud"), scorer, undeclared=STRAYS[:1])
    saved = SavedPlan(plan=diff(load_spec(spec), state), url="http://uc.example.com")
    assert {type(c.payload) for c in saved.plan.changes} == {ObjectChange, VersionDeletion}

    assert loads(dumps(saved), source="plan.json").plan.changes == saved.plan.changes


def test_a_delete_is_done_when_gone_and_stale_when_something_new_would_go_with_it():
    from ucgov.plan import Address, Change
    from ucgov.preconditions import Status, status

    model = Change(Action.DELETE, Address(Kind.MODEL, "ml.s.m"), ObjectChange(after=None, versions=(1, 2)))
    assert status(model, None) is Status.DONE
    assert status(model, obj("ml.s.m", versions=(1, 2))) is Status.PENDING
    assert status(model, obj("ml.s.m", versions=(1, 2, 3))) is Status.MOVED

    version = Change(Action.DELETE, Address(Kind.MODEL, "ml.s.m"), VersionDeletion(1))
    assert status(version, obj("ml.s.m", versions=(2,))) is Status.DONE
    assert status(version, obj("ml.s.m", versions=(1, 2), approved=2)) is Status.PENDING
    assert status(version, obj("ml.s.m", versions=(1, 2), approved=1)) is Status.MOVED


def test_apply_refuses_deletes_without_allow_destroy_before_any_request(load_spec):
    import pytest

    from ucgov.apply import apply_checked, check
    from ucgov.errors import DestroyNotAllowed

    plan = diff(load_spec(SPEC.format(prune="true")), live(*DECLARED, undeclared=STRAYS))
    checked = check(plan, live(*DECLARED, *STRAYS))
    with pytest.raises(DestroyNotAllowed) as refused:
        apply_checked(checked, client=None)  # a request would fail on None: none is made
    assert "--allow-destroy" in str(refused.value)
    assert "delete model ml.fraud.old" in str(refused.value)


def test_a_review_calls_out_prune_turned_on_and_is_not_fooled_by_keep_versions(load_spec):
    from ucgov.planner import diff_specs

    base = load_spec(KEEP.format(prune="false").replace(", keep_versions: 2", ""))
    head = load_spec(KEEP.format(prune="false").replace("      fraud:\n", "      fraud:\n        prune: true\n"))
    reviewed = diff_specs(base, head)
    assert reviewed.changes == ()  # keep_versions is not a new approval
    assert any("prune is turned on inside schema ml.fraud" in w for w in reviewed.warnings)
    assert any("keep_versions: 2" in w and "ml.fraud.scorer" in w for w in reviewed.warnings)
    assert diff_specs(head, head).warnings == ()


def test_a_saved_plan_keeps_what_goes_with_each_delete(load_spec):
    from ucgov.planfile import SavedPlan, dumps, loads

    def stored(v: int) -> ModelVersion:
        return ModelVersion(v, "r", "READY", storage_location=f"file:///srv/uc/models/scorer/versions/{v}")

    scorer = replace(obj("ml.fraud.scorer", approved=2), versions=tuple(stored(v) for v in (1, 2, 3, 4)))
    old = replace(STRAYS[0], grants={"bob@example.com": frozenset({"EXECUTE"})}, storage_location="s3://b/old")
    state = live(obj("ml"), obj("ml.fraud"), scorer, undeclared=(old,))
    saved = SavedPlan(plan=diff(load_spec(KEEP.format(prune="true")), state), url="http://uc.example.com")
    [model] = [c.payload for c in saved.plan.changes if isinstance(c.payload, ObjectChange)]
    assert model.grants == (("bob@example.com", ("EXECUTE",)),) and model.files and not model.files.removed
    assert all(c.payload.files.removed for c in saved.plan.changes if isinstance(c.payload, VersionDeletion))

    assert loads(dumps(saved), source="plan.json").plan.changes == saved.plan.changes


HELD = (Ref(Kind.TABLE, "ml.scratch.events"), Ref(Kind.FUNCTION, "ml.scratch.score"))


def test_a_retired_schema_holding_tables_or_functions_is_kept_and_the_plan_says_what_keeps_it(load_spec):
    state = live(*DECLARED, undeclared=STRAYS, holding=HELD)
    plan = diff(load_spec(SPEC.format(prune="true")), state)

    # its models still go; the schema, which the server would refuse to delete (or ucgov would empty), stays
    assert [name for name, _ in deletes(plan)] == ["ml.fraud.old", "ml.scratch.tmp"]
    assert (
        "schema ml.scratch is kept: it holds table ml.scratch.events and function ml.scratch.score, "
        "which ucgov does not delete" in plan.warnings
    )


def test_a_retired_schema_holding_nothing_ucgov_cannot_delete_still_goes(load_spec):
    state = live(*DECLARED, undeclared=STRAYS)
    plan = diff(load_spec(SPEC.format(prune="true")), state)

    assert "ml.scratch" in [name for name, _ in deletes(plan)]
    assert not any("is kept" in w for w in plan.warnings)


def test_what_keeps_a_schema_is_named_on_one_line_whatever_the_server_calls_it(load_spec):
    from ucgov.render import render

    hostile = "ml.scratch.t\n+ grant `x`\x1b[31m <b>"
    state = live(*DECLARED, undeclared=STRAYS, holding=(Ref(Kind.TABLE, hostile),))
    plan = diff(load_spec(SPEC.format(prune="true")), state)

    assert "ml.scratch" not in [name for name, _ in deletes(plan)]
    for fmt in ("text", "markdown"):
        shown = render(plan, fmt, color=False)
        kept = [line for line in shown.splitlines() if "is kept" in line]
        assert (
            len(kept) == 1
            and "\x1b" not in shown
            and not any(line.startswith("+ grant") for line in shown.splitlines())
        )
    assert "<b>" not in render(plan, "markdown")
