"""How deletes and unmanaged objects read: red with what goes with them, deletes before grants in a review."""

from __future__ import annotations

import json
from dataclasses import replace

from unit_helpers import kind_at, ref

from ucgov.planner import diff
from ucgov.render import render
from ucgov.render.escape import markdown as markdown_escaped
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Ref, Securable
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
        kind_at(full_name),
        full_name,
        properties={},
        versions=tuple(ModelVersion(v, "r", "READY") for v in versions),
        approved=Approval(version=approved) if approved else None,
    )


def server() -> LiveState:
    declared = [obj("ml"), obj("ml.fraud"), obj("ml.fraud.scorer")]
    strays = [obj("ml.fraud.old", versions=(1, 2), approved=2), obj("ml.scratch"), obj("ml.scratch.tmp")]
    return LiveState(
        objects={o.ref: o for o in declared},
        known_principals=frozenset({"alice@example.com"}),
        children={
            "ml": (Ref(Kind.SCHEMA, "ml.fraud"), Ref(Kind.SCHEMA, "ml.scratch")),
            "ml.fraud": (Ref(Kind.MODEL, "ml.fraud.old"), Ref(Kind.MODEL, "ml.fraud.scorer")),
            "ml.scratch": (Ref(Kind.MODEL, "ml.scratch.tmp"),),
        },
        undeclared={o.ref: o for o in strays},
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
    assert "schema ml.fraud: 1 of 2 objects not declared (1 model)" in text  # a schema holds several kinds
    document = json.loads(render(plan, "json"))
    assert document["unmanaged"]["objects"][0] == {"address": "sandbox", "kind": "catalog"}
    assert document["unmanaged"]["undeclared_children"] == {"ml": 1, "ml.fraud": 1}
    md = render(plan, "markdown")
    assert "### Not declared by any spec" in md and "`sandbox` (catalog)" in md
    assert "`ml.fraud` (schema): 1 of 2 objects not declared (1 model)" in md


def test_without_the_flag_nothing_about_unmanaged_objects_is_shown(load_spec):
    plan = diff(load_spec(SPEC), server())
    assert "unmanaged" not in json.loads(render(plan, "json"))
    assert "Not declared" not in render(plan, "text")


SCRATCH = "file:///srv/uc/models/__unitystorage/models/"


def retiring_server() -> LiveState:
    """A schema made by hand, with grants, holding a model with a version in file: storage."""
    live = server()
    scratch = replace(
        live.undeclared[ref("ml.scratch")],
        grants={
            "bob@example.com": frozenset({"USE SCHEMA", "CREATE MODEL"}),
            "carol@example.com": frozenset({"USE SCHEMA"}),
        },
    )
    tmp = replace(
        live.undeclared[ref("ml.scratch.tmp")],
        grants={"carol@example.com": frozenset({"EXECUTE"})},
        storage_location=SCRATCH + "tmp-id",
    )
    old = replace(live.undeclared[ref("ml.fraud.old")], storage_location="s3://bucket/models/old-id")
    undeclared = {**live.undeclared, scratch.ref: scratch, tmp.ref: tmp, old.ref: old}
    return replace(live, undeclared=undeclared)


def test_markdown_shows_who_loses_which_grants_when_a_schema_with_grants_goes(load_spec):
    markdown = render(diff(load_spec(SPEC), retiring_server()), "markdown")
    permissions = markdown[markdown.index("### Permission changes") :]
    bob = permissions[permissions.index("**bob@example.com**") :]
    assert bob.startswith("**bob@example.com** — 0 gains, 1 loss")
    assert "**loses CREATE MODEL, USE SCHEMA** on `ml.scratch` (schema) — goes with the delete" in bob
    carol = permissions[permissions.index("**carol@example.com**") :]
    assert carol.startswith("**carol@example.com** — 0 gains, 2 losses")
    assert "**loses EXECUTE** on `ml.scratch.tmp` (model) — goes with the delete" in carol
    assert "**loses USE SCHEMA** on `ml.scratch` (schema) — goes with the delete" in carol
    assert markdown.index("### Deletes") < markdown.index("### Permission changes")


def test_text_and_json_say_who_loses_grants_with_a_deleted_object(load_spec):
    plan = diff(load_spec(SPEC), retiring_server())
    text = render(plan, "text", color=False)
    assert "      - bob@example.com loses CREATE MODEL, USE SCHEMA (goes with the delete)" in text
    document = json.loads(render(plan, "json"))
    schema = next(c for c in document["changes"] if c["address"] == "ml.scratch")
    assert schema["grants"] == {"bob@example.com": ["CREATE MODEL", "USE SCHEMA"], "carol@example.com": ["USE SCHEMA"]}


def test_every_format_says_whether_a_deleted_models_files_are_removed_or_stay(load_spec):
    plan = diff(load_spec(SPEC), retiring_server())
    text = render(plan, "text", color=False)
    assert f"(its files at {SCRATCH}tmp-id are removed)" in text
    assert "(its files stay at s3://bucket/models/old-id: the server vends only read credentials" in text
    markdown = render(plan, "markdown")
    assert f"its files at `{SCRATCH}tmp-id` are removed" in markdown
    assert ":warning: its files **stay** at `s3://bucket/models/old-id`" in markdown
    files = {c["address"]: c.get("files") for c in json.loads(render(plan, "json"))["changes"]}
    assert files["ml.scratch.tmp"] == {"location": SCRATCH + "tmp-id", "removed": True, "why_kept": None}
    assert files["ml.fraud.old"]["removed"] is False
    assert "ml.scratch" not in {a for a, f in files.items() if f}  # a schema holds no files of its own


KEEP = """
settings: {prune: true}
catalogs:
  ml:
    schemas:
      fraud:
        models:
          scorer:
            approved: {version: 3, keep_versions: 1}
"""


def test_every_format_says_whether_each_deleted_versions_files_are_removed(load_spec):
    where = {1: SCRATCH + "scorer/versions/1", 2: "s3://bucket/scorer/versions/2", 3: SCRATCH + "scorer/versions/3"}
    scorer = Securable(
        Kind.MODEL,
        "ml.fraud.scorer",
        properties={},
        versions=tuple(ModelVersion(v, "r", "READY", storage_location=where[v]) for v in (1, 2, 3)),
        approved=Approval(version=3),
    )
    live = LiveState(
        objects={o.ref: o for o in (obj("ml"), obj("ml.fraud"), scorer)},
        children={"ml": (Ref(Kind.SCHEMA, "ml.fraud"),), "ml.fraud": (Ref(Kind.MODEL, "ml.fraud.scorer"),)},
    )
    plan = diff(load_spec(KEEP), live)
    why = "older than the newest 1 and not approved (keep_versions)"
    text = render(plan, "text", color=False)
    assert f"- delete version 1  ({why}; its files at {where[1]} are removed)" in text
    assert f"- delete version 2  ({why}; its files stay at {where[2]}:" in text
    markdown = render(plan, "markdown")
    shown = markdown_escaped(why)
    assert f"version 1 of `ml.fraud.scorer` (model) — {shown}; its files at `{where[1]}` are removed" in markdown
    assert f"its files **stay** at `{where[2]}`" in markdown
    files = [c["files"] for c in json.loads(render(plan, "json"))["changes"] if c["action"] == "delete"]
    assert [(f["location"], f["removed"]) for f in files] == [(where[1], True), (where[2], False)]


def test_names_from_the_server_on_a_delete_cannot_break_the_review(load_spec):
    live = retiring_server()
    tmp = replace(
        live.undeclared[ref("ml.scratch.tmp")],
        grants={"<!--x@example.com": frozenset({"EXECUTE"})},
        storage_location="file:///srv/uc/`](x)\n# owned",
    )
    hostile = replace(live, undeclared={**live.undeclared, tmp.ref: tmp})
    markdown = render(diff(load_spec(SPEC), hostile), "markdown")
    assert "<!--" not in markdown and "\n# owned" not in markdown
    assert "**&lt;\\!--x@example.com** — 0 gains, 1 loss" in markdown
    assert "its files at <code>file:///srv/uc/\\`\\]\\(x\\)\\\\n\\# owned</code> are removed" in markdown


def test_tables_volumes_and_functions_are_listed_as_unmanaged_by_kind_in_every_format(load_spec):
    desired = load_spec(SPEC)
    children = dict(server().children)
    children["ml.fraud"] += (Ref(Kind.TABLE, "ml.fraud.events"), Ref(Kind.VOLUME, "ml.fraud.raw"))
    children["ml.scratch"] += (Ref(Kind.FUNCTION, "ml.scratch.score"),)
    live = replace(server(), children=children)
    plan = replace(diff(desired, live), unmanaged=unmanaged(desired, live))

    text = render(plan, "text", color=False)
    assert "  ? table ml.fraud.events" in text and "  ? volume ml.fraud.raw" in text
    assert "  ? function ml.scratch.score" in text
    objects = json.loads(render(plan, "json"))["unmanaged"]["objects"]
    assert {"address": "ml.fraud.events", "kind": "table"} in objects
    assert {"address": "ml.scratch.score", "kind": "function"} in objects
    assert "`ml.fraud.raw` (volume)" in render(plan, "markdown")
