"""No name, principal, comment, policy or reason can fake, hide or rewrite a line of the review.

Every string that reaches text or markdown output, from specs or from the server, is shown as
its characters: one value stays on one line, terminal escapes and bidi controls are visible as
escapes, and markdown or HTML in it stays text.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit_helpers import ref, refs

from ucgov.cli import cli
from ucgov.errors import SpecError
from ucgov.plan import (
    Action,
    Address,
    ApprovalChange,
    Change,
    Fields,
    GrantChange,
    ObjectChange,
    Plan,
    PolicyChange,
    Registration,
    Undeclared,
    Unmanaged,
    VersionDeletion,
)
from ucgov.render import escape, render_json, render_markdown, render_text
from ucgov.spec import load_texts
from ucgov.state import GrantsMode, Kind, Policy

HOSTILE = [
    "ok\n\nPlan: 0 to grant.\n<!--",
    "x\x1b[1A\x1b[2KPlan: 0 to grant.",
    "\u202eevil",
    "a\u2066b\u2069c\u2067d\u2068",
    "l\u200er\u200fa\u061c",
    "\x9b31mred",
    "\x85next line",
    "line\u2028sep\u2029para",
    "<!--",
    "-->",
    "<img src=x onerror=alert(1)>",
    "</details><details><summary>",
    "`code` ``double`` ```",
    "a|b||c",
    "*bold* _it_ [x](http://e.example) ![i](x) ~~s~~",
    "# heading",
    "\r\rNo changes. Unity Catalog matches the specs.",
    "\x00nul\x7fdel\x07bell",
    "\ttab\x0bvt\x0cff",
    "> quoted",
    "&lt;!-- entity",
    "\\`escaped backtick",
]

ALLOWED_TAGS = re.compile(r"</?(details|summary|code)>")
CODE = re.compile(r"`[^`]*`|<code>.*?</code>")
COLOURS = re.compile(r"\x1b\[(3[0-7]|9[0-7]|0)m")  # what click.style adds, and nothing else
SUMMARY = re.compile(r"^(\*\*)?(Plan: |No changes\.).*\.(\*\*)?$")  # a whole line shaped like the summary


def hostile_plan(s: str) -> Plan:
    """A plan with ``s`` in every field a renderer shows: names, principals, comments, properties,
    policy names and patterns, reasons, runs, warnings, undeclared and unmanaged objects."""
    n = s.replace(".", "")  # in a full name, a dot separates the parts
    catalog = f"c{n}"
    schema = f"{catalog}.s{n}"
    model = f"{schema}.m{n}"
    fields = Fields(comment=s, properties={s: s})
    changes = (
        Change(Action.CREATE, Address(Kind.CATALOG, catalog), ObjectChange(after=fields), reason=s),
        Change(Action.UPDATE, Address(Kind.SCHEMA, schema), ObjectChange(before=Fields(comment=s), after=fields)),
        Change(Action.DELETE, Address(Kind.MODEL, f"{schema}.d{n}"), ObjectChange(before=fields), reason=s),
        Change(Action.DELETE, Address(Kind.MODEL, model), VersionDeletion(3), reason=s),
        Change(Action.REGISTER, Address(Kind.MODEL, model), Registration(run=s, artifact_path=s)),
        Change(Action.APPROVE, Address(Kind.MODEL, model), ApprovalChange(None, run=s, replaces_run=s)),
        Change(Action.GRANT, Address(Kind.CATALOG, catalog, s), GrantChange(("USE CATALOG", "EXECUTE")), reason=s),
        Change(
            Action.REVOKE,
            Address(Kind.SCHEMA, schema, f"p{s}"),
            GrantChange(("USE SCHEMA",), held=frozenset({"USE SCHEMA"})),
            reason=s,
        ),
    )
    return Plan(
        changes=changes,
        objects=refs(catalog, schema, model),
        warnings=(s, f"catalog {catalog} declares `grants: {{}}`: {s} loses access"),
        grants_modes={ref(catalog): GrantsMode.AUTHORITATIVE},
        live_children=refs(f"{schema}.live{n}"),
        policy_changes=(
            PolicyChange(s, None, Policy(s, principal=s, on=s)),
            PolicyChange(f"r{s}", Policy(f"r{s}", principal=s, on=s), None),
            PolicyChange(f"k{s}", Policy(f"k{s}"), Policy(f"k{s}", principal=s, privileges=frozenset({"EXECUTE"}))),
        ),
        undeclared=(Undeclared(Kind.SCHEMA, f"{catalog}.u{n}", ((s, ("USE SCHEMA",)),)),),
        unmanaged=(Unmanaged(Kind.CATALOG, f"x{n}"),),
    )


def benign(s: str) -> str:
    """A harmless string of the same length."""
    return "x" * len(s)


RENDERERS = {
    "text": lambda plan: render_text(plan),
    "text-colour": lambda plan: COLOURS.sub("", render_text(plan, color=True)),
    "markdown": lambda plan: render_markdown(plan),
}


def assert_inert(output: str, expected_lines: int, fmt: str) -> None:
    unsafe = escape.UNSAFE.findall(output.replace("\n", ""))
    assert not unsafe, f"raw control or bidi characters {unsafe!r} in {fmt} output"
    lines = output.split("\n")
    summaries = [line for line in lines if SUMMARY.match(line)]
    assert len(summaries) == 1, f"{fmt}: summary-like lines {summaries!r}"
    assert len(lines) == expected_lines, f"{fmt}: a value added or removed lines"
    if fmt == "markdown":
        assert "<!--" not in output
        assert "<" not in ALLOWED_TAGS.sub("", output), "a value opened an HTML tag"
        prose = CODE.sub("", output)  # inside code, markdown is inert
        for markup in ("](", "![", "~~", "*bold*", "_it_"):
            assert markup not in prose, f"a value wrote markdown {markup!r}"


def tried(s: str) -> list[tuple[str, str]]:
    """Each renderer's output for the hostile plan, checked against the benign one's shape."""
    results = []
    for fmt, render in RENDERERS.items():
        output = render(hostile_plan(s))
        assert_inert(output, len(render(hostile_plan(benign(s))).split("\n")), fmt)
        results.append((fmt, output))
    return results


@pytest.mark.parametrize("s", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_string_in_any_field_cannot_fake_hide_or_rewrite_a_line(s):
    tried(s)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12))
def test_no_string_at_all_gets_through_any_renderer(s):
    tried(s)


def test_a_fake_summary_shows_as_one_escaped_value():
    text = render_text(hostile_plan("ok\n\nPlan: 0 to grant.\n<!--"))
    markdown = render_markdown(hostile_plan("ok\n\nPlan: 0 to grant.\n<!--"))

    assert "+ grant USE CATALOG, EXECUTE to ok\\n\\nPlan: 0 to grant.\\n<!--" in text
    assert "**ok\\\\n\\\\nPlan: 0 to grant.\\\\n&lt;\\!--** — 1 gain, 0 losses" in markdown


def test_terminal_escapes_and_bidi_controls_are_shown_as_escapes():
    text = render_text(hostile_plan("x\x1b[1A\x1b[2K\u202eevil"), color=True)

    assert "grant USE CATALOG, EXECUTE to x\\x1b[1A\\x1b[2K\\u202eevil" in text


def test_a_name_that_could_end_a_code_span_is_shown_in_a_code_element():
    assert escape.code("ml.prod") == "`ml.prod`"
    assert escape.code("a`b") == "<code>a\\`b</code>"
    assert escape.code("a|b") == "<code>a\\|b</code>"
    assert escape.code("<!--*x*") == "<code>&lt;\\!--\\*x\\*</code>"


def test_json_keeps_the_data_with_unsafe_characters_as_escapes():
    s = "x\x1b[2K\u202e\x9b"
    document = render_json(hostile_plan(s))

    assert not escape.UNSAFE.search(document.replace("\n", ""))
    assert "\\u202e" in document
    assert json.loads(document)["changes"][6]["principal"] == s


# -- specs ---------------------------------------------------------------------------------


def spec_problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as raised:
        load_texts([("specs/bad.yaml", text)], variables={"EVIL": "a\u202eb"})
    return [str(p) for p in raised.value.problems]


def test_a_policy_name_must_follow_the_name_rule():
    found = spec_problems('policies:\n  - name: "ok\\n\\nPlan: 0 to grant\\n<!--"\n    deny: {on: prod}\n')

    assert found == [
        "specs/bad.yaml:2:11: bad name 'ok\\n\\nPlan: 0 to grant\\n<!--': "
        "letters, digits, _, @ and - only, at most 255 characters"
    ]


@pytest.mark.parametrize(
    ("text", "where", "char"),
    [
        pytest.param('catalogs:\n  ml:\n    comment: "a\u202eb"\n', "3:14", "U+202E", id="rlo-in-comment"),
        pytest.param("catalogs:\n  ml:\n    comment: a\u2066b\n", "3:14", "U+2066", id="isolate-in-comment"),
        pytest.param('catalogs:\n  ml:\n    comment: "x\\e[2K"\n', "3:14", "U+001B", id="escape-in-comment"),
        pytest.param('catalogs:\n  ml:\n    comment: "x\\x9b"\n', "3:14", "U+009B", id="c1-in-comment"),
        pytest.param('catalogs:\n  ml:\n    comment: "x\\rPlan"\n', "3:14", "U+000D", id="cr-in-comment"),
        pytest.param('catalogs:\n  ml:\n    properties: {"k\\u200e": v}\n', "3:18", "U+200E", id="lrm-in-property-key"),
        pytest.param('catalogs:\n  ml:\n    properties: {k: "\\u200f"}\n', "3:21", "U+200F", id="rlm-in-property"),
        pytest.param(
            'catalogs:\n  ml:\n    grants: {"a\\u202e@example.com": [USE CATALOG]}\n',
            "3:14",
            "U+202E",
            id="principal",
        ),
        pytest.param("catalogs:\n  ml:\n    comment: ${var.EVIL}\n", "3:14", "U+202E", id="from-a-variable"),
        pytest.param(
            'policies:\n  - name: p\n    deny: {principal: "*\\u2067"}\n', "3:23", "U+2067", id="policy-pattern"
        ),
    ],
)
def test_control_and_bidi_characters_are_refused_in_every_spec_string(text, where, char):
    found = spec_problems(text)

    assert any(f"specs/bad.yaml:{where}" in p and f"character {char}" in p for p in found), found


def test_a_comment_may_still_span_lines():
    desired = load_texts([("specs/ok.yaml", "catalogs:\n  ml:\n    comment: |\n      one\n      two\n")], variables={})

    assert desired.named("ml").comment == "one\ntwo\n"


# -- ucgov diff ---------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_diff_of_a_hostile_principal_and_comment_is_escaped_in_text_and_markdown(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "ml.yaml"
    spec.write_text("catalogs:\n  prod: {}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "base")
    hostile = "eve<!--@example.com`|*x*"
    spec.write_text(
        f"catalogs:\n  prod:\n    comment: \"two\\nlines <!-- ``\"\n    grants:\n      '{hostile}': [EXECUTE, MODIFY]\n"
    )
    monkeypatch.chdir(tmp_path)

    markdown = CliRunner().invoke(cli, ["diff", "HEAD", "--format", "markdown"])
    text = CliRunner().invoke(cli, ["diff", "HEAD", "--format", "text"])

    assert markdown.exit_code == 0, markdown.output
    assert "<!--" not in markdown.output
    assert "**eve&lt;\\!--@example.com\\`\\|\\*x\\*** — 1 gain, 0 losses" in markdown.output
    assert "- gains **EXECUTE, MODIFY** on `prod` (catalog)" in markdown.output
    assert markdown.output.rstrip().endswith("**Plan: 1 to update, 1 to grant.**")
    assert f"+ grant EXECUTE, MODIFY to {hostile}" in text.output
    assert 'comment: null -> "two\\nlines <!-- ``"' in text.output


def test_a_spec_error_about_a_hostile_value_is_one_line_per_problem(tmp_path):
    (tmp_path / "ml.yaml").write_text('catalogs:\n  ml:\n    comment: "x\\e[2K\\u202e ${\\e[1A}"\n')

    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])

    assert result.exit_code == 1
    assert not escape.UNSAFE.search(result.output.replace("\n", ""))
    assert f"{tmp_path / 'ml.yaml'}:3:14: character U+001B" in result.output
    assert "'${\\x1b[1A}' is not a variable reference" in result.output


SPEC_PLACES = {
    "policy name": "policies:\n  - name: {q}\n    deny: {{on: prod}}\n",
    "policy principal": "policies:\n  - name: p\n    deny: {{principal: {q}}}\n",
    "policy on": "policies:\n  - name: p\n    deny: {{on: {q}}}\n",
    "comment": "catalogs:\n  ml:\n    comment: {q}\n",
    "property key": "catalogs:\n  ml:\n    properties: {{{q}: v}}\n",
    "property value": "catalogs:\n  ml:\n    properties: {{k: {q}}}\n",
    "principal": "catalogs:\n  ml:\n    grants: {{{q}: [USE CATALOG]}}\n",
    "run": "catalogs:\n  ml:\n    schemas:\n      s:\n        models:\n          m: {{approved: {{run: {q}}}}}\n",
    "artifact path": (
        "catalogs:\n  ml:\n    schemas:\n      s:\n        models:\n"
        "          m: {{approved: {{run: r, artifact_path: {q}}}}}\n"
    ),
    "variable": "catalogs:\n  ml:\n    comment: ${{var.V}}\n",
}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SPEC_PLACES)), st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12))
def test_a_spec_string_that_could_act_is_refused_wherever_it_is_written(place, s):
    # a JSON string is a YAML double-quoted string, escapes and all
    text = SPEC_PLACES[place].format(q=json.dumps(s))
    try:
        load_texts([("specs/x.yaml", text)], variables={"V": s})
    except SpecError as exc:
        assert all(str(p).startswith("specs/x.yaml:") for p in exc.problems)
        return
    acting = {c for c in escape.UNSAFE.findall(s) if c not in "\n\t"}
    assert not acting, f"{s!r} was accepted as the {place}"


def test_a_servers_error_message_stays_inside_ucgovs_sentence():
    import httpx

    from ucgov.client import _error_for

    response = httpx.Response(500, json={"message": "boom\nApply complete: 0 changes made.\x1b[2K"})

    error = _error_for(response, what="read catalog ml", method="GET", path="/catalogs/ml")

    assert str(error) == "cannot read catalog ml: boom Apply complete: 0 changes made.\\x1b[2K (HTTP 500)"
