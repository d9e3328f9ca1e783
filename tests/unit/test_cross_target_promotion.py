"""Promotion from another target's server, without a server: `from: {target, model}` in the spec, the
targets it names checked at the spec's line, the plan it makes, how a saved plan records where the
source is (never a token), how reviews show it, and when it counts as done."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.errors import SpecError
from ucgov.plan import Action, Address, ApprovalChange, Change, Promotion
from ucgov.planfile import SavedPlan, dumps, loads
from ucgov.planner import diff, diff_specs
from ucgov.preconditions import Status, status
from ucgov.render.markdown import render_markdown
from ucgov.render.text import render_text
from ucgov.spec import load_specs
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Ref, RunInfo, Securable, Server, Source
from ucgov.targets import promotion_sources

SOURCE, TARGET = "dev_ml.fraud.scorer", "prod_ml.fraud.scorer"
RUN = "a1b2c3"
DEV = Server("dev", "http://127.0.0.1:1", "UCGOV_TOKEN_DEV")
LINEAGE = f"promoted from dev:{SOURCE}/7"

TARGETS = """
targets:
  dev:  {url: "http://ucgov:secret@127.0.0.1:1", token_env: UCGOV_TOKEN_DEV}
  prod: {url: "http://127.0.0.1:2", token_env: UCGOV_TOKEN_PROD}
"""


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


PROMOTED = spec(f"{{from: {{target: dev, model: {SOURCE}}}, version: 7, require: {{metrics: {{auc: '>= 0.92'}}}}}}")


def live(*target_versions: ModelVersion, approved: int | None = None, **others) -> LiveState:
    model = Securable(
        Kind.MODEL,
        TARGET,
        properties={},
        versions=target_versions,
        approved=Approval(version=approved) if approved else None,
    )
    found = {
        "objects": {
            Ref(Kind.CATALOG, "prod_ml"): Securable(Kind.CATALOG, "prod_ml", properties={}),
            Ref(Kind.SCHEMA, "prod_ml.fraud"): Securable(Kind.SCHEMA, "prod_ml.fraud", properties={}),
            Ref(Kind.MODEL, TARGET): model,
        },
        "sources": {Source(SOURCE, "dev"): (ModelVersion(7, RUN, "READY", f"runs:/{RUN}/model"),)},
        "servers": {"dev": DEV},
        "runs": {RUN: RunInfo(RUN, "file:///art", metrics={"auc": 0.95})},
    }
    return LiveState(**(found | others))


def test_the_spec_names_the_source_target_and_the_lineage_names_it_too(load_spec):
    approved = load_spec(PROMOTED).named(TARGET).approved
    same_server = load_spec(spec(f"{{from: {SOURCE}, version: 7}}")).named(TARGET).approved

    assert (approved.from_target, approved.from_model, approved.from_version) == ("dev", SOURCE, 7)
    assert approved.source == Source(SOURCE, "dev") and str(approved.source) == f"dev:{SOURCE}"
    assert approved.lineage == LINEAGE
    assert same_server.lineage == f"promoted from {SOURCE}/7"  # the plain form stays for one server
    assert approved.where.line == 8


def test_a_changed_source_target_changes_the_specs_digest(load_spec):
    elsewhere = load_spec(PROMOTED)
    other = load_spec(PROMOTED.replace("target: dev", "target: staging"))

    assert elsewhere.digest != other.digest


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("{target: dev}", "is missing the required key 'model'", id="no-model"),
        pytest.param(f"{{model: {SOURCE}}}", "is missing the required key 'target'", id="no-target"),
        pytest.param("{target: dev, model: scorer}", "approved from 'scorer' is not a model's full name", id="short"),
        pytest.param(f"{{target: dev, model: {SOURCE}, url: x}}", "unknown key 'url'", id="extra-key"),
        pytest.param(f"{{target: 'd:v', model: {SOURCE}}}", "d:v", id="bad-target-name"),
        pytest.param(f"{{target: [dev], model: {SOURCE}}}", "must be a string", id="target-list"),
    ],
)
def test_a_source_target_written_wrong_is_refused_at_its_line(load_spec, source, message):
    with pytest.raises(SpecError) as refused:
        load_spec(spec(f"{{from: {source}, version: 7}}"))

    assert "specs/team.yaml:8:" in str(refused.value)
    assert message in str(refused.value)


def test_the_plan_promotes_from_the_other_targets_server_then_approves(load_spec):
    plan = diff(load_spec(PROMOTED), live())

    promote, approve = plan.changes
    assert promote.action is Action.PROMOTE
    assert promote.payload == Promotion(
        SOURCE, 7, RUN, f"runs:/{RUN}/model", (), (("metric auc >= 0.92", "0.95"),), from_server=DEV
    )
    assert promote.payload.lineage == LINEAGE
    assert promote.describe() == f"promote dev:{SOURCE}/7 → new version of {TARGET}"
    assert approve.payload == ApprovalChange(None, promoted_from=LINEAGE)


def test_a_version_carrying_the_same_servers_lineage_is_not_the_other_targets_promotion(load_spec):
    here = ModelVersion(3, RUN, "READY", comment=f"promoted from {SOURCE}/7")
    there = ModelVersion(4, RUN, "READY", comment=f"{LINEAGE}\n\nucgov: approved at 2026-01-01")

    not_done = diff(load_spec(PROMOTED), live(here))
    done = diff(load_spec(PROMOTED), live(here, there, approved=4))

    assert [c.action for c in not_done.changes] == [Action.PROMOTE, Action.APPROVE]
    assert done.empty


@pytest.mark.parametrize(
    ("state", "message"),
    [
        pytest.param({"sources": {}}, f"model {SOURCE}, to promote from, does not exist on target dev ({DEV.url})"),
        pytest.param(
            {"sources": {Source(SOURCE): (ModelVersion(7, RUN, "READY"),)}},
            f"model {SOURCE}, to promote from, does not exist on target dev",
            id="only-on-this-server",
        ),
        pytest.param({"servers": {}}, "target dev, to promote from, was not read", id="not-read"),
        pytest.param(
            {"sources": {Source(SOURCE, "dev"): (ModelVersion(7, RUN, "FAILED_REGISTRATION"),)}},
            f"version 7 of model dev:{SOURCE} is FAILED_REGISTRATION, not READY",
            id="not-ready",
        ),
    ],
)
def test_what_cannot_be_promoted_from_another_target_is_a_plan_error_at_the_specs_line(load_spec, state, message):
    with pytest.raises(SpecError) as refused:
        diff(load_spec(PROMOTED), live(**state))

    assert str(refused.value).startswith("specs/team.yaml:8:"), str(refused.value)
    assert message in str(refused.value)


def test_a_model_of_the_same_name_on_another_target_may_be_promoted(load_spec):
    same_name = spec(f"{{from: {{target: dev, model: {TARGET}}}, version: 7}}")
    state = live(sources={Source(TARGET, "dev"): (ModelVersion(7, RUN, "READY"),)})

    [promote, _] = diff(load_spec(same_name), state).changes

    assert promote.payload.named == Source(TARGET, "dev")


def test_a_saved_plan_records_the_source_targets_name_url_and_token_variable_never_a_token(load_spec):
    saved = SavedPlan(plan=diff(load_spec(PROMOTED), live()), url="http://127.0.0.1:2", target="prod")

    text = dumps(saved)
    [document] = [c["payload"] for c in json.loads(text)["changes"] if c["action"] == "promote"]

    assert document["from_target"] == {"name": "dev", "url": DEV.url, "token_env": "UCGOV_TOKEN_DEV"}
    assert loads(text, source="plan.json") == saved
    assert 'token"' not in text.replace("token_env", "")


def test_a_saved_plan_whose_source_url_holds_a_password_is_refused(load_spec):
    saved = SavedPlan(
        plan=diff(load_spec(PROMOTED), live(servers={"dev": Server("dev", "http://u:p@h:1", None)})), url="u"
    )
    edited = dumps(saved)

    with pytest.raises(Exception) as refused:
        loads(edited, source="plan.json")

    assert "plan.json is not a valid ucgov plan file" in str(refused.value)


def test_promotion_from_another_target_is_done_only_with_its_own_lineage():
    change = Change(Action.PROMOTE, Address(Kind.MODEL, TARGET), Promotion(SOURCE, 7, RUN, from_server=DEV))

    def model(comment: str) -> Securable:
        return Securable(Kind.MODEL, TARGET, versions=(ModelVersion(1, RUN, "READY", comment=comment),))

    assert status(change, model(f"promoted from {SOURCE}/7")) is Status.PENDING
    assert status(change, model(LINEAGE)) is Status.DONE


def test_the_text_and_markdown_plans_name_the_source_target_and_its_url(load_spec):
    plan = diff(load_spec(PROMOTED), live())

    text = render_text(plan)
    review = render_markdown(plan)

    assert f"+ promote dev:{SOURCE}/7 → new version of {TARGET} (run {RUN})" in text
    assert f"from target dev at {DEV.url}" in text
    assert f"~ approve the version {LINEAGE} (approved now: none)" in text
    assert f"promote `dev:{SOURCE}/7` from target `dev` (`{DEV.url}`) → new version (run `{RUN}`)" in review


def test_diff_shows_a_change_of_source_target_as_a_change_of_approval(load_spec):
    here = load_spec(spec(f"{{from: {SOURCE}, version: 7}}"))

    [change] = diff_specs(here, load_spec(PROMOTED)).changes

    assert change.describe() == f"approve the version {LINEAGE} of model {TARGET}"


# -- the targets a promotion names, looked up in the specs (the CLI's edge) ---------------------------


def write(tmp_path, approved: str) -> str:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "targets.yaml").write_text(TARGETS)
    (tmp_path / "prod.yaml").write_text(spec(approved))
    return str(tmp_path)


def test_the_source_target_is_found_in_the_specs_targets_with_or_without_a_planned_target(tmp_path, monkeypatch):
    monkeypatch.setenv("UCGOV_TOKEN_DEV", "dev-token")
    specs = write(tmp_path, f"{{from: {{target: dev, model: {SOURCE}}}, version: 7}}")
    desired = load_specs([specs])

    planned = promotion_sources([specs], desired, "prod")
    unplanned = promotion_sources([specs], desired, None)

    assert list(planned) == [DEV]  # the URL recorded without its user and password
    assert planned == unplanned
    assert planned[DEV].url == "http://ucgov:secret@127.0.0.1:1" and planned[DEV].token() == "dev-token"


@pytest.mark.parametrize(
    ("target", "planned", "message"),
    [
        pytest.param(
            "staging", "prod", "no target 'staging' to promote from in the specs (targets declared: dev, prod)"
        ),
        pytest.param("prod", "prod", "target prod is the target being planned", id="the-planned-one"),
        pytest.param("dev", "prod", "target dev reads its token from UCGOV_TOKEN_DEV, which is not set", id="no-token"),
    ],
)
def test_a_source_target_that_cannot_be_used_is_an_error_at_the_specs_line(tmp_path, target, planned, message):
    specs = write(tmp_path, f"{{from: {{target: {target}, model: {SOURCE}}}, version: 7}}")

    with pytest.raises(SpecError) as refused:
        promotion_sources([specs], load_specs([specs]), planned)

    assert f"{tmp_path}/prod.yaml:8:" in str(refused.value)
    assert message in str(refused.value)


def test_plan_refuses_an_unknown_or_tokenless_source_target_before_reading_any_server(tmp_path, monkeypatch):
    monkeypatch.setenv("UCGOV_TOKEN_PROD", "prod-token")
    specs = write(tmp_path, f"{{from: {{target: dev, model: {SOURCE}}}, version: 7}}")

    result = CliRunner().invoke(cli, ["plan", specs, "--target", "prod"])

    assert result.exit_code == 1
    assert "prod.yaml:8:" in result.output and "UCGOV_TOKEN_DEV, which is not set" in result.output
    assert "Traceback" not in result.output and "127.0.0.1:2" not in result.output  # nothing was read


# -- a saved plan's record of the source server, edited ------------------------------------------------


def saved_document(load_spec) -> dict:
    return json.loads(dumps(SavedPlan(plan=diff(load_spec(PROMOTED), live()), url="http://127.0.0.1:2")))


def test_a_resealed_plan_naming_another_source_url_is_not_what_the_specs_plan(load_spec):
    from ucgov.planfile import _checksum
    from ucgov.rederive import differences

    document = saved_document(load_spec)
    document.pop("checksum")
    [promote] = [c for c in document["changes"] if c["action"] == "promote"]
    promote["payload"]["from_target"]["url"] = "http://attacker.example.com"
    edited = loads(json.dumps({**document, "checksum": _checksum(document)}), source="plan.json").plan
    planned = diff(load_spec(PROMOTED), live())

    found = differences(edited.changes, edited.changes, planned.changes)

    assert found == [
        f"not from these specs: promote dev:{SOURCE}/7 → new version of {TARGET}",
        f"missing from the file: promote dev:{SOURCE}/7 → new version of {TARGET}",
    ]


WEIRD = [None, 0, True, "", "x\n", "a:b", "http://u:p@h:1", "UCGOV TOKEN", [], {}, {"x": 1}, "ü" * 300]


def test_every_value_of_a_saved_source_server_swapped_is_refused_in_one_sentence_or_read_cleanly(load_spec):
    from ucgov.errors import PlanFileError
    from ucgov.planfile import _checksum

    document = saved_document(load_spec)
    document.pop("checksum")
    index = next(i for i, c in enumerate(document["changes"]) if c["action"] == "promote")
    keys = [None, "name", "url", "token_env"]
    refused = read = 0
    for key in keys:
        for value in WEIRD:
            edited = json.loads(json.dumps(document))
            payload = edited["changes"][index]["payload"]
            if key is None:
                payload["from_target"] = value
            else:
                payload["from_target"][key] = value
            try:
                saved = loads(json.dumps({**edited, "checksum": _checksum(edited)}), source="plan.json")
            except PlanFileError as exc:
                assert "\n" not in str(exc) and str(exc).startswith("plan.json"), (key, value, exc)
                refused += 1
                continue
            server = saved.plan.changes[index].payload.from_server
            assert server is None or (server.url.startswith("http") and "@" not in server.url), (key, value)
            read += 1
    assert refused + read == len(keys) * len(WEIRD)
    assert read <= 3  # token_env null, a target name of letters, the URL a plain one
    print(f"{refused + read} edits of a saved source server: {refused} refused in one sentence, {read} read")


def test_the_json_plan_names_the_source_model_its_target_and_url(load_spec):
    from ucgov.render.json import plan_document

    [promote, _] = plan_document(diff(load_spec(PROMOTED), live()))["changes"]

    assert promote["after"] | {"gates": {}} == {
        "from": SOURCE,
        "target": "dev",
        "url": DEV.url,
        "version": 7,
        "run": RUN,
        "gates": {},
    }


def test_a_source_target_whose_url_is_no_server_url_is_an_error_at_the_promotions_line(tmp_path, monkeypatch):
    monkeypatch.setenv("UCGOV_TOKEN_DEV", "dev-token")
    specs = write(tmp_path, f"{{from: {{target: dev, model: {SOURCE}}}, version: 7}}")
    (tmp_path / "targets.yaml").write_text("targets: {dev: {url: 'ftp://u:pw@x', token_env: UCGOV_TOKEN_DEV}}\n")

    with pytest.raises(SpecError) as refused:
        promotion_sources([specs], load_specs([specs]), None)

    assert str(refused.value).startswith(f"{tmp_path}/prod.yaml:8:")
    assert "the url of target dev, to promote from, 'ftp://***@x' is not a server URL" in str(refused.value)


def test_validate_refuses_a_promotion_from_an_undeclared_target_and_needs_no_token(tmp_path):
    declared = write(tmp_path / "ok", f"{{from: {{target: dev, model: {SOURCE}}}, version: 7}}")
    unknown = write(tmp_path / "unknown", f"{{from: {{target: staging, model: {SOURCE}}}, version: 7}}")

    valid = CliRunner().invoke(cli, ["validate", declared])
    refused = CliRunner().invoke(cli, ["validate", unknown])

    assert valid.exit_code == 0, valid.output
    assert refused.exit_code == 1 and "unknown/prod.yaml:8:" in refused.output
    assert "no target 'staging' to promote from in the specs (targets declared: dev, prod)" in refused.output
