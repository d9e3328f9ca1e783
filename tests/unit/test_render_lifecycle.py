"""How deletes and unmanaged objects read: red with what goes with them, deletes before grants in a review."""

from __future__ import annotations

import json
from dataclasses import replace

from ucgov.planner import diff
from ucgov.render import render
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Securable
from ucgov.unmanaged import unmanaged

SPEC = """
settings: {prune: true}
catalogs:
  ml:
    grants: {alice@example.com: [USE CATALOG]}
    schemas:
      fraud:
        models:
          scorer: {}
"""


def obj(full_name: str, *, versions=(), approved: int | None = None) -> Securable:
    return Securable(
        Kind.of(full_name),
        full_name,
        properties={},
        versions=tuple(ModelVersion(v, "r", "READY") for v in versions),
        approved=Approval(version=approved) if approved else None,
    )


def server() -> LiveState:
    declared = [obj("ml"), obj("ml.fraud"), obj("ml.fraud.scorer")]
    strays = [obj("ml.fraud.old", versions=(1, 2), approved=2), obj("ml.scratch"), obj("ml.scratch.tmp")]
    return LiveState(
        objects={o.full_name: o for o in declared},
        known_principals=frozenset({"alice@example.com"}),
        children={
            "ml": ("ml.fraud", "ml.scratch"),
            "ml.fraud": ("ml.fraud.old", "ml.fraud.scorer"),
            "ml.scratch": ("ml.scratch.tmp",),
        },
        undeclared={o.full_name: o for o in strays},
        catalogs=("ml", "sandbox", "ucgov_lock"),
    )


def planned(load_spec):
    desired = load_spec(SPEC)
    plan = diff(desired, server())
    return replace(plan, unmanaged=unmanaged(desired, server()))


def test_text_shows_deletes_in_red_with_what_goes_with_them(load_spec):
    text = render(planned(load_spec), "text", color=False)
    assert "  - model ml.fraud.old" in text
    assert "2 versions go with it" in text
    assert "it holds the approved version 2" in text
    assert "  - schema ml.scratch" in text
    assert "not empty: 1 model inside is deleted first" in text
    assert "3 to delete" in text
    coloured = render(planned(load_spec), "text", color=True)
    assert "\x1b[31m  - model ml.fraud.old" in coloured


def test_markdown_shows_deletes_and_what_they_take_before_grants(load_spec):
    md = render(planned(load_spec), "markdown")
    assert md.index("### Deletes") < md.index("### Permission changes")
    deletes = md[md.index("### Deletes") : md.index("### Permission changes")]
    assert "`ml.fraud.old` (model)" in deletes and "approved version 2" in deletes
    assert "`ml.scratch` (schema)" in deletes and "`ml.scratch.tmp`" in deletes


def test_unmanaged_objects_are_listed_in_every_format_but_never_the_apply_lock(load_spec):
    plan = planned(load_spec)
    assert [(u.kind, u.full_name) for u in plan.unmanaged] == [
        (Kind.CATALOG, "sandbox"),
        (Kind.SCHEMA, "ml.scratch"),
        (Kind.MODEL, "ml.fraud.old"),
        (Kind.MODEL, "ml.scratch.tmp"),
    ]
    text = render(plan, "text")
    assert "Not declared by any spec" in text
    assert "catalog sandbox" in text and "ucgov_lock" not in text
    assert "catalog ml: 1 of 2 schemas not declared" in text
    assert "schema ml.fraud: 1 of 2 models not declared" in text
    document = json.loads(render(plan, "json"))
    assert document["unmanaged"]["objects"][0] == {"address": "sandbox", "kind": "catalog"}
    assert document["unmanaged"]["undeclared_children"] == {"ml": 1, "ml.fraud": 1}
    md = render(plan, "markdown")
    assert "### Not declared by any spec" in md and "`sandbox` (catalog)" in md


def test_without_the_flag_nothing_about_unmanaged_objects_is_shown(load_spec):
    plan = diff(load_spec(SPEC), server())
    assert "unmanaged" not in json.loads(render(plan, "json"))
    assert "Not declared" not in render(plan, "text")
