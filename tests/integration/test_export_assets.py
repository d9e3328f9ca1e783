"""Exporting an estate of tables, volumes and functions made without ucgov, against the real server.

The estate is built through the server's REST API as another tool would build it: an external
Delta table with columns, a MANAGED table, a table whose column type no spec can write, an
external volume, a MANAGED volume in a catalog whose storage root is in the sandbox's managed
storage, SQL and Python functions, one function a spec cannot say exactly, and grants on each. Export must write every
one of them with its definition and grants, note on stderr whatever it cannot say exactly, and
`plan` on its output must say "No changes".
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration


def column(name: str, type_name: str, spark: str, position: int, *, nullable: bool = True, **more) -> dict:
    flag = "true" if nullable else "false"
    type_json = f'{{"name":"{name}","type":"{spark}","nullable":{flag},"metadata":{{}}}}'
    found = {"name": name, "type_name": type_name, "type_text": type_name.lower(), "position": position}
    return {**found, "nullable": nullable, "type_json": type_json, **more}


def parameter(name: str, type_name: str, spark: str, position: int) -> dict:
    type_json = f'{{"name":"{name}","type":"{spark}","nullable":true,"metadata":{{}}}}'
    found = {"name": name, "type_name": type_name, "type_text": type_name.lower(), "type_json": type_json}
    return {**found, "position": position, "parameter_mode": "IN", "parameter_type": "PARAM"}


def function_info(catalog: str, name: str, *, language: str, body: str, **more) -> dict:
    """A function of one DOUBLE parameter returning a STRING, as the 0.6.0 server takes it."""
    python = language == "python"
    return {
        "name": name,
        "catalog_name": catalog,
        "schema_name": "fraud",
        "input_params": {"parameters": [parameter("x", "DOUBLE", "double", 0)]},
        "data_type": "STRING",
        "full_data_type": "STRING",
        "routine_body": "EXTERNAL" if python else "SQL",
        "routine_definition": body,
        **({"external_language": "python"} if python else {}),
        "parameter_style": "S",
        "is_deterministic": True,
        "sql_data_access": "NO_SQL" if python else "CONTAINS_SQL",
        "is_null_call": False,
        "security_type": "DEFINER",
        "specific_name": name,
        **more,
    }


def build_estate(rest, server, catalog: str) -> Path:
    """Catalog (storage root under the sandbox's managed root) > schema fraud > a model, three tables
    (one MANAGED), two volumes (one MANAGED) and three functions, each with a grant."""
    files = Path(tempfile.mkdtemp(prefix="ucgov-export-"))
    root = f"{server.managed_root}/{catalog}"
    rest.post("/catalogs", {"name": catalog, "comment": "fraud team", "storage_root": root})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog, "comment": "models and data"})
    where = {"catalog_name": catalog, "schema_name": "fraud"}
    rest.post("/models", {"name": "detector", **where})
    columns = [
        column("id", "LONG", "long", 0, nullable=False, comment="key"),
        column("amount", "DOUBLE", "double", 1),
        column("at", "TIMESTAMP", "timestamp", 2),
    ]
    table = {**where, "table_type": "EXTERNAL", "data_source_format": "DELTA"}
    rest.post(
        "/tables",
        {
            **table,
            "name": "transactions",
            "columns": columns,
            "storage_location": (files / "transactions").as_uri(),
            "comment": "card payments",
            "properties": {"owner": "fraud"},
        },
    )
    money = column("total", "DECIMAL", "decimal(10,2)", 0, type_precision=10, type_scale=2)
    money["type_text"] = "decimal(10,2)"
    rest.post("/tables", {**table, "name": "ledger", "columns": [money], "storage_location": (files / "l").as_uri()})
    staged = rest.post("/staging-tables", {"name": "features", **where})  # how the server makes MANAGED tables
    managed = {**table, "table_type": "MANAGED", "storage_location": staged["staging_location"]}
    rest.post(
        "/tables",
        {
            **managed,
            "name": "features",
            "columns": columns[:1],
            "properties": {"io.unitycatalog.tableId": staged["id"]},
        },
    )
    external = {"volume_type": "EXTERNAL", "storage_location": (files / "raw").as_uri(), "comment": "raw files"}
    rest.post("/volumes", {"name": "raw", **where, **external})
    rest.post("/volumes", {"name": "scratch", **where, "volume_type": "MANAGED"})
    sql = "CASE WHEN x > 0.5 THEN 'high' ELSE 'low' END"
    rest.post("/functions", {"function_info": function_info(catalog, "risk_bucket", language="sql", body=sql)})
    python = "return 'high' if x > 0.5 else 'low'"
    rest.post("/functions", {"function_info": function_info(catalog, "score", language="python", body=python)})
    moody = function_info(catalog, "moody", language="python", body="return 'x'", is_deterministic=False)
    rest.post("/functions", {"function_info": moody})
    s = f"{catalog}.fraud"
    rest.patch_grants("catalog", catalog, "alice@example.com", add=["USE CATALOG"])
    rest.patch_grants("schema", s, "alice@example.com", add=["USE SCHEMA"])
    rest.patch_grants("registered_model", f"{s}.detector", "serving-app@example.com", add=["EXECUTE"])
    rest.patch_grants("table", f"{s}.transactions", "alice@example.com", add=["SELECT", "MODIFY"])
    rest.patch_grants("table", f"{s}.ledger", "bob@example.com", add=["SELECT"])
    rest.patch_grants("table", f"{s}.features", "carol@example.com", add=["SELECT"])
    rest.patch_grants("volume", f"{s}.raw", "bob@example.com", add=["READ VOLUME"])
    rest.patch_grants("volume", f"{s}.scratch", "carol@example.com", add=["READ VOLUME"])
    for name in ("risk_bucket", "score", "moody"):
        rest.patch_grants("function", f"{s}.{name}", "serving-app@example.com", add=["EXECUTE"])
    return files


def test_export_writes_tables_volumes_and_functions_and_its_output_plans_no_changes(
    ucgov, rest, server, tmp_path, catalog_name
):
    build_estate(rest, server, catalog_name)
    out = tmp_path / "specs"

    exported = ucgov("export", "--catalog", catalog_name, "--out", str(out))

    assert exported.exit_code == 0, exported.output
    counts = "1 schema, 1 model, 3 tables, 2 volumes, 3 functions."
    assert f"catalog {catalog_name}, {counts}" in exported.stdout
    planned = ucgov("plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes" in planned.output


def test_each_kind_is_written_under_its_spec_key_with_its_definition_and_grants(
    ucgov, rest, server, tmp_path, catalog_name
):
    files = build_estate(rest, server, catalog_name)
    out = tmp_path / "specs"
    assert ucgov("export", "--catalog", catalog_name, "--out", str(out)).exit_code == 0

    catalog = yaml.safe_load((out / f"{catalog_name}.yaml").read_text())["catalogs"][catalog_name]
    assert catalog["storage_root"] == f"{server.managed_root}/{catalog_name}"
    schema = catalog["schemas"]["fraud"]
    assert list(schema) == ["comment", "grants", "models", "tables", "volumes", "functions"]  # registry order
    assert schema["tables"]["transactions"] == {
        "comment": "card payments",
        "properties": {"owner": "fraud"},
        "table_type": "EXTERNAL",
        "data_source_format": "DELTA",
        "storage_location": (files / "transactions").as_uri(),
        "columns": [
            {"name": "id", "type": "LONG", "nullable": False, "comment": "key"},
            {"name": "amount", "type": "DOUBLE"},
            {"name": "at", "type": "TIMESTAMP"},
        ],
        "grants": {"alice@example.com": ["SELECT", "MODIFY"]},
    }
    assert schema["tables"]["ledger"] == {"grants": {"bob@example.com": ["SELECT"]}}  # governed as it exists
    features = schema["tables"]["features"]
    assert features["grants"] == {"carol@example.com": ["SELECT"]}
    assert not {"table_type", "columns", "storage_location"} & set(features)
    assert schema["volumes"] == {
        "raw": {
            "comment": "raw files",
            "volume_type": "EXTERNAL",
            "storage_location": (files / "raw").as_uri(),
            "grants": {"bob@example.com": ["READ VOLUME"]},
        },
        "scratch": {"volume_type": "MANAGED", "grants": {"carol@example.com": ["READ VOLUME"]}},
    }
    functions = schema["functions"]
    assert functions["risk_bucket"] == {
        "parameters": [{"name": "x", "type": "DOUBLE"}],
        "returns": "STRING",
        "language": "SQL",
        "body": "CASE WHEN x > 0.5 THEN 'high' ELSE 'low' END",
        "grants": {"serving-app@example.com": ["EXECUTE"]},
    }
    assert (functions["score"]["language"], functions["score"]["body"]) == (
        "PYTHON",
        "return 'high' if x > 0.5 else 'low'",
    )
    assert functions["moody"] == {"grants": {"serving-app@example.com": ["EXECUTE"]}}


def test_what_export_cannot_say_exactly_is_on_stderr_and_its_grants_stay_governed(
    ucgov, rest, server, tmp_path, catalog_name
):
    build_estate(rest, server, catalog_name)
    out = tmp_path / "specs"
    s = f"{catalog_name}.fraud"

    exported = ucgov("export", "--catalog", catalog_name, "--out", str(out))

    assert (
        f"{s}.ledger: definition left out: column 'total' is decimal(10,2), a type specs cannot write"
        in exported.stderr
    )
    assert (
        f"{s}.moody: definition left out: a create from what a spec writes would differ in is_deterministic"
        in exported.stderr
    )
    managed = "definition left out: a MANAGED table is made through a staging table, which ucgov cannot create"
    assert f"{s}.features: {managed}" in exported.stderr
    assert exported.stderr.count("governed as it exists (grants kept), never created") == 3
    assert "Left out (3)" in exported.stderr
    # the grants of what is declared without a definition are governed: a revoke is planned
    spec = out / f"{catalog_name}.yaml"
    spec.write_text(spec.read_text().replace("bob@example.com: [SELECT]", "carol@example.com: [SELECT]"))
    planned = json.loads(ucgov("plan", str(out), "--format", "json").stdout)
    assert {(c["action"], c["address"]) for c in planned["changes"]} == {
        ("grant", f"{s}.ledger"),
        ("revoke", f"{s}.ledger"),
    }
