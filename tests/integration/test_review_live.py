"""The pull-request review against the real server: what a grant reaches counts what exists live."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_a_catalog_grant_reaches_the_live_models_that_no_spec_declares(ucgov, write_spec, rest, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    for schema, models in {"prod": [f"m{i:02d}" for i in range(11)], "dev": ["scratch"]}.items():
        rest.post("/schemas", {"name": schema, "catalog_name": catalog_name})
        for model in models:
            rest.post("/models", {"name": model, "catalog_name": catalog_name, "schema_name": schema})
    specs = write_spec(f"catalogs:\n  {catalog_name}:\n    grants:\n      carol@example.com: [USE CATALOG, EXECUTE]\n")

    planned = ucgov("plan", str(specs), "--format", "markdown")

    assert planned.exit_code == 0, planned.output
    first = ", ".join(
        f"`{catalog_name}.dev.scratch`" if i == 0 else f"`{catalog_name}.prod.m{i - 1:02d}`" for i in range(5)
    )
    assert (
        f"- gains **USE CATALOG, EXECUTE** on `{catalog_name}` (catalog, grants authoritative) — EXECUTE reaches 12 models: {first} and 7 more"
    ) in planned.output
