"""A saved plan reads back exactly, carries what it expects on the server, and refuses to be misread."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ucgov import __version__
from ucgov.cli import cli
from ucgov.errors import PlanFileError
from ucgov.planfile import SavedPlan, _checksum, dumps, loads
from ucgov.planner import diff
from ucgov.state import Kind, LiveState, Ref, Securable

SPEC = """
catalogs:
  ml:
    comment: ML
    grants: {alice@example.com: [USE CATALOG]}
    schemas:
      prod:
        grants: {bob@example.com: [USE SCHEMA]}
"""
LIVE = LiveState(
    objects={
        Ref(Kind.CATALOG, "ml"): Securable(
            Kind.CATALOG, "ml", comment="old", properties={}, grants={"carol@example.com": frozenset({"USE CATALOG"})}
        )
    },
    known_principals=frozenset({"alice@example.com", "bob@example.com", "carol@example.com"}),
)


@pytest.fixture
def saved(load_spec) -> SavedPlan:
    return SavedPlan(plan=diff(load_spec(SPEC), LIVE), url="http://uc.example.com")


def resealed(document: dict) -> str:
    """A hand-made file with a valid checksum: the checksum catches edits, it is not a signature."""
    document.pop("checksum", None)
    return json.dumps({**document, "checksum": _checksum(document)})


def test_every_change_reads_back_with_its_payload_and_precondition(saved):
    back = loads(dumps(saved), source="plan.json")

    assert back == saved
    assert back.plan.specs_digest and back.ucgov_version == __version__


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda d: d.pop("changes"), "'changes' is a required property", id="missing-key"),
        pytest.param(lambda d: d["changes"][0].update(address="a.b.c.d"), "at changes/0/address", id="bad-address"),
        pytest.param(lambda d: d["changes"][0].update(action="explode"), "at changes/0/action", id="unknown-action"),
        pytest.param(lambda d: d["changes"][-1]["payload"].update(held="USE SCHEMA"), "at changes/", id="wrong-type"),
        pytest.param(
            lambda d: d["changes"][-1]["payload"].pop("privileges"), "'privileges' is a required", id="no-privileges"
        ),
        pytest.param(lambda d: d.update(objects=[1]), "at objects/0", id="object-not-a-name"),
    ],
)
def test_a_malformed_plan_file_is_one_clean_error(saved, edit, message):
    document = json.loads(dumps(saved))
    edit(document)

    with pytest.raises(PlanFileError) as raised:
        loads(resealed(document), source="plan.json")

    assert str(raised.value).startswith("plan.json is not a valid ucgov plan file")
    assert message in str(raised.value)


def test_a_plan_from_another_ucgov_is_refused(saved):
    document = json.loads(dumps(saved))
    document["ucgov_version"] = "0.0.1"

    with pytest.raises(PlanFileError, match="was made by ucgov 0.0.1, and this is ucgov"):
        loads(resealed(document), source="plan.json")


def test_apply_with_specs_refuses_a_plan_made_from_other_specs(saved, tmp_path):
    (tmp_path / "plan.json").write_text(dumps(saved))
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ml.yaml").write_text(SPEC.replace("comment: ML", "comment: edited after review"))

    result = CliRunner().invoke(
        cli,
        [
            "apply",
            str(tmp_path / "specs"),
            "--plan",
            str(tmp_path / "plan.json"),
            "--url",
            "http://uc.example.com",
            "--auto-approve",
        ],
    )

    assert result.exit_code == 1
    assert "was made from other specs than those in" in result.output
    assert "Traceback" not in result.output


def test_the_specs_digest_ignores_how_files_lay_out_the_same_declarations(load_spec):
    one_file = load_spec(SPEC)
    reordered = load_spec(
        """
        catalogs:
          ml:
            schemas:
              prod:
                grants: {bob@example.com: [USE SCHEMA]}
            grants: {alice@example.com: [use_catalog]}
            comment: ML
        """,
        path="specs/other.yaml",
    )

    assert one_file.digest == reordered.digest
    assert one_file.digest != load_spec(SPEC.replace("USE SCHEMA", "CREATE MODEL")).digest
