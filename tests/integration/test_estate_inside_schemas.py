"""Schemas that hold tables, volumes and functions no spec declares, against the real server.

The estate is built through the server's REST API, as a team would without ucgov. Prune deletes an
undeclared volume (specs can make one again) but never a table or a function: a schema holding one
is kept, saying why, and every listing names them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

COLUMN = {"name": "id", "type_name": "INT", "type_text": "int", "position": 0, "nullable": True}
COLUMN["type_json"] = '{"name":"id","type":"integer","nullable":true,"metadata":{}}'


def function_info(catalog: str, schema: str, name: str) -> dict:
    """The body the 0.6.0 server takes for a function (api/all.yaml, CreateFunction)."""
    return {
        "name": name,
        "catalog_name": catalog,
        "schema_name": schema,
        "input_params": {"parameters": []},
        "data_type": "INT",
        "full_data_type": "INT",
        "routine_body": "EXTERNAL",
        "routine_definition": "return 1",
        "external_language": "python",
        "parameter_style": "S",
        "is_deterministic": True,
        "sql_data_access": "NO_SQL",
        "is_null_call": False,
        "security_type": "DEFINER",
        "specific_name": name,
    }


def build_estate(rest, catalog: str) -> Path:
    """A catalog whose schema `sandbox` holds a model, a table granted to alice, a volume and a function."""
    files = Path(tempfile.mkdtemp(prefix="ucgov-estate-"))
    rest.post("/catalogs", {"name": catalog})
    rest.post("/schemas", {"name": "sandbox", "catalog_name": catalog})
    where = {"catalog_name": catalog, "schema_name": "sandbox"}
    rest.post("/models", {"name": "scratch", **where})
    table = {"name": "events", **where, "table_type": "EXTERNAL", "data_source_format": "DELTA", "columns": [COLUMN]}
    rest.post("/tables", {**table, "storage_location": (files / "events").as_uri()})
    rest.post(
        "/volumes", {"name": "raw", **where, "volume_type": "EXTERNAL", "storage_location": (files / "raw").as_uri()}
    )
    rest.post("/functions", {"function_info": function_info(catalog, "sandbox", "score")})
    rest.patch_grants("table", f"{catalog}.sandbox.events", "alice@example.com", add=["SELECT"])
    rest.patch_grants("volume", f"{catalog}.sandbox.raw", "bob@example.com", add=["READ VOLUME"])
    rest.patch_grants("function", f"{catalog}.sandbox.score", "serving-app@example.com", add=["EXECUTE"])
    return files


def pruning(catalog: str) -> str:
    return f"settings: {{prune: true}}\ncatalogs:\n  {catalog}: {{}}\n"


def held(catalog: str) -> list[tuple[str, str]]:
    s = f"{catalog}.sandbox"
    return [("table", f"{s}.events"), ("volume", f"{s}.raw"), ("function", f"{s}.score")]


def test_the_server_refuses_to_delete_a_schema_holding_tables_or_functions(rest, catalog_name):
    build_estate(rest, catalog_name)
    refused = rest.http.delete(f"/schemas/{catalog_name}.sandbox")
    assert refused.status_code == 400
    assert refused.json()["message"] in {"Cannot delete schema with tables", "Cannot delete schema with functions"}
    unknown = {"changes": [{"principal": "bob@example.com", "add": ["WRITE VOLUME"]}]}
    assert rest.http.patch(f"/permissions/volume/{catalog_name}.sandbox.raw", json=unknown).status_code == 400


def test_prune_deletes_the_model_and_the_volume_and_keeps_the_schema_saying_what_keeps_it(
    ucgov, rest, write_spec, catalog_name
):
    build_estate(rest, catalog_name)
    specs = write_spec(pruning(catalog_name))
    s = f"{catalog_name}.sandbox"
    kept = f"schema {s} is kept: it holds table {s}.events and function {s}.score, which ucgov does not delete"

    planned = json.loads(ucgov("plan", str(specs), "--format", "json").stdout)
    assert [(c["action"], c["kind"], c["address"]) for c in planned["changes"]] == [
        ("delete", "volume", f"{s}.raw"),
        ("delete", "model", f"{s}.scratch"),
    ]
    assert kept in planned["warnings"]
    text = ucgov("plan", str(specs)).output
    assert kept in text and f"- schema {s}" not in text

    applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert rest.status(f"/models/{s}.scratch") == 404
    assert rest.get(f"/volumes?catalog_name={catalog_name}&schema_name=sandbox")["volumes"] == []
    assert (rest.status(f"/tables/{s}.events"), rest.status(f"/functions/{s}.score")) == (200, 200)
    assert rest.grants("table", f"{s}.events") == {"alice@example.com": {"SELECT"}}
    assert rest.grants("function", f"{s}.score") == {"serving-app@example.com": {"EXECUTE"}}
    again = ucgov("plan", str(specs), "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # nothing left to do, and no rerun trips on the schema


def test_show_unmanaged_lists_tables_volumes_and_functions_by_kind(ucgov, rest, write_spec, catalog_name):
    build_estate(rest, catalog_name)
    specs = write_spec(f"catalogs:\n  {catalog_name}: {{}}\n")

    text = ucgov("plan", str(specs), "--show-unmanaged").output
    for kind, name in held(catalog_name):
        assert f"? {kind} {name}" in text
    listed = json.loads(ucgov("plan", str(specs), "--show-unmanaged", "--format", "json").stdout)["unmanaged"]
    objects = {(o["kind"], o["address"]) for o in listed["objects"]}
    assert set(held(catalog_name)) | {("schema", f"{catalog_name}.sandbox")} <= objects


def test_export_writes_tables_volumes_and_functions_and_the_export_plans_no_changes(
    ucgov, rest, tmp_path, catalog_name
):
    build_estate(rest, catalog_name)
    out = tmp_path / "specs"

    exported = ucgov("export", "--catalog", catalog_name, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "1 schema, 1 model, 1 table, 1 volume, 1 function." in exported.stdout
    assert "Left out" not in exported.stderr  # each of them, and its grants, is said exactly
    planned = ucgov("plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes" in planned.output


def test_deletes_of_schemas_filled_since_the_plan_are_refused_as_stale_before_the_server_could_refuse_them(
    ucgov, rest, write_spec, tmp_path, catalog_name
):
    rest.post("/catalogs", {"name": catalog_name})
    for schema in ("sandbox", "scratch"):
        rest.post("/schemas", {"name": schema, "catalog_name": catalog_name})
    specs = write_spec(pruning(catalog_name))
    plan_file = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    # after the plan, someone adds a function and a volume: the server would now refuse both deletes
    rest.post("/functions", {"function_info": function_info(catalog_name, "sandbox", "late")})
    where = {"catalog_name": catalog_name, "schema_name": "scratch", "volume_type": "EXTERNAL"}
    rest.post("/volumes", {"name": "late", **where, "storage_location": (tmp_path / "late").as_uri()})

    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 1
    assert "stale plan" in applied.stderr
    for schema in ("sandbox", "scratch"):
        assert f"delete schema {catalog_name}.{schema}" in applied.stderr
    assert "HTTP 400" not in applied.output and "Traceback" not in applied.output
    assert rest.status(f"/functions/{catalog_name}.sandbox.late") == 200
    assert rest.status(f"/schemas/{catalog_name}.scratch") == 200
