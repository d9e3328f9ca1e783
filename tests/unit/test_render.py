"""One plan, three readers: a person at a terminal, a reviewer in a pull request, and a machine.

Golden files live in tests/unit/golden/. After a deliberate change to the output, regenerate them with

    UCGOV_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_render.py

and review the diff like any other change.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ucgov.plan import Action, Plan
from ucgov.planner import diff
from ucgov.render import render, render_json, render_markdown, render_text
from ucgov.state import Kind, LiveState, Ref, Securable

GOLDEN = Path(__file__).parent / "golden"

SPEC = """
catalogs:
  unity:
    comment: ML assets for production
    properties: {cost_center: ml-platform}
    grants:
      data-scientists@example.com: [USE CATALOG, USE SCHEMA]
    schemas:
      default:
        comment: Iris models
        grants:
          alice@example.com: [USE SCHEMA, CREATE MODEL]
        models:
          iris:
            comment: Iris species classifier
            grants:
              serving-app@example.com: [EXECUTE]
"""

LIVE = LiveState(
    objects={
        Ref(Kind.CATALOG, "unity"): Securable(
            Kind.CATALOG,
            "unity",
            comment="ML assets",
            properties={"cost_center": "ml-platform"},
            grants={
                "data-scientists@example.com": frozenset({"USE CATALOG"}),
                "bob@example.com": frozenset({"USE CATALOG", "CREATE SCHEMA"}),
            },
        )
    },
    known_principals=None,  # a token that may not list users: the plan carries a warning
)


@pytest.fixture
def plan(load_spec) -> Plan:
    """Creates a schema and a model, updates a catalog's comment, grants on three objects, revokes one user."""
    return diff(load_spec(SPEC, path="specs/unity.yaml"), LIVE)


def assert_matches_golden(name: str, actual: str) -> None:
    """Golden files end with exactly one newline (the pre-commit end-of-file-fixer insists), so compare that way."""
    actual = actual.rstrip("\n") + "\n"
    path = GOLDEN / name
    if os.environ.get("UCGOV_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; create it with UCGOV_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from the golden file; if intended, regenerate with UCGOV_UPDATE_GOLDEN=1"
    )


def test_the_representative_plan_has_every_kind_of_change(plan):
    assert {c.action for c in plan.changes} == {Action.CREATE, Action.UPDATE, Action.GRANT, Action.REVOKE}
    assert plan.warnings


@pytest.mark.parametrize(
    ("fmt", "golden"),
    [("text", "plan.txt"), ("markdown", "plan.md"), ("json", "plan.json")],
    ids=["text", "markdown", "json"],
)
def test_rendered_plan_matches_golden_file(plan, fmt, golden):
    assert_matches_golden(golden, render(plan, fmt, color=False))


# -- json: for machines ------------------------------------------------------------------------


def test_json_has_format_version_changes_and_summary(plan):
    document = json.loads(render_json(plan))

    assert document["format_version"] == 2
    assert [(c["action"], c["address"], c["principal"]) for c in document["changes"]] == [
        ("update", "unity", None),
        ("create", "unity.default", None),
        ("create", "unity.default.iris", None),
        ("revoke", "unity", "bob@example.com"),
        ("grant", "unity", "data-scientists@example.com"),
        ("grant", "unity.default", "alice@example.com"),
        ("grant", "unity.default.iris", "serving-app@example.com"),
    ]
    assert document["summary"] == {
        "create": 2,
        "update": 1,
        "delete": 0,
        "grant": 3,
        "revoke": 1,
        "register": 0,
        "promote": 0,
        "approve": 0,
    }
    assert document["warnings"] == list(plan.warnings)


def test_json_keeps_before_and_after_as_plain_values(plan):
    changes = {(c["action"], c["address"], c["principal"]): c for c in json.loads(render_json(plan))["changes"]}

    assert changes[("update", "unity", None)]["before"] == {"comment": "ML assets"}
    assert changes[("update", "unity", None)]["after"] == {"comment": "ML assets for production"}
    assert changes[("revoke", "unity", "bob@example.com")]["before"] == ["USE CATALOG", "CREATE SCHEMA"]
    assert changes[("grant", "unity.default", "alice@example.com")]["after"] == ["USE SCHEMA", "CREATE MODEL"]


def test_json_of_an_empty_plan_has_no_changes():
    document = json.loads(render_json(Plan()))

    assert document["format_version"] == 2
    assert document["changes"] == []
    assert set(document["summary"].values()) == {0}


# -- markdown: for the pull request ------------------------------------------------------------


def test_markdown_lists_permission_changes_before_object_changes(plan):
    markdown = render_markdown(plan)

    assert markdown.index("### Permission changes") < markdown.index("### Object changes")


def test_markdown_groups_permission_changes_per_principal(plan):
    markdown = render_markdown(plan)
    section = markdown.split("### Permission changes")[1].split("### Object changes")[0]
    per_principal = {
        block.splitlines()[0].split("**")[1]: block.splitlines() for block in section.strip().split("\n\n")
    }

    assert list(per_principal) == [
        "alice@example.com",
        "bob@example.com",
        "data-scientists@example.com",
        "serving-app@example.com",
    ]
    assert per_principal["alice@example.com"] == [
        "**alice@example.com** — 1 gain, 0 losses",
        "- gains **USE SCHEMA, CREATE MODEL** on `unity.default` (schema, grants authoritative)",
    ]
    assert per_principal["data-scientists@example.com"][1] == (
        "- gains **USE SCHEMA** on `unity` (catalog, grants authoritative) — USE SCHEMA reaches 1 schema: `unity.default`"
    )
    bob = per_principal["bob@example.com"]
    assert bob[0] == "**bob@example.com** — 0 gains, 1 loss"
    assert bob[1].startswith(
        "- :warning: **loses USE CATALOG, CREATE SCHEMA** on `unity` (catalog, grants authoritative)"
    )


def test_markdown_shows_the_warning_and_the_summary(plan):
    markdown = render_markdown(plan)

    assert "> **Warning:** principals were not checked" in markdown
    assert markdown.rstrip().endswith("**Plan: 2 to create, 1 to update, 3 to grant, 1 to revoke.**")


def test_a_pipe_in_a_comment_does_not_break_the_markdown_table(load_spec):
    desired = load_spec("catalogs:\n  unity:\n    comment: train | serve\n")
    markdown = render_markdown(diff(desired, LiveState(known_principals=frozenset())))

    [row] = [line for line in markdown.splitlines() if line.startswith("| + ")]
    cells = re.split(r"(?<!\\)\|", row)[1:-1]
    assert len(cells) == 3


# -- text: for people at a terminal ------------------------------------------------------------


def test_text_groups_changes_under_their_object_with_markers(plan):
    text = render_text(plan, color=False)

    assert "  ~ catalog unity  (grants: authoritative)\n" in text
    assert "  + schema unity.default  (grants: authoritative)\n" in text
    assert "  + model unity.default.iris  (grants: authoritative)\n" in text
    assert '      comment: "ML assets" -> "ML assets for production"' in text
    assert "      - revoke USE CATALOG, CREATE SCHEMA from bob@example.com" in text
    assert text.index("catalog unity") < text.index("schema unity.default") < text.index("model unity.default.iris")
    assert text.splitlines()[-1] == "Plan: 2 to create, 1 to update, 3 to grant, 1 to revoke."


def test_text_of_an_empty_plan_says_no_changes():
    assert render_text(Plan(), color=False) == "No changes. Unity Catalog matches the specs."


def test_text_is_coloured_only_when_asked(plan):
    assert "\x1b[" not in render_text(plan, color=False)
    assert "\x1b[32m" in render_text(plan, color=True)  # green for what is added
    assert "\x1b[31m" in render_text(plan, color=True)  # red for what is taken away
