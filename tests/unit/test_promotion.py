"""Promotion without a server: the spec's `approved: {from, version}`, the plan it makes, how a plan file
holds it, how reviews show it, and when it counts as done."""

from __future__ import annotations

import pytest

from ucgov.errors import SpecError
from ucgov.plan import Action, Address, ApprovalChange, Change, Promotion
from ucgov.planfile import SavedPlan, dumps, loads
from ucgov.planner import diff, diff_specs
from ucgov.preconditions import Status, status
from ucgov.render.markdown import render_markdown
from ucgov.render.text import render_text
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Ref, RunInfo, Securable, Source

SOURCE, TARGET = "dev_ml.fraud.scorer", "prod_ml.fraud.scorer"
RUN = "a1b2c3"


def spec(approved: str) -> str:
    return f"""
catalogs:
  prod_ml:
    schemas:
      fraud:
        models:
          scorer:
            approved: {approved}
"""


PROMOTED = spec(f"{{from: {SOURCE}, version: 7, require: {{metrics: {{auc: '>= 0.92'}}}}}}")
SOURCE_VERSIONS = (
    ModelVersion(6, RUN, "READY", f"runs:/{RUN}/model"),
    ModelVersion(7, RUN, "READY", f"runs:/{RUN}/model"),
    ModelVersion(8, None, "PENDING_REGISTRATION", "models:/m-1"),
)


def live(*target_versions: ModelVersion, approved: int | None = None, auc: float = 0.95, **others) -> LiveState:
    objects = {
        Ref(Kind.CATALOG, "prod_ml"): Securable(Kind.CATALOG, "prod_ml", properties={}),
        Ref(Kind.SCHEMA, "prod_ml.fraud"): Securable(Kind.SCHEMA, "prod_ml.fraud", properties={}),
        Ref(Kind.MODEL, TARGET): Securable(
            Kind.MODEL,
            TARGET,
            properties={},
            versions=target_versions,
            approved=Approval(version=approved) if approved else None,
        ),
    }
    found = {
        "objects": objects,
        "sources": {Source(SOURCE): SOURCE_VERSIONS},
        "runs": {RUN: RunInfo(RUN, "file:///art", metrics={"auc": auc})},
    }
    return LiveState(**(found | others))


def test_the_spec_names_the_source_model_and_version_and_the_gates(load_spec):
    approved = load_spec(PROMOTED).named(TARGET).approved

    assert (approved.from_model, approved.from_version, approved.version, approved.run) == (SOURCE, 7, None, None)
    assert approved.lineage == f"promoted from {SOURCE}/7"
    assert [(g.name, g.op, g.value) for g in approved.require] == [("auc", ">=", 0.92)]
    assert (approved.where.line, approved.where.col) == (8, 30)  # at the source it names


@pytest.mark.parametrize(
    ("approved", "message"),
    [
        pytest.param(f"{{from: {SOURCE}}}", "approved with 'from' takes the 'version'", id="no-version"),
        pytest.param(
            f"{{from: {SOURCE}, run: abc}}", "promotes the version that 'from' names, so it takes no 'run'", id="run"
        ),
        pytest.param(
            f"{{from: {SOURCE}, run: abc, version: 2}}", "approved with 'from' takes the 'version'", id="both"
        ),
        pytest.param("{from: scorer, version: 2}", "approved from 'scorer' is not a model's full name", id="not-full"),
        pytest.param('{from: "a.b\\nc.d", version: 2}', "approved from 'a.b\\nc.d' is not a model's", id="newline"),
        pytest.param(
            f"{{from: {SOURCE}, version: 2, artifact_path: m}}", "takes no 'run' or 'artifact_path'", id="path"
        ),
    ],
)
def test_a_promotion_written_wrong_is_refused_at_its_line(load_spec, approved, message):
    with pytest.raises(SpecError) as refused:
        load_spec(spec(approved))

    assert "specs/team.yaml:8:" in str(refused.value)
    assert message in str(refused.value)


def test_the_plan_promotes_then_approves_with_the_gate_values_the_run_holds(load_spec):
    plan = diff(load_spec(PROMOTED), live())

    assert [(c.action, c.address.full_name) for c in plan.changes] == [
        (Action.PROMOTE, TARGET),
        (Action.APPROVE, TARGET),
    ]
    promote, approve = plan.changes
    assert promote.payload == Promotion(SOURCE, 7, RUN, f"runs:/{RUN}/model", (), (("metric auc >= 0.92", "0.95"),))
    assert promote.describe() == f"promote {SOURCE}/7 → new version of {TARGET}"
    assert approve.payload == ApprovalChange(None, promoted_from=f"promoted from {SOURCE}/7")
    assert plan.summary()["promote"] == 1


def test_a_ready_version_carrying_the_lineage_is_done_and_only_its_approval_is_planned(load_spec):
    copied = ModelVersion(3, RUN, "READY", f"runs:/{RUN}/model", comment=f"promoted from {SOURCE}/7")

    plan = diff(load_spec(PROMOTED), live(copied))
    approved = diff(load_spec(PROMOTED), live(copied, approved=3))

    assert [(c.action, c.payload) for c in plan.changes] == [
        (Action.APPROVE, ApprovalChange(3, promoted_from=f"promoted from {SOURCE}/7"))
    ]
    assert approved.empty


def test_a_version_promoted_from_another_source_version_or_unfinished_is_not_done(load_spec):
    other = ModelVersion(1, RUN, "READY", comment=f"promoted from {SOURCE}/6")
    unfinished = ModelVersion(2, RUN, "PENDING_REGISTRATION", comment=f"promoted from {SOURCE}/7")

    [promote, _] = diff(load_spec(PROMOTED), live(other, unfinished)).changes

    assert promote.action is Action.PROMOTE and promote.payload.unfinished == (2,)


@pytest.mark.parametrize(
    ("approved", "state", "message"),
    [
        pytest.param(PROMOTED, {"sources": {}}, f"model {SOURCE}, to promote from, does not exist", id="no-model"),
        pytest.param(
            PROMOTED.replace("version: 7", "version: 9"),
            {},
            f"version 9 of model {SOURCE} does not exist (versions: 6, 7, 8)",
            id="no-version",
        ),
        pytest.param(
            PROMOTED.replace("version: 7", "version: 8"),
            {},
            f"version 8 of model {SOURCE} is PENDING_REGISTRATION, not READY",
            id="not-ready",
        ),
        pytest.param(
            spec(f"{{from: {SOURCE}, version: 7, require: {{metrics: {{auc: '>= 0.99'}}}}}}"),
            {},
            f"{TARGET} cannot be promoted from {SOURCE}/7: run {RUN} fails metric auc >= 0.99: its auc is 0.95",
            id="gate",
        ),
        pytest.param(
            PROMOTED,
            {"runs": {}, "tracking_store": "the MLflow tracking store sqlite:///m.db"},
            f"came from run {RUN}, which is not in the MLflow tracking store sqlite:///m.db",
            id="unknown-run",
        ),
        pytest.param(
            spec(f"{{from: {TARGET}, version: 1}}"), {}, f"model {TARGET} cannot be promoted from itself", id="itself"
        ),
        pytest.param(
            spec(f"{{from: {'c' * 120}.{'s' * 120}.m, version: 1}}"),
            {},
            "is longer than a version comment may be (255)",
            id="lineage-too-long",
        ),
    ],
)
def test_what_cannot_be_promoted_is_a_plan_error_at_the_specs_line(load_spec, approved, state, message):
    with pytest.raises(SpecError) as refused:
        diff(load_spec(approved), live(**state))

    assert str(refused.value).startswith("specs/team.yaml:8:"), str(refused.value)
    assert message in str(refused.value)


def test_gates_on_a_source_version_with_no_run_are_a_plan_error_and_without_gates_it_promotes(load_spec):
    no_run = (ModelVersion(7, None, "READY", "models:/m-9"),)
    ungated = spec(f"{{from: {SOURCE}, version: 7}}")

    with pytest.raises(SpecError) as refused:
        diff(load_spec(PROMOTED), live(sources={Source(SOURCE): no_run}))
    plan = diff(load_spec(ungated), live(sources={Source(SOURCE): no_run}, runs={}))

    assert f"version 7 of model {SOURCE} names no MLflow run, so its gates cannot be checked" in str(refused.value)
    assert plan.changes[0].payload == Promotion(SOURCE, 7, None, "models:/m-9")


def test_a_saved_promotion_reads_back_exactly(load_spec):
    saved = SavedPlan(plan=diff(load_spec(PROMOTED), live()), url="http://uc.example.com")

    assert loads(dumps(saved), source="plan.json") == saved


def test_promotion_is_pending_until_a_ready_version_carries_its_lineage():
    change = Change(Action.PROMOTE, Address(Kind.MODEL, TARGET), Promotion(SOURCE, 7, RUN))
    lineage = f"promoted from {SOURCE}/7"

    def model(*versions: ModelVersion) -> Securable:
        return Securable(Kind.MODEL, TARGET, versions=versions)

    assert status(change, None) is Status.PENDING
    assert status(change, model(ModelVersion(1, RUN, "PENDING_REGISTRATION", comment=lineage))) is Status.PENDING
    assert status(change, model(ModelVersion(1, RUN, "READY", comment="promoted from x.y.z/7"))) is Status.PENDING
    assert status(change, model(ModelVersion(1, RUN, "READY", comment=lineage))) is Status.DONE


def test_the_text_and_markdown_plans_show_the_promotion_beside_its_approval_with_what_the_gates_read(load_spec):
    plan = diff(load_spec(PROMOTED), live())

    text = render_text(plan)
    review = render_markdown(plan)

    assert f"+ promote {SOURCE}/7 → new version of {TARGET} (run {RUN})" in text
    assert "gate metric auc >= 0.92: the run has 0.95" in text
    assert f"~ approve the version promoted from {SOURCE}/7 (approved now: none)" in text
    assert f"| + | `{TARGET}` (model) | promote `{SOURCE}/7` → new version (run `{RUN}`) — gates read: " in review
    assert "`metric auc >= 0.92`: `0.95`" in review
    assert "Plan: 1 to promote, 1 to approve." in text


def test_diff_shows_a_promotion_as_a_change_of_approval(load_spec):
    base = load_spec(spec("{version: 2}"))
    head = load_spec(PROMOTED)
    newer = load_spec(PROMOTED.replace("version: 7", "version: 8"))

    [change] = diff_specs(base, head).changes
    [again] = diff_specs(head, newer).changes

    assert change.action is Action.APPROVE
    assert change.describe() == f"approve the version promoted from {SOURCE}/7 of model {TARGET}"
    assert change.payload.replaces == 2
    assert again.payload.promoted_from == f"promoted from {SOURCE}/8"
    assert f"(approved now: promoted from {SOURCE}/7)" in render_text(diff_specs(head, newer))
    assert diff_specs(head, head).empty
