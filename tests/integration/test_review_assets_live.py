"""The pull-request review of grants on schemas and catalogs that hold tables, volumes and functions.

The estate is built through the server's REST API, as another tool would build it; the review must
count what a grant reaches among the live objects of every kind, and say which grants a revoked
USE CATALOG leaves unusable.
"""

from __future__ import annotations

import json

import pytest
from test_estate_inside_schemas import build_estate

from ucgov.render.escape import markdown

pytestmark = pytest.mark.integration


def test_a_schema_grant_shows_the_live_functions_tables_and_volumes_it_reaches(ucgov, rest, write_spec, catalog_name):
    build_estate(rest, catalog_name)
    s = f"{catalog_name}.sandbox"
    specs = write_spec(
        f"catalogs:\n  {catalog_name}:\n    schemas:\n      sandbox:\n"
        "        grants: {carol@example.com: [USE SCHEMA, EXECUTE, SELECT, READ VOLUME]}\n"
    )

    planned = ucgov("plan", str(specs), "--format", "markdown")

    assert planned.exit_code == 0, planned.output
    assert (
        f"- gains **USE SCHEMA, EXECUTE, SELECT, READ VOLUME** on `{s}` (schema, grants authoritative) — "
        f"EXECUTE reaches 1 model (`{s}.scratch`) and 1 function (`{s}.score`); "
        f"SELECT reaches 1 table: `{s}.events`; READ VOLUME reaches 1 volume: `{s}.raw`\n"
    ) in planned.output


def test_revoking_use_catalog_warns_which_grants_inside_become_unusable(ucgov, rest, write_spec, catalog_name):
    build_estate(rest, catalog_name)
    s = f"{catalog_name}.sandbox"
    rest.patch_grants("catalog", catalog_name, "bob@example.com", add=["USE CATALOG"])
    rest.patch_grants("schema", s, "bob@example.com", add=["USE SCHEMA"])
    rest.patch_grants("table", f"{s}.events", "bob@example.com", add=["SELECT"])
    # the catalog's grants become carol's alone; what bob holds inside is governed as it is
    specs = write_spec(
        f"catalogs:\n  {catalog_name}:\n    grants: {{carol@example.com: [USE CATALOG]}}\n"
        "    schemas:\n      sandbox:\n        grants: {bob@example.com: [USE SCHEMA]}\n"
        "        tables:\n          events: {grants_mode: additive, grants: {}}\n"
        "        volumes:\n          raw: {grants: {bob@example.com: [READ VOLUME]}}\n"
    )
    warning = (
        f"revoking USE CATALOG on catalog {catalog_name} from bob@example.com makes 3 grants of theirs on 3 objects "
        f"unusable (USE CATALOG is needed to use anything in catalog {catalog_name}): schema {s} (USE SCHEMA), "
        f"table {s}.events (SELECT), volume {s}.raw (READ VOLUME)"
    )

    as_markdown = ucgov("plan", str(specs), "--format", "markdown")
    as_json = json.loads(ucgov("plan", str(specs), "--format", "json").stdout)
    as_text = ucgov("plan", str(specs)).output

    assert as_markdown.exit_code == 0, as_markdown.output
    assert f"> **Warning:** {markdown(warning)}\n" in as_markdown.output
    assert warning in as_json["warnings"]
    assert f"Warning: {warning}\n" in as_text
    revokes = [(c["address"], c["principal"]) for c in as_json["changes"] if c["action"] == "revoke"]
    assert revokes == [(catalog_name, "bob@example.com")]
