"""`ucgov access` rows from specs: who holds what, through which grant, and whether it is usable."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from ucgov.access import Scope, rows
from ucgov.cli import cli
from ucgov.kinds import Kind
from ucgov.render import escape
from ucgov.render.access import render_access
from ucgov.state import Ref, Securable, State

ESTATE = """
catalogs:
  prod_ml:
    grants:
      alice@example.com: [USE CATALOG, EXECUTE]
      bob@example.com: [USE CATALOG]
      carol@example.com: [USE CATALOG, SELECT]
    schemas:
      fraud:
        grants:
          bob@example.com: [USE SCHEMA]
          carol@example.com: [USE SCHEMA]
        models:
          scorer:
            grants:
              bob@example.com: [EXECUTE]
              dave@example.com: [EXECUTE]
        volumes:
          raw:
            volume_type: EXTERNAL
            storage_location: file:///tmp/raw
            grants:
              carol@example.com: [READ VOLUME]
"""

SCORER = Ref(Kind.MODEL, "prod_ml.fraud.scorer")


def as_tuples(found):
    return [(r.principal, str(r.object), r.privilege, r.via_text(), r.usable) for r in found]


def test_a_principal_sees_direct_and_inherited_grants_and_what_is_unusable(load_spec):
    estate = load_spec(ESTATE)
    assert as_tuples(rows(estate, Scope(principal="alice@example.com"))) == [
        ("alice@example.com", "catalog prod_ml", "EXECUTE", "direct", True),
        ("alice@example.com", "catalog prod_ml", "USE CATALOG", "direct", True),
        # EXECUTE inherited from the catalog reaches the model, but alice has no USE SCHEMA on fraud
        ("alice@example.com", "model prod_ml.fraud.scorer", "EXECUTE", "inherited from catalog prod_ml", False),
    ]
    (scorer,) = [r for r in rows(estate, Scope(principal="alice@example.com")) if r.object == SCORER]
    assert scorer.missing_text() == "USE SCHEMA on schema prod_ml.fraud"


def test_an_object_lists_everyone_who_holds_something_on_it(load_spec):
    found = rows(load_spec(ESTATE), Scope(object="prod_ml.fraud.scorer"))
    assert as_tuples(found) == [
        ("alice@example.com", "model prod_ml.fraud.scorer", "EXECUTE", "inherited from catalog prod_ml", False),
        ("bob@example.com", "model prod_ml.fraud.scorer", "EXECUTE", "direct", True),
        ("dave@example.com", "model prod_ml.fraud.scorer", "EXECUTE", "direct", False),
    ]
    assert [r.missing_text() for r in found][2] == "USE CATALOG on catalog prod_ml; USE SCHEMA on schema prod_ml.fraud"


def test_every_kind_is_covered_and_a_privilege_inherits_only_where_it_acts(load_spec):
    found = rows(load_spec(ESTATE), Scope(principal="carol@example.com"))
    assert as_tuples(found) == [
        ("carol@example.com", "catalog prod_ml", "SELECT", "direct", True),
        ("carol@example.com", "catalog prod_ml", "USE CATALOG", "direct", True),
        ("carol@example.com", "schema prod_ml.fraud", "USE SCHEMA", "direct", True),
        ("carol@example.com", "volume prod_ml.fraud.raw", "READ VOLUME", "direct", True),
    ]  # SELECT on the catalog is not a row on the volume, nor on the schema between


def test_a_privilege_given_twice_names_both_grants_nearest_first():
    catalog, schema = Ref(Kind.CATALOG, "c"), Ref(Kind.SCHEMA, "c.s")
    model = Ref(Kind.MODEL, "c.s.m")
    p = "p@example.com"
    state = State.of(
        Securable(Kind.CATALOG, "c", grants={p: frozenset({"USE CATALOG", "EXECUTE"})}),
        Securable(Kind.SCHEMA, "c.s", grants={p: frozenset({"USE SCHEMA", "EXECUTE"})}),
        Securable(Kind.MODEL, "c.s.m", grants={p: frozenset({"EXECUTE"})}),
    )
    (row,) = [r for r in rows(state) if r.object == model]
    assert row.via == (model, schema, catalog) and row.usable
    assert row.via_text() == "direct; inherited from schema c.s; inherited from catalog c"


def test_a_catalog_scope_leaves_out_other_catalogs(load_spec):
    estate = load_spec(ESTATE + "  other:\n    grants:\n      bob@example.com: [USE CATALOG]\n")
    assert {r.object.full_name.split(".")[0] for r in rows(estate, Scope(catalogs=("prod_ml",)))} == {"prod_ml"}
    assert {r.object.full_name for r in rows(estate, Scope(catalogs=("other",)))} == {"other"}


def test_csv_reads_back_with_the_csv_module_and_cannot_start_a_formula(load_spec):
    found = rows(load_spec(ESTATE))
    read = list(csv.DictReader(io.StringIO(render_access(found, "csv"))))
    assert len(read) == len(found)
    assert read[0] == {
        "principal": "alice@example.com",
        "kind": "catalog",
        "object": "prod_ml",
        "privilege": "EXECUTE",
        "via": "direct",
        "usable": "yes",
        "missing": "",
    }
    m = Ref(Kind.MODEL, "c.s.m")
    hostile = rows(State.of(Securable(Kind.MODEL, "c.s.m", grants={'=HYPERLINK("x"),\n"': frozenset({"EXECUTE"})})))
    (back,) = csv.DictReader(io.StringIO(render_access(hostile, "csv")))
    assert back["principal"] == '\'=HYPERLINK("x"),\\n"' and back["object"] == m.full_name


def test_json_names_each_grant_and_what_is_missing(load_spec):
    document = json.loads(render_access(rows(load_spec(ESTATE), Scope(object="prod_ml.fraud.scorer")), "json"))
    alice = document["rows"][0]
    assert alice["via"] == [{"kind": "catalog", "object": "prod_ml", "inherited": True}]
    assert alice["missing"] == [{"kind": "schema", "object": "prod_ml.fraud", "privilege": "USE SCHEMA"}]
    assert alice["usable"] is False


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "csv", "json"])
def test_no_format_lets_a_principal_write_markup_or_a_line_of_its_own(fmt):
    hostile = "<script>alert(1)</script>\n| x | `\x1b[2J\u202e"
    found = rows(State.of(Securable(Kind.MODEL, "c.s.m", grants={hostile: frozenset({"EXECUTE"})})))
    out = render_access(found, fmt)
    assert "\x1b" not in out and "\u202e" not in out
    if fmt in ("markdown", "html"):
        assert "<script>alert" not in out
    if fmt in ("text", "markdown"):
        assert not any(line.startswith("| x |") for line in out.splitlines())


def test_the_html_page_is_one_file_that_loads_nothing(load_spec):
    out = render_access(rows(load_spec(ESTATE)), "html")
    assert "default-src 'none'" in out and "unsafe-inline" not in out
    assert "src=" not in out and "href=" not in out and "://" not in out
    assert "dave@example.com" in page_data(out)["principals"]


def test_the_html_page_grows_with_the_rows_not_with_objects_times_principals():
    grants = {f"team{t}@example.com": frozenset({"EXECUTE"}) for t in range(50)}
    many = [Securable(Kind.MODEL, f"c.s.m{i}", grants=grants if i == 0 else {}) for i in range(5000)]
    few = rows(State.of(*many, Securable(Kind.MODEL, "c.s.z", grants={"bob@example.com": frozenset({"EXECUTE"})})))
    assert len(few) == 51 and len(render_access(few, "html")) < 20_000


def test_no_name_ends_the_html_pages_data_block():
    breaks_out = "</script><script>alert(1)</script><!--"
    found = rows(State.of(Securable(Kind.MODEL, "c.s.m", grants={breaks_out: frozenset({"EXECUTE"})})))
    out = render_access(found, "html")
    assert out.count("</script>") == 2 and "<!--" not in out
    assert page_data(out)["principals"] == [breaks_out]


@given(st.text(min_size=1), st.text(min_size=1))
def test_whatever_a_principal_or_name_holds_the_data_block_gives_it_back_and_nothing_else(principal, name):
    found = rows(State.of(Securable(Kind.MODEL, f"c.s.{name}", grants={principal: frozenset({"EXECUTE"})})))
    out = render_access(found, "html")
    assert out.lower().count("</script") == 2 and "<!--" not in out.split("<body>", 1)[1]
    data = page_data(out)
    assert data["principals"] == [escape.text(principal)] and data["objects"] == [[0, escape.text(f"c.s.{name}")]]


def page_data(page: str) -> dict:
    """The JSON data block the page's script draws the matrix from."""
    block = page.split('<script type="application/json" id="access-data">', 1)[1].split("</script>", 1)[0]
    return json.loads(block)


def test_the_cli_reads_specs_offline(tmp_path):
    spec = tmp_path / "prod.yaml"
    spec.write_text(ESTATE)
    result = CliRunner().invoke(cli, ["access", "prod_ml.fraud.scorer", "--specs", str(spec), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert [r["principal"] for r in csv.DictReader(io.StringIO(result.output))] == [
        "alice@example.com",
        "bob@example.com",
        "dave@example.com",
    ]
    unknown = CliRunner().invoke(cli, ["access", "prod_ml.nope", "--specs", str(spec)])
    assert unknown.exit_code == 1 and "no object named prod_ml.nope" in unknown.output
    rev_alone = CliRunner().invoke(cli, ["access", "--rev", "HEAD"])
    assert rev_alone.exit_code == 1 and "--specs" in rev_alone.output
