"""Reviewing permission changes in a pull request: `ucgov diff`, the markdown plan, saved plan files."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from unit_helpers import kind_at, refs

from ucgov.cli import cli
from ucgov.errors import PlanFileError
from ucgov.plan import Action, Address, Change, Fields, GrantChange, ObjectChange, Plan
from ucgov.planfile import SavedPlan, dumps, loads
from ucgov.planner import diff
from ucgov.render.markdown import COMMENT_LIMIT, render_markdown
from ucgov.state import Kind, LiveState, Ref, Securable

BASE = """
catalogs:
  ml:
    grants:
      alice@example.com: [USE CATALOG]
      bob@example.com: [USE CATALOG, CREATE SCHEMA]
    schemas:
      prod:
        models:
          churn: {}
          fraud: {}
          iris: {}
"""

HEAD = """
catalogs:
  ml:
    grants:
      alice@example.com: [USE CATALOG]
      carol@example.com: [USE CATALOG, EXECUTE]
    schemas:
      prod:
        models:
          churn: {}
          fraud: {}
          iris:
            grants: {dave@example.com: [EXECUTE]}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A team's spec repository with two commits: BASE, then HEAD."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "ci@example.com")
    git(tmp_path, "config", "user.name", "CI")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ml.yaml").write_text(BASE)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "tag", "base")
    (tmp_path / "specs" / "ml.yaml").write_text(HEAD)
    git(tmp_path, "commit", "-qam", "give carol execute")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UCGOV_URL", "http://127.0.0.1:9")  # nothing listens: diff must not need it
    monkeypatch.delenv("UCGOV_TOKEN", raising=False)
    return tmp_path


def test_diff_between_two_commits_shows_who_gains_and_loses_with_no_server(repo):
    result = CliRunner().invoke(cli, ["diff", "base", "HEAD", "specs", "--format", "markdown"])

    assert result.exit_code == 0, result.output
    assert "## ucgov diff base..HEAD" in result.output
    assert (
        "- gains **USE CATALOG, EXECUTE** on `ml` (catalog) — EXECUTE reaches 3 models: "
        "`ml.prod.churn`, `ml.prod.fraud`, `ml.prod.iris`"
    ) in result.output
    assert "**bob@example.com** — 0 gains, 1 loss" in result.output
    assert "- :warning: **loses USE CATALOG, CREATE SCHEMA** on `ml` (catalog)" in result.output
    assert "- gains **EXECUTE** on `ml.prod.iris` (model)" in result.output


def test_diff_against_the_working_tree_sees_uncommitted_edits(repo):
    (repo / "specs" / "ml.yaml").write_text(HEAD.replace("carol@example.com: [USE CATALOG, EXECUTE]", ""))

    result = CliRunner().invoke(cli, ["diff", "HEAD", "--format", "json"])

    assert result.exit_code == 0, result.output
    changes = {(c["action"], c["address"], c["principal"]) for c in json.loads(result.output)["changes"]}
    assert changes == {("revoke", "ml", "carol@example.com")}


def test_diff_reports_an_unknown_revision_clearly(repo):
    result = CliRunner().invoke(cli, ["diff", "no-such-branch", "HEAD", "specs"])

    assert result.exit_code == 1
    assert "unknown git revision 'no-such-branch'" in result.output


def test_diff_reports_spec_errors_at_the_revision_and_line(repo):
    (repo / "specs" / "ml.yaml").write_text("catalogs:\n  ml:\n    grants: {eve@example.com: [FLY]}\n")
    git(repo, "commit", "-qam", "bad")

    result = CliRunner().invoke(cli, ["diff", "base", "HEAD", "specs"])

    assert result.exit_code == 1
    assert "HEAD:specs/ml.yaml:3:32: unknown privilege 'FLY'" in result.output


def grant(principal: str, on: str, *privileges: str) -> Change:
    return Change(Action.GRANT, Address(kind_at(on), on, principal), GrantChange(privileges), reason="in the spec")


def test_a_schema_grant_reaches_the_models_inside_but_use_schema_does_not():
    plan = Plan(
        changes=(grant("erin@example.com", "ml.prod", "USE SCHEMA", "EXECUTE"),),
        objects=refs("ml", "ml.prod", "ml.prod.a", "ml.prod.b", "ml.dev", "ml.dev.c"),
    )

    markdown = render_markdown(plan)

    assert "on `ml.prod` (schema) — EXECUTE reaches 2 models: `ml.prod.a`, `ml.prod.b`\n" in markdown


def test_a_huge_plan_stays_under_githubs_comment_limit_and_says_what_it_left_out():
    models = [f"ml.prod.model_{i:05d}" for i in range(4000)]
    changes = tuple(grant(f"user{i % 300}@example.com", m, "EXECUTE") for i, m in enumerate(models))
    plan = Plan(changes=changes, objects=refs("ml", "ml.prod", *models))

    markdown = render_markdown(plan)

    assert len(markdown) < COMMENT_LIMIT
    assert "more changes not shown" in markdown
    assert "<details><summary>**user0@example.com** — 14 gains, 0 losses</summary>" in markdown
    assert markdown.rstrip().endswith("**Plan: 4000 to grant.**")


def saved_plan() -> SavedPlan:
    plan = Plan(changes=(grant("carol@example.com", "ml", "USE CATALOG"),), objects=refs("ml"))
    return SavedPlan(plan=plan, url="http://uc.example.com")


def test_a_saved_plan_reads_back_exactly():
    assert loads(dumps(saved_plan()), source="plan.json") == saved_plan()


def test_an_edited_plan_file_is_refused():
    text = dumps(saved_plan()).replace("USE CATALOG", "CREATE SCHEMA")

    with pytest.raises(PlanFileError, match="was changed after ucgov saved it"):
        loads(text, source="plan.json")


def test_a_plan_file_from_another_format_version_is_refused():
    document = json.loads(dumps(saved_plan()))
    document["format_version"] = 2  # before fields said which of them a change is about

    with pytest.raises(PlanFileError, match="has plan format version 2, but this ucgov reads version 5"):
        loads(json.dumps(document), source="plan.json")


def test_a_file_that_is_not_a_plan_is_refused():
    with pytest.raises(PlanFileError, match="is not a ucgov plan file"):
        loads('{"changes": []}', source="notes.json")


def test_during_plan_a_catalog_grant_counts_the_live_models_no_spec_declares(load_spec):
    desired = load_spec("""
        catalogs:
          ml:
            grants:
              carol@example.com: [USE CATALOG, EXECUTE]
        """)
    models = tuple(f"ml.prod.m{i:02d}" for i in range(12))
    live = LiveState(
        objects={Ref(Kind.CATALOG, "ml"): Securable(Kind.CATALOG, "ml")},
        children={"ml": (Ref(Kind.SCHEMA, "ml.prod"),), "ml.prod": tuple(Ref(Kind.MODEL, m) for m in models)},
        known_principals=frozenset({"carol@example.com"}),
    )

    markdown = render_markdown(diff(desired, live))

    assert (
        "- gains **USE CATALOG, EXECUTE** on `ml` (catalog, grants authoritative) — EXECUTE reaches 12 models: "
        "`ml.prod.m00`, `ml.prod.m01`, `ml.prod.m02`, `ml.prod.m03`, `ml.prod.m04` and 7 more\n"
    ) in markdown


def test_a_model_both_declared_and_live_is_counted_once():
    plan = Plan(
        changes=(grant("erin@example.com", "ml.prod", "EXECUTE"),),
        objects=refs("ml", "ml.prod", "ml.prod.a"),
        live_children=refs("ml.prod", "ml.prod.a", "ml.prod.b"),
    )

    assert "EXECUTE reaches 2 models: `ml.prod.a`, `ml.prod.b`\n" in render_markdown(plan)


def test_a_schema_grant_counts_the_live_objects_of_every_kind_it_reaches_by_kind():
    inside = (
        Ref(Kind.MODEL, "ml.prod.a"),
        Ref(Kind.MODEL, "ml.prod.b"),
        Ref(Kind.FUNCTION, "ml.prod.score"),
        Ref(Kind.TABLE, "ml.prod.events"),
        Ref(Kind.TABLE, "ml.prod.labels"),
        Ref(Kind.TABLE, "ml.prod.users"),
        Ref(Kind.VOLUME, "ml.prod.raw"),
        Ref(Kind.VOLUME, "ml.dev.raw"),  # another schema's: not reached
    )
    plan = Plan(
        changes=(grant("erin@example.com", "ml.prod", "USE SCHEMA", "EXECUTE", "SELECT", "READ VOLUME"),),
        objects=refs("ml", "ml.prod"),
        live_children=inside,
    )

    assert (
        "- gains **USE SCHEMA, EXECUTE, SELECT, READ VOLUME** on `ml.prod` (schema) — "
        "EXECUTE reaches 2 models (`ml.prod.a`, `ml.prod.b`) and 1 function (`ml.prod.score`); "
        "SELECT reaches 3 tables: `ml.prod.events`, `ml.prod.labels`, `ml.prod.users`; "
        "READ VOLUME reaches 1 volume: `ml.prod.raw`\n"
    ) in render_markdown(plan)


def test_a_catalog_grant_of_select_and_modify_counts_its_tables_once_and_says_both_privileges():
    plan = Plan(
        changes=(grant("etl@example.com", "ml", "USE CATALOG", "SELECT", "MODIFY"),),
        objects=refs("ml"),
        live_children=(
            Ref(Kind.TABLE, "ml.prod.events"),
            Ref(Kind.TABLE, "ml.dev.events"),
            Ref(Kind.MODEL, "ml.prod.m"),
        ),
    )

    assert "— SELECT, MODIFY reaches 2 tables: `ml.dev.events`, `ml.prod.events`\n" in render_markdown(plan)


def test_a_model_and_a_volume_of_the_same_name_are_each_counted_by_their_own_privilege():
    plan = Plan(
        changes=(grant("erin@example.com", "ml.prod", "EXECUTE", "READ VOLUME"),),
        objects=refs("ml", "ml.prod"),
        live_children=(Ref(Kind.MODEL, "ml.prod.raw"), Ref(Kind.VOLUME, "ml.prod.raw")),
    )

    assert "— EXECUTE reaches 1 model: `ml.prod.raw`; READ VOLUME reaches 1 volume: `ml.prod.raw`\n" in render_markdown(
        plan
    )


# -- what else a change to the specs does -------------------------------------------------------

SECURITY = """
policies:
  - name: no-contractor-execute
    deny:
      principal: "*@contractors.example.com"
      privileges: [EXECUTE]
      on: "ml.*.*"
  - name: read-only
    deny:
      privileges: [MODIFY]
"""


def commit(repo: Path, files: dict[str, str | None], message: str) -> None:
    for name, text in files.items():
        if text is None:
            (repo / name).unlink()
        else:
            (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def test_diff_shows_policies_added_removed_and_changed_with_their_rules(repo):
    commit(repo, {"specs/security.yaml": SECURITY}, "policies")
    git(repo, "tag", "with-policies")
    weaker = SECURITY.replace('on: "ml.*.*"', 'on: "ml.prod.*"').split("  - name: read-only")[0]
    commit(
        repo,
        {
            "specs/security.yaml": weaker
            + "  - name: no-contractors-in-prod\n    deny: {principal: '*@contractors.example.com', on: ml.prod}\n"
        },
        "edit",
    )

    markdown = CliRunner().invoke(cli, ["diff", "with-policies", "HEAD", "specs", "--format", "markdown"])
    text = CliRunner().invoke(cli, ["diff", "with-policies", "HEAD", "specs", "--format", "text"])
    document = json.loads(
        CliRunner().invoke(cli, ["diff", "with-policies", "HEAD", "specs", "--format", "json"]).output
    )

    assert markdown.exit_code == 0, markdown.output
    assert "### Policy changes" in markdown.output
    assert (
        "- changed **no-contractor-execute**: deny EXECUTE to `*@contractors.example.com` on `ml.*.*` "
        "→ deny EXECUTE to `*@contractors.example.com` on `ml.prod.*`"
    ) in markdown.output
    assert (
        "- added **no-contractors-in-prod**: deny every privilege to `*@contractors.example.com` on `ml.prod`"
    ) in markdown.output
    assert "- :warning: removed **read-only**: was deny MODIFY to everyone on every object" in markdown.output
    assert "  - policy read-only: deny MODIFY to everyone on every object" in text.output
    assert "Plan: no grant or object changes; 3 policy changes." in text.output
    assert document["policy_changes"] == [
        {
            "name": "no-contractor-execute",
            "before": "deny EXECUTE to *@contractors.example.com on ml.*.*",
            "after": "deny EXECUTE to *@contractors.example.com on ml.prod.*",
        },
        {
            "name": "no-contractors-in-prod",
            "before": None,
            "after": "deny every privilege to *@contractors.example.com on ml.prod",
        },
        {"name": "read-only", "before": "deny MODIFY to everyone on every object", "after": None},
    ]


def test_diff_shows_whose_grants_an_object_no_longer_declared_leaves_ungoverned(repo):
    commit(
        repo,
        {"specs/ml.yaml": HEAD.replace("          iris:\n            grants: {dave@example.com: [EXECUTE]}\n", "")},
        "drop iris",
    )

    markdown = CliRunner().invoke(cli, ["diff", "HEAD~1", "HEAD", "specs", "--format", "markdown"])
    text = CliRunner().invoke(cli, ["diff", "HEAD~1", "HEAD", "specs", "--format", "text"])
    document = json.loads(CliRunner().invoke(cli, ["diff", "HEAD~1", "HEAD", "specs", "--format", "json"]).output)

    assert markdown.exit_code == 0, markdown.output
    assert "### No longer declared" in markdown.output
    assert "leaves the others on the server as they are" in markdown.output
    assert (
        "- `ml.prod.iris` (model) — left on the server: prune is off in schema ml.prod; **dave@example.com** keeps EXECUTE"
    ) in markdown.output
    assert (
        "  ~ model ml.prod.iris: left on the server: prune is off in schema ml.prod; dave@example.com keeps EXECUTE"
    ) in text.output
    assert "Plan: no grant or object changes; 1 object no longer declared." in text.output
    assert document["undeclared"] == [
        {
            "address": "ml.prod.iris",
            "kind": "model",
            "grants": {"dave@example.com": ["EXECUTE"]},
            "deleted_on_apply": False,
            "why": "prune is off in schema ml.prod",
        }
    ]


def test_a_path_that_does_not_exist_at_a_revision_is_an_error_not_no_changes(repo):
    result = CliRunner().invoke(cli, ["diff", "base", "HEAD", "spces"])

    assert result.exit_code == 1, result.output
    assert "Error: spces does not exist at base" in result.output


def test_a_path_missing_from_the_working_tree_is_an_error_not_everything_undeclared(repo):
    git(repo, "rm", "-rq", "specs")

    result = CliRunner().invoke(cli, ["diff", "HEAD"])

    assert result.exit_code == 1, result.output
    assert "Error: specs does not exist in the working tree" in result.output


def test_a_shortened_plan_closes_every_fold_keeps_the_summary_outside_and_counts_what_it_left_out():
    models = [f"ml.prod.model_{i:05d}" for i in range(4000)]
    changes = tuple(grant(f"user{i % 300}@example.com", m, "EXECUTE") for i, m in enumerate(models))
    changes += tuple(
        Change(
            Action.CREATE,
            Address(Kind.MODEL, m),
            ObjectChange(after=Fields(comment="x" * 40)),
            reason="not on the server",
        )
        for m in models[:50]
    )
    plan = Plan(changes=changes, objects=refs("ml", "ml.prod", *models))

    markdown = render_markdown(plan)

    assert markdown.count("<details>") == markdown.count("</details>")
    summary = markdown.index("**Plan: 50 to create, 4000 to grant.**")
    assert markdown.rfind("</details>") < summary
    assert summary > markdown.index("more changes not shown")
    shown = sum(line.startswith(("- gains", "| + |")) for line in markdown.splitlines())
    assert f"_… {len(changes) - shown} more changes not shown" in markdown


def test_diff_warns_when_a_change_drops_an_objects_grants_key(load_spec):
    from ucgov.planner import diff_specs

    base = load_spec("catalogs:\n  ml:\n    comment: ML\n    grants: {alice@example.com: [USE CATALOG]}\n")
    head = load_spec("catalogs:\n  ml:\n    comment: ML\n")

    reviewed = diff_specs(base, head)

    assert reviewed.changes == ()
    assert reviewed.warnings == (
        "catalog ml no longer has a `grants:` key: ucgov stops managing its grants, and leaves them as they are "
        "(alice@example.com keeps USE CATALOG)",
    )
    assert "> **Warning:** catalog ml no longer has a `grants:` key" in render_markdown(reviewed)


# -- ucgov diff and plan agree about what apply deletes -----------------------------------------

ESTATE = """
catalogs:
  ml:
    prune: true
    schemas:
      prod:
        prune: false
        models:
          churn: {}
          iris:
            grants: {dave@example.com: [EXECUTE]}
      scratch:
        models:
          tmp:
            grants: {erin@example.com: [EXECUTE]}
        volumes:
          raw: {}
      held:
        models:
          old: {}
        tables:
          events:
            grants: {alice@example.com: [SELECT]}
        functions:
          score: {}
  lab:
    schemas:
      notebooks: {}
"""

KEEPS = """
catalogs:
  ml:
    prune: true
    schemas:
      prod:
        prune: false
        models:
          churn: {}
"""


def live_as(base, head) -> LiveState:
    """The server as ``base`` left it: what ``head`` declares is read, the rest found undeclared."""
    children: dict[str, list[Ref]] = {}
    for r in base.objects:
        if r.kind.parent:
            children.setdefault(r.full_name.rsplit(".", 1)[0], []).append(r)
    found = {r: Securable(r.kind, r.full_name, grants=o.grants) for r, o in base.objects.items()}
    return LiveState(
        objects={r: o for r, o in found.items() if r in head.objects},
        children={k: tuple(v) for k, v in children.items()},
        undeclared={r: o for r, o in found.items() if r not in head.objects},
    )


def test_diff_says_what_apply_does_with_each_object_no_longer_declared_as_the_plan_does(load_spec):
    from ucgov.planner import diff_specs

    base, head = load_spec(ESTATE), load_spec(KEEPS)

    reviewed = {f"{u.kind.label} {u.full_name}": u.fate for u in diff_specs(base, head).undeclared}
    planned = diff(head, live_as(base, head))

    assert reviewed == {
        "catalog lab": "left on the server: prune never deletes a catalog",
        "schema ml.held": "left on the server: it holds table ml.held.events and function ml.held.score, "
        "which ucgov does not delete",
        "schema ml.scratch": "deleted on apply: prune is on in catalog ml",
        "schema lab.notebooks": "left on the server: inside catalog lab, which stays",
        "model ml.held.old": "deleted on apply: prune is on in catalog ml",
        "table ml.held.events": "left on the server: prune never deletes a table",
        "function ml.held.score": "left on the server: prune never deletes a function",
        "model ml.prod.iris": "left on the server: prune is off in schema ml.prod",
        "model ml.scratch.tmp": "deleted on apply: it goes with schema ml.scratch",
        "volume ml.scratch.raw": "deleted on apply: it goes with schema ml.scratch",
    }
    deleted_by_plan = {str(c.address.ref) for c in planned.changes if c.action is Action.DELETE}
    assert deleted_by_plan == {name for name, fate in reviewed.items() if fate.startswith("deleted")}


def test_every_format_of_diff_says_which_undeclared_objects_apply_deletes(load_spec):
    from ucgov.planner import diff_specs
    from ucgov.render import render_json, render_text

    reviewed = diff_specs(load_spec(ESTATE), load_spec(KEEPS))

    markdown, text = render_markdown(reviewed), render_text(reviewed)
    document = json.loads(render_json(reviewed))
    assert (
        "- :wastebasket: `ml.scratch.tmp` (model) — deleted on apply: it goes with schema ml.scratch; "
        "**erin@example.com** loses EXECUTE"
    ) in markdown
    assert (
        "- `ml.held.events` (table) — left on the server: prune never deletes a table; **alice@example.com** keeps SELECT"
    ) in markdown
    assert (
        "  - model ml.scratch.tmp: deleted on apply: it goes with schema ml.scratch; erin@example.com loses EXECUTE"
        in text
    )
    assert (
        "  ~ model ml.prod.iris: left on the server: prune is off in schema ml.prod; dave@example.com keeps EXECUTE"
        in text
    )
    assert "Plan: no grant or object changes; 10 objects no longer declared (4 deleted on apply)." in text
    fates = {u["address"]: (u["deleted_on_apply"], u["why"]) for u in document["undeclared"]}
    assert fates["ml.scratch"] == (True, "prune is on in catalog ml")
    assert fates["ml.held.score"] == (False, "prune never deletes a function")


def test_the_text_plan_lists_what_is_inside_before_its_parent_for_deletes(load_spec):
    from ucgov.render import render_text

    base, head = load_spec(ESTATE), load_spec(KEEPS)

    text = render_text(diff(head, live_as(base, head)))

    assert text.index("  - model ml.scratch.tmp") < text.index("  - schema ml.scratch")
    assert text.index("  - volume ml.scratch.raw") < text.index("  - schema ml.scratch")
    assert text.index("  - model ml.held.old") < text.index("  - schema ml.scratch")


# -- a revoked USE CATALOG or USE SCHEMA leaves grants inside unusable ---------------------------

GRANTED = """
catalogs:
  ml:
    grants: {bob@example.com: [USE CATALOG, CREATE SCHEMA]}
    schemas:
      prod:
        grants: {bob@example.com: [USE SCHEMA]}
        models:
          churn:
            grants: {bob@example.com: [EXECUTE]}
        tables:
          events:
            grants: {bob@example.com: [SELECT, MODIFY]}
        volumes:
          raw:
            grants: {bob@example.com: [READ VOLUME]}
        functions:
          score:
            grants: {bob@example.com: [EXECUTE]}
"""

REVOKED = GRANTED.replace("[USE CATALOG, CREATE SCHEMA]", "[CREATE SCHEMA]")

UNUSABLE = (
    "revoking USE CATALOG on catalog ml from bob@example.com makes 7 grants of theirs on 6 objects unusable "
    "(USE CATALOG is needed to use anything in catalog ml): catalog ml (CREATE SCHEMA), schema ml.prod (USE SCHEMA), "
    "model ml.prod.churn (EXECUTE), table ml.prod.events (SELECT, MODIFY), volume ml.prod.raw (READ VOLUME) "
    "and 1 more object"
)


def test_plan_warns_in_every_format_that_revoking_use_catalog_leaves_grants_inside_unusable(load_spec):
    from ucgov.render import render_json, render_text

    base, head = load_spec(GRANTED), load_spec(REVOKED)

    planned = diff(head, live_as(base, head))  # every object exists, granted as base left it

    assert UNUSABLE in planned.warnings
    assert f"Warning: {UNUSABLE}" in render_text(planned)
    assert UNUSABLE in json.loads(render_json(planned))["warnings"]
    assert "> **Warning:** revoking USE CATALOG on catalog ml from bob@example.com makes 7 grants" in render_markdown(
        planned
    )


def test_diff_warns_that_revoking_use_catalog_leaves_grants_inside_unusable(load_spec):
    from ucgov.planner import diff_specs

    assert UNUSABLE in diff_specs(load_spec(GRANTED), load_spec(REVOKED)).warnings


def test_revoking_use_schema_names_what_inside_the_schema_becomes_unusable(load_spec):
    from ucgov.planner import diff_specs

    head = load_spec(GRANTED.replace("grants: {bob@example.com: [USE SCHEMA]}", "grants: {}"))

    assert diff_specs(load_spec(GRANTED), head).warnings == (
        "revoking USE SCHEMA on schema ml.prod from bob@example.com makes 5 grants of theirs on 4 objects unusable "
        "(USE SCHEMA is needed to use anything in schema ml.prod): model ml.prod.churn (EXECUTE), "
        "table ml.prod.events (SELECT, MODIFY), volume ml.prod.raw (READ VOLUME), function ml.prod.score (EXECUTE)",
    )


def test_revoking_use_schema_on_a_catalog_names_the_schemas_that_do_not_grant_it_themselves(load_spec):
    from ucgov.planner import diff_specs

    base = load_spec(
        GRANTED.replace("[USE CATALOG, CREATE SCHEMA]", "[USE CATALOG, USE SCHEMA]")
        .replace("grants: {bob@example.com: [USE SCHEMA]}", "grants: {}")
        .replace(
            "      prod:\n", "      dev:\n        grants: {bob@example.com: [USE SCHEMA, CREATE TABLE]}\n      prod:\n"
        )
    )
    head = load_spec(
        GRANTED.replace("grants: {bob@example.com: [USE SCHEMA]}", "grants: {}")
        .replace("[USE CATALOG, CREATE SCHEMA]", "[USE CATALOG]")
        .replace(
            "      prod:\n", "      dev:\n        grants: {bob@example.com: [USE SCHEMA, CREATE TABLE]}\n      prod:\n"
        )
    )

    assert diff_specs(base, head).warnings == (
        "revoking USE SCHEMA on catalog ml from bob@example.com makes 5 grants of theirs on 4 objects unusable "
        "(USE SCHEMA is needed to use anything in catalog ml): model ml.prod.churn (EXECUTE), "
        "table ml.prod.events (SELECT, MODIFY), volume ml.prod.raw (READ VOLUME), function ml.prod.score (EXECUTE)",
    )


def test_no_warning_when_use_schema_is_still_inherited_or_the_grants_inside_go_too(load_spec):
    from ucgov.planner import diff_specs

    inherited = GRANTED.replace("[USE CATALOG, CREATE SCHEMA]", "[USE CATALOG, USE SCHEMA]")
    still_inherited = inherited.replace("grants: {bob@example.com: [USE SCHEMA]}", "grants: {}")
    nothing_left = re.sub(r"grants: \{bob@example.com: \[[A-Z ,]*\]\}", "grants: {}", GRANTED)

    assert diff_specs(load_spec(inherited), load_spec(still_inherited)).warnings == ()
    assert diff_specs(load_spec(GRANTED), load_spec(nothing_left)).warnings == ()


def test_plan_counts_the_live_grants_an_additive_spec_keeps_inside(load_spec):
    head = load_spec("""
        catalogs:
          ml:
            grants: {}
            schemas:
              prod:
                grants_mode: additive
                tables:
                  events:
                    grants_mode: additive
                    grants: {}
        """)
    live = LiveState(
        objects={
            Ref(Kind.CATALOG, "ml"): Securable(
                Kind.CATALOG, "ml", grants={"bob@example.com": frozenset({"USE CATALOG"})}
            ),
            Ref(Kind.SCHEMA, "ml.prod"): Securable(
                Kind.SCHEMA, "ml.prod", grants={"bob@example.com": frozenset({"USE SCHEMA"})}
            ),
            Ref(Kind.TABLE, "ml.prod.events"): Securable(
                Kind.TABLE, "ml.prod.events", grants={"bob@example.com": frozenset({"SELECT"})}
            ),
        },
    )

    assert (
        "revoking USE CATALOG on catalog ml from bob@example.com makes 2 grants of theirs on 2 objects unusable "
        "(USE CATALOG is needed to use anything in catalog ml): schema ml.prod (USE SCHEMA), table ml.prod.events (SELECT)"
    ) in diff(head, live).warnings
