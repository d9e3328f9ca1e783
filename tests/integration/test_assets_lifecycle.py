"""Tables, volumes and functions through ucgov end to end, against the real 0.6.0 server.

Each test is one story a user lives: specs declare what is inside a schema, `ucgov plan` shows it,
`ucgov apply` makes it (or a saved plan does), and what the server holds afterwards is read back
through its REST API, not through ucgov. The estate ucgov did not make is built through REST, as
another tool would build it. The facts about the server these stories rely on are pinned in
test_server_assets.py.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

COLUMN = {"name": "id", "type_name": "INT", "type_text": "int", "position": 0, "nullable": True}
COLUMN["type_json"] = '{"name":"id","type":"integer","nullable":true,"metadata":{}}'


def files() -> Path:
    return Path(tempfile.mkdtemp(prefix="ucgov-lifecycle-"))


def local(uri: str) -> Path:
    return Path(urllib.parse.urlparse(uri).path)


def changes(ucgov, specs: Path) -> list[tuple[str, str, str]]:
    """The plan's changes as (action, kind, address)."""
    planned = ucgov("plan", str(specs), "--format", "json")
    assert planned.exit_code == 0, planned.output
    return [(c["action"], c["kind"], c["address"]) for c in json.loads(planned.stdout)["changes"]]


def no_changes(ucgov, specs: Path) -> None:
    again = ucgov("plan", str(specs), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def applied(ucgov, specs: Path, *more: str) -> str:
    result = ucgov("apply", str(specs), "--auto-approve", *more)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def estate(rest, catalog: str, schema: str = "s") -> dict:
    """A catalog and schema made through REST, with the keys a table, volume or function needs."""
    rest.post("/catalogs", {"name": catalog})
    rest.post("/schemas", {"name": schema, "catalog_name": catalog})
    return {"catalog_name": catalog, "schema_name": schema}


def rest_table(rest, where: dict, name: str) -> str:
    """An external Delta table made through REST; its full name."""
    body = {"name": name, **where, "table_type": "EXTERNAL", "data_source_format": "DELTA", "columns": [COLUMN]}
    rest.post("/tables", {**body, "storage_location": (files() / name).as_uri()})
    return f"{where['catalog_name']}.{where['schema_name']}.{name}"


def rest_function(rest, where: dict, name: str) -> str:
    """A Python function of no parameter made through REST; its full name."""
    info = {
        "name": name, **where, "input_params": {"parameters": []}, "data_type": "INT", "full_data_type": "INT",
        "routine_body": "EXTERNAL", "routine_definition": "return 1", "external_language": "python",
        "parameter_style": "S", "is_deterministic": True, "sql_data_access": "NO_SQL", "is_null_call": False,
        "security_type": "DEFINER", "specific_name": name,
    }  # fmt: skip
    rest.post("/functions", {"function_info": info})
    return f"{where['catalog_name']}.{where['schema_name']}.{name}"


def volume_names(rest, catalog: str, schema: str = "s") -> list[str]:
    """The volumes the server lists in the schema (a missing volume's GET is an HTTP 500, so never asked)."""
    listed = rest.get(f"/volumes?catalog_name={catalog}&schema_name={schema}")
    return [v["name"] for v in listed.get("volumes") or ()]


def volume(rest, catalog: str, name: str, schema: str = "s") -> dict:
    return rest.get(f"/volumes/{catalog}.{schema}.{name}")


def managed_volume_spec(catalog: str, root: str, body: str) -> str:
    return f"""
settings: {{prune: true}}
catalogs:
  {catalog}:
    storage_root: {root}
    schemas:
      s:
        volumes:
{body}"""


# --- volumes: created, granted, changed, deleted --------------------------------------------------


def test_a_managed_volume_is_created_granted_changed_and_deleted_with_its_files(
    ucgov, rest, server, write_spec, tmp_path, catalog_name
):
    root = f"{server.managed_root}/{catalog_name}"
    first = "          raw:\n            comment: Raw files\n            grants: {alice@example.com: [READ VOLUME]}\n"
    specs = write_spec(managed_volume_spec(catalog_name, root, first))

    assert changes(ucgov, specs) == [
        ("create", "catalog", catalog_name),
        ("create", "schema", f"{catalog_name}.s"),
        ("create", "volume", f"{catalog_name}.s.raw"),
        ("grant", "volume", f"{catalog_name}.s.raw"),
    ]
    applied(ucgov, specs)
    made = volume(rest, catalog_name, "raw")
    assert (made["volume_type"], made["comment"]) == ("MANAGED", "Raw files")
    assert made["storage_location"].startswith(f"{root}/__unitystorage/")
    assert rest.grants("volume", f"{catalog_name}.s.raw") == {"alice@example.com": {"READ VOLUME"}}
    no_changes(ucgov, specs)

    specs = write_spec(managed_volume_spec(catalog_name, root, first.replace("Raw files", "Landing zone")))
    assert changes(ucgov, specs) == [("update", "volume", f"{catalog_name}.s.raw")]
    plan_file = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    result = ucgov("apply", "--plan", str(plan_file), str(specs), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert volume(rest, catalog_name, "raw")["comment"] == "Landing zone"
    no_changes(ucgov, specs)

    folder = local(made["storage_location"])
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_text("1\n")
    specs = write_spec(
        managed_volume_spec(catalog_name, root, "          {}\n").replace("volumes:\n          {}", "volumes: {}")
    )
    planned = ucgov("plan", str(specs))
    assert f"- volume {catalog_name}.s.raw" in planned.output
    assert f"its files at {made['storage_location']} go with it" in planned.output
    refused = ucgov("apply", str(specs), "--auto-approve")
    assert refused.exit_code != 0 and volume_names(rest, catalog_name) == ["raw"]

    applied(ucgov, specs, "--allow-destroy")
    assert volume_names(rest, catalog_name) == []
    assert not folder.exists()
    no_changes(ucgov, specs)


def test_an_external_volume_is_created_where_the_spec_says_and_its_files_stay_when_it_goes(
    ucgov, rest, write_spec, catalog_name
):
    where = files() / "raw"
    where.mkdir()
    (where / "data.csv").write_text("1\n")
    declared = f"""
settings: {{prune: true}}
catalogs:
  {catalog_name}:
    schemas:
      s:
        volumes:
          raw:
            volume_type: EXTERNAL
            storage_location: {where.as_uri()}
            grants: {{bob@example.com: [READ VOLUME]}}
"""
    specs = write_spec(declared)

    applied(ucgov, specs)
    made = volume(rest, catalog_name, "raw")
    assert (made["volume_type"], made["storage_location"]) == ("EXTERNAL", where.as_uri())
    assert rest.grants("volume", f"{catalog_name}.s.raw") == {"bob@example.com": {"READ VOLUME"}}
    no_changes(ucgov, specs)

    specs = write_spec(declared.split("        volumes:")[0])
    planned = ucgov("plan", str(specs))
    assert f"- volume {catalog_name}.s.raw" in planned.output and "go with it" not in planned.output
    applied(ucgov, specs, "--allow-destroy")
    assert volume_names(rest, catalog_name) == []
    assert (where / "data.csv").read_text() == "1\n"
    no_changes(ucgov, specs)


def test_a_volume_another_tool_deleted_since_the_plan_is_done_without_waiting_on_the_server(
    ucgov, rest, write_spec, tmp_path, catalog_name
):
    where = estate(rest, catalog_name)
    rest.post("/volumes", {"name": "raw", **where, "volume_type": "EXTERNAL", "storage_location": files().as_uri()})
    specs = write_spec(f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}:\n    schemas:\n      s: {{}}\n")
    plan_file = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    assert rest.http.delete(f"/volumes/{catalog_name}.s.raw").status_code == 200

    started = time.monotonic()
    result = ucgov("apply", "--plan", str(plan_file), "--auto-approve", "--allow-destroy")

    assert result.exit_code == 0, result.output
    assert f"already done: delete volume {catalog_name}.s.raw" in result.output
    assert time.monotonic() - started < 20  # a missing volume's HTTP 500 is not retried for a minute


def test_a_missing_volume_reads_as_absent_and_every_request_about_it_answers_at_once(server, rest, catalog_name):
    from ucgov.client import UCClient
    from ucgov.errors import ApiError
    from ucgov.kinds import Kind

    estate(rest, catalog_name)
    client = UCClient(server.url, token=server.token)
    name = f"{catalog_name}.s.nope"
    started = time.monotonic()

    assert client.get_securable(Kind.VOLUME, name) is None
    assert client.get_securable(Kind.VOLUME, f"{catalog_name}.nope.v") is None  # SCHEMA_NOT_FOUND: absent too
    assert client.get_securable(Kind.VOLUME, f"{catalog_name}_nope.s.v") is None
    client.delete_securable(Kind.VOLUME, name)  # gone already: done
    for request in (
        lambda: client.get_grants(Kind.VOLUME, name),
        lambda: client.update_securable(Kind.VOLUME, name, {"comment": "x"}),
        lambda: client.update_grants(Kind.VOLUME, name, [{"principal": "alice@example.com", "add": ["READ VOLUME"]}]),
    ):
        with pytest.raises(ApiError, match=f"there is no volume {name} on the server") as raised:
            request()
        assert raised.value.not_found
    assert time.monotonic() - started < 10


# --- tables and functions: governed where they exist, created from a full definition --------------


def table_spec(catalog: str, table: str, settings: str = "") -> str:
    return f"{settings}catalogs:\n  {catalog}:\n    schemas:\n      s:\n        tables:\n          {table}"


def test_an_existing_tables_grants_are_governed_in_every_grants_mode(ucgov, rest, write_spec, catalog_name):
    events = rest_table(rest, estate(rest, catalog_name), "events")
    rest.patch_grants("table", events, "bob@example.com", add=["SELECT"])
    wanted = ":\n            grants: {alice@example.com: [SELECT, MODIFY]}\n"

    unmanaged = write_spec(table_spec(catalog_name, "events", "") + ": {}\n")
    no_changes(ucgov, unmanaged)

    additive = write_spec(table_spec(catalog_name, "events", "settings: {grants_mode: additive}\n") + wanted)
    assert changes(ucgov, additive) == [("grant", "table", events)]
    applied(ucgov, additive)
    assert rest.grants("table", events) == {"alice@example.com": {"SELECT", "MODIFY"}, "bob@example.com": {"SELECT"}}
    no_changes(ucgov, additive)

    authoritative = write_spec(table_spec(catalog_name, "events") + wanted)
    assert changes(ucgov, authoritative) == [("revoke", "table", events)]
    applied(ucgov, authoritative)
    assert rest.grants("table", events) == {"alice@example.com": {"SELECT", "MODIFY"}}
    no_changes(ucgov, authoritative)
    assert rest.status(f"/tables/{events}") == 200


def test_a_table_declared_with_its_columns_is_created_and_then_plans_no_changes(ucgov, rest, write_spec, catalog_name):
    where = (files() / "events").as_uri()
    definition = f""":
            comment: Click events
            storage_location: {where}
            columns:
              - {{name: id, type: LONG, nullable: false, comment: key}}
              - {{name: at, type: timestamp}}
              - {{name: what, type: STRING}}
            grants: {{alice@example.com: [SELECT]}}
"""
    specs = write_spec(table_spec(catalog_name, "events") + definition)

    assert changes(ucgov, specs)[2:] == [
        ("create", "table", f"{catalog_name}.s.events"),
        ("grant", "table", f"{catalog_name}.s.events"),
    ]
    applied(ucgov, specs)
    made = rest.get(f"/tables/{catalog_name}.s.events")
    assert (made["table_type"], made["data_source_format"], made["storage_location"]) == ("EXTERNAL", "DELTA", where)
    assert [(c["name"], c["type_name"], c["nullable"]) for c in made["columns"]] == [
        ("id", "LONG", False), ("at", "TIMESTAMP", True), ("what", "STRING", True)
    ]  # fmt: skip
    assert made["comment"] == "Click events"
    assert rest.grants("table", f"{catalog_name}.s.events") == {"alice@example.com": {"SELECT"}}
    no_changes(ucgov, specs)


def function_spec(catalog: str, name: str, body: str) -> str:
    return f"catalogs:\n  {catalog}:\n    schemas:\n      s:\n        functions:\n          {name}:\n{body}"


@pytest.mark.parametrize(
    ("language", "body", "routine", "external"),
    [("SQL", "x + 1", "SQL", None), ("PYTHON", "return x + 1", "EXTERNAL", "python")],
    ids=["sql", "python"],
)
def test_a_function_declared_with_its_definition_is_created_and_then_plans_no_changes(
    ucgov, rest, write_spec, catalog_name, language, body, routine, external
):
    declared = f"""            comment: Adds one
            parameters: [{{name: x, type: INT}}]
            returns: INT
            language: {language}
            body: "{body}"
            grants: {{serving-app@example.com: [EXECUTE]}}
"""
    specs = write_spec(function_spec(catalog_name, "add_one", declared))

    assert changes(ucgov, specs)[2:] == [
        ("create", "function", f"{catalog_name}.s.add_one"),
        ("grant", "function", f"{catalog_name}.s.add_one"),
    ]
    applied(ucgov, specs)
    made = rest.get(f"/functions/{catalog_name}.s.add_one")
    assert (made["routine_body"], made["external_language"], made["routine_definition"]) == (routine, external, body)
    assert [(p["name"], p["type_name"]) for p in made["input_params"]["parameters"]] == [("x", "INT")]
    assert (made["data_type"], made["comment"]) == ("INT", "Adds one")
    assert rest.grants("function", f"{catalog_name}.s.add_one") == {"serving-app@example.com": {"EXECUTE"}}
    no_changes(ucgov, specs)


def test_a_declared_table_that_does_not_exist_and_has_no_columns_is_a_plan_error_at_its_line(
    ucgov, rest, write_spec, catalog_name
):
    estate(rest, catalog_name)
    specs = write_spec(table_spec(catalog_name, "ghost") + ":\n            grants: {alice@example.com: [SELECT]}\n")

    planned = ucgov("plan", str(specs))

    assert planned.exit_code == 1
    assert f"spec.yaml:6:11: table {catalog_name}.s.ghost does not exist on the server" in planned.output
    assert "give its columns" in planned.output
    assert "Traceback" not in planned.output
    assert rest.status(f"/tables/{catalog_name}.s.ghost") == 404


def test_changing_a_volumes_storage_location_is_refused_in_one_sentence(ucgov, rest, write_spec, catalog_name):
    first, second = (files() / "raw").as_uri(), (files() / "moved").as_uri()
    declared = f"""catalogs:
  {catalog_name}:
    schemas:
      s:
        volumes:
          raw:
            volume_type: EXTERNAL
            storage_location: {first}
"""
    applied(ucgov, write_spec(declared))

    planned = ucgov("plan", str(write_spec(declared.replace(first, second))))

    assert planned.exit_code == 1
    [line] = [line for line in planned.output.splitlines() if "storage_location cannot change" in line]
    assert f"spec.yaml:8:31: volume {catalog_name}.s.raw: storage_location cannot change once it is created" in line
    assert f'(the server has "{first}", the spec says "{second}")' in line
    assert volume(rest, catalog_name, "raw")["storage_location"] == first


def test_changing_a_functions_body_is_refused_in_one_sentence(ucgov, rest, write_spec, catalog_name):
    declared = '            parameters: [{name: x, type: INT}]\n            returns: INT\n            body: "x + 1"\n'
    applied(ucgov, write_spec(function_spec(catalog_name, "add_one", declared)))

    planned = ucgov("plan", str(write_spec(function_spec(catalog_name, "add_one", declared.replace("x + 1", "x + 2")))))

    assert planned.exit_code == 1
    [line] = [line for line in planned.output.splitlines() if "body cannot change" in line]
    assert f"spec.yaml:9:19: function {catalog_name}.s.add_one: body cannot change once it is created" in line
    assert '(the server has "x + 1", the spec says "x + 2")' in line
    assert rest.get(f"/functions/{catalog_name}.s.add_one")["routine_definition"] == "x + 1"


# --- a model and a volume of one name --------------------------------------------------------------


def test_a_model_and_a_volume_of_one_name_keep_separate_grants_planned_saved_and_applied(
    ucgov, rest, write_spec, tmp_path, catalog_name
):
    where = (files() / "scores").as_uri()
    declared = f"""catalogs:
  {catalog_name}:
    schemas:
      s:
        models:
          scores:
            comment: the model
            grants: {{serving-app@example.com: [EXECUTE]}}
        volumes:
          scores:
            volume_type: EXTERNAL
            storage_location: {where}
            comment: the files
            grants: {{alice@example.com: [READ VOLUME]}}
"""
    specs = write_spec(declared)
    name = f"{catalog_name}.s.scores"
    assert changes(ucgov, specs)[2:] == [
        ("create", "model", name),
        ("create", "volume", name),
        ("grant", "model", name),
        ("grant", "volume", name),
    ]
    plan_file = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0

    result = ucgov("apply", "--plan", str(plan_file), str(specs), "--auto-approve")

    assert result.exit_code == 0, result.output
    assert rest.get(f"/models/{name}")["comment"] == "the model"
    assert volume(rest, catalog_name, "scores")["comment"] == "the files"
    assert rest.grants("registered_model", name) == {"serving-app@example.com": {"EXECUTE"}}
    assert rest.grants("volume", name) == {"alice@example.com": {"READ VOLUME"}}
    no_changes(ucgov, specs)

    swapped = declared.replace("serving-app@example.com: [EXECUTE]", "bob@example.com: [EXECUTE]")
    specs = write_spec(swapped.replace("alice@example.com: [READ VOLUME]", "carol@example.com: [READ VOLUME]"))
    assert sorted(changes(ucgov, specs)) == [
        ("grant", "model", name),
        ("grant", "volume", name),
        ("revoke", "model", name),
        ("revoke", "volume", name),
    ]
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    result = ucgov("apply", "--plan", str(plan_file), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert rest.grants("registered_model", name) == {"bob@example.com": {"EXECUTE"}}
    assert rest.grants("volume", name) == {"carol@example.com": {"READ VOLUME"}}
    applied(ucgov, specs)  # nothing left to do
    no_changes(ucgov, specs)


# --- prune: what goes, what stays and why ---------------------------------------------------------


def test_prune_never_plans_a_schema_holding_an_undeclared_table_or_function_as_empty(
    ucgov, rest, write_spec, catalog_name
):
    events = rest_table(rest, estate(rest, catalog_name, "tables_only"), "events")
    rest.post("/schemas", {"name": "code_only", "catalog_name": catalog_name})
    score = rest_function(rest, {"catalog_name": catalog_name, "schema_name": "code_only"}, "score")
    rest.post("/schemas", {"name": "empty", "catalog_name": catalog_name})
    specs = write_spec(f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}: {{}}\n")

    planned = json.loads(ucgov("plan", str(specs), "--format", "json").stdout)

    assert [(c["action"], c["address"]) for c in planned["changes"]] == [("delete", f"{catalog_name}.empty")]
    assert (
        f"schema {catalog_name}.tables_only is kept: it holds table {events}, which ucgov does not delete"
        in (planned["warnings"])
    )
    assert (
        f"schema {catalog_name}.code_only is kept: it holds function {score}, which ucgov does not delete"
        in (planned["warnings"])
    )
    applied(ucgov, specs, "--allow-destroy")
    assert [s["name"] for s in rest.get(f"/schemas?catalog_name={catalog_name}")["schemas"]] == [
        "code_only", "tables_only"
    ]  # fmt: skip
    assert (rest.status(f"/tables/{events}"), rest.status(f"/functions/{score}")) == (200, 200)
    no_changes(ucgov, specs)


def test_a_dropped_volume_and_model_go_and_their_schema_stays_for_the_table_no_spec_declares(
    ucgov, rest, write_spec, catalog_name
):
    declared = f"""settings: {{prune: true}}
catalogs:
  {catalog_name}:
    schemas:
      sandbox:
        models:
          scratch: {{grants: {{bob@example.com: [EXECUTE]}}}}
        volumes:
          raw:
            volume_type: EXTERNAL
            storage_location: {(files() / "raw").as_uri()}
            grants: {{alice@example.com: [READ VOLUME]}}
"""
    applied(ucgov, write_spec(declared))
    events = rest_table(rest, {"catalog_name": catalog_name, "schema_name": "sandbox"}, "events")
    specs = write_spec(f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}: {{}}\n")

    planned = json.loads(ucgov("plan", str(specs), "--format", "json").stdout)
    assert sorted((c["action"], c["kind"], c["address"]) for c in planned["changes"]) == [
        ("delete", "model", f"{catalog_name}.sandbox.scratch"),
        ("delete", "volume", f"{catalog_name}.sandbox.raw"),
    ]
    kept = f"schema {catalog_name}.sandbox is kept: it holds table {events}, which ucgov does not delete"
    assert kept in planned["warnings"]
    text = ucgov("plan", str(specs)).output
    assert kept in text and f"- schema {catalog_name}.sandbox" not in text

    output = applied(ucgov, specs, "--allow-destroy")

    assert kept in output
    assert rest.status(f"/models/{catalog_name}.sandbox.scratch") == 404
    assert volume_names(rest, catalog_name, "sandbox") == []
    assert rest.status(f"/schemas/{catalog_name}.sandbox") == 200
    assert rest.status(f"/tables/{events}") == 200
    no_changes(ucgov, specs)


def test_a_table_made_after_the_plan_was_saved_makes_apply_refuse_the_schemas_delete_as_stale(
    ucgov, rest, write_spec, tmp_path, catalog_name
):
    estate(rest, catalog_name, "scratch")
    specs = write_spec(f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}: {{}}\n")
    plan_file = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    late = rest_table(rest, {"catalog_name": catalog_name, "schema_name": "scratch"}, "late")

    result = ucgov("apply", "--plan", str(plan_file), "--auto-approve", "--allow-destroy")

    assert result.exit_code == 1, result.output
    assert "stale plan" in result.output
    assert f"delete schema {catalog_name}.scratch" in result.output
    assert "HTTP 400" not in result.output and "Traceback" not in result.output
    assert rest.status(f"/schemas/{catalog_name}.scratch") == 200
    assert rest.status(f"/tables/{late}") == 200


def test_show_unmanaged_lists_undeclared_tables_volumes_and_functions_by_kind(ucgov, rest, write_spec, catalog_name):
    where = estate(rest, catalog_name)
    events = rest_table(rest, where, "events")
    score = rest_function(rest, where, "score")
    rest.post("/volumes", {"name": "raw", **where, "volume_type": "EXTERNAL", "storage_location": files().as_uri()})
    rest.post("/volumes", {"name": "kept", **where, "volume_type": "EXTERNAL", "storage_location": files().as_uri()})
    specs = write_spec(
        f"catalogs:\n  {catalog_name}:\n    schemas:\n      s:\n        volumes:\n          kept: {{}}\n"
    )

    text = ucgov("plan", str(specs), "--show-unmanaged").output

    for line in (f"? table {events}", f"? volume {catalog_name}.s.raw", f"? function {score}"):
        assert line in text
    assert f"? volume {catalog_name}.s.kept" not in text
    listed = json.loads(ucgov("plan", str(specs), "--show-unmanaged", "--format", "json").stdout)["unmanaged"]
    assert [(o["kind"], o["address"]) for o in listed["objects"] if o["address"].startswith(f"{catalog_name}.")] == [
        ("table", events), ("volume", f"{catalog_name}.s.raw"), ("function", score)
    ]  # fmt: skip


# --- locations as people write them ----------------------------------------------------------------


def test_locations_written_as_paths_plan_no_changes_once_the_server_has_made_them_urls(
    ucgov, rest, server, write_spec, catalog_name
):
    root = local(server.managed_root)  # a plain path, as a person writes one
    raw, events = files(), files()
    declared = f"""catalogs:
  {catalog_name}:
    storage_root: {root}/{catalog_name}/
    schemas:
      s:
        volumes:
          managed: {{}}
          raw:
            volume_type: EXTERNAL
            storage_location: {raw}//landing/./zone/
        tables:
          events:
            storage_location: {events.as_uri()}/x/../events/
            columns: [{{name: id, type: INT}}]
"""
    specs = write_spec(declared)

    applied(ucgov, specs)

    assert rest.get(f"/catalogs/{catalog_name}")["storage_root"] == f"{server.managed_root}/{catalog_name}"
    assert volume(rest, catalog_name, "raw")["storage_location"] == f"{raw.as_uri()}/landing/zone"
    assert rest.get(f"/tables/{catalog_name}.s.events")["storage_location"] == f"{events.as_uri()}/events"
    no_changes(ucgov, specs)


# --- creates the server would refuse are plan errors, never a half-made apply -------------------------


def test_a_managed_volume_where_neither_schema_nor_catalog_has_a_storage_root_is_a_plan_error(
    ucgov, rest, server, write_spec, catalog_name
):
    declared = f"catalogs:\n  {catalog_name}:\n    schemas:\n      s:\n        volumes:\n          raw: {{}}\n"
    specs = write_spec(declared)

    planned = ucgov("plan", str(specs))

    assert planned.exit_code == 1
    assert f"spec.yaml:6:11: volume {catalog_name}.s.raw is MANAGED, but neither schema {catalog_name}.s nor " in (
        planned.output
    )
    assert "Traceback" not in planned.output
    assert ucgov("apply", str(specs), "--auto-approve").exit_code == 1
    assert rest.status(f"/catalogs/{catalog_name}") == 404  # nothing half-made
    rooted = declared.replace(
        f"{catalog_name}:\n", f"{catalog_name}:\n    storage_root: {server.managed_root}/{catalog_name}\n"
    )
    applied(ucgov, write_spec(rooted))
    assert volume(rest, catalog_name, "raw")["volume_type"] == "MANAGED"


def test_a_managed_table_ucgov_cannot_make_is_a_plan_error_and_an_existing_one_is_governed(
    ucgov, rest, write_spec, catalog_name
):
    where = estate(rest, catalog_name)
    staged = rest.post("/staging-tables", {"name": "made", **where})
    made = {"name": "made", **where, "table_type": "MANAGED", "data_source_format": "DELTA", "columns": [COLUMN]}
    made |= {"storage_location": staged["staging_location"], "properties": {"io.unitycatalog.tableId": staged["id"]}}
    rest.post("/tables", made)
    declared = f"""catalogs:
  {catalog_name}:
    schemas:
      s:
        tables:
          made:
            table_type: MANAGED
            grants: {{alice@example.com: [SELECT]}}
          new:
            table_type: MANAGED
            columns: [{{name: id, type: INT}}]
"""
    planned = ucgov("plan", str(write_spec(declared)))

    assert planned.exit_code == 1
    assert f"spec.yaml:10:25: table {catalog_name}.s.new is MANAGED: ucgov cannot create a managed table" in (
        planned.output
    )
    assert "made" not in planned.output
    specs = write_spec(declared.split("          new:")[0])
    assert changes(ucgov, specs) == [("grant", "table", f"{catalog_name}.s.made")]
    applied(ucgov, specs)
    assert rest.grants("table", f"{catalog_name}.s.made") == {"alice@example.com": {"SELECT"}}
    no_changes(ucgov, specs)


# --- requests about volumes, through a proxy that counts and breaks them -----------------------------


@pytest.fixture
def proxy(server):
    from faultproxy import FaultProxy

    started = FaultProxy(server.url)
    yield started
    started.close()


def three_volumes(rest, catalog: str, comment: str) -> str:
    """Volumes a, b and c made through REST; a spec declaring them with ``comment``."""
    where = estate(rest, catalog)
    body = ""
    for name in ("a", "b", "c"):
        location = (files() / name).as_uri()
        rest.post("/volumes", {"name": name, **where, "volume_type": "EXTERNAL", "storage_location": location})
        body += f"          {name}: {{volume_type: EXTERNAL, storage_location: {location}, comment: {comment}}}\n"
    return f"catalogs:\n  {catalog}:\n    schemas:\n      s:\n        volumes:\n{body}"


def test_a_saved_plan_reads_the_volumes_it_changes_through_one_listing_of_their_schema(
    ucgov, rest, proxy, write_spec, tmp_path, catalog_name
):
    specs = write_spec(three_volumes(rest, catalog_name, "landing"))
    plan_file = tmp_path / "plan.json"
    env = {"UCGOV_URL": proxy.url}
    assert ucgov("plan", str(specs), "--out", str(plan_file), env=env).exit_code == 0
    proxy.log.clear()

    result = ucgov("apply", "--plan", str(plan_file), "--auto-approve", env=env)

    assert result.exit_code == 0, result.output
    assert [volume(rest, catalog_name, n)["comment"] for n in ("a", "b", "c")] == ["landing"] * 3
    listings = proxy.sent("GET", r"^/api/2\.1/unity-catalog/volumes\?")
    assert len(listings) == 1 + 3  # one to check the plan, then one just before each update
    assert not proxy.sent("GET", r"^/api/2\.1/unity-catalog/volumes/")  # a GET cannot tell "missing"


def test_a_server_error_changing_a_live_volume_is_settled_by_its_listing_and_asked_again(
    ucgov, rest, proxy, write_spec, catalog_name
):
    from faultproxy import Fault

    specs = write_spec(three_volumes(rest, catalog_name, "landing"))
    proxy.inject("PATCH", rf"/volumes/{catalog_name}\.s\.a$", Fault(status=500))
    started = time.monotonic()

    result = ucgov("apply", str(specs), "--auto-approve", env={"UCGOV_URL": proxy.url})

    assert result.exit_code == 0, result.output
    assert volume(rest, catalog_name, "a")["comment"] == "landing"
    assert len(proxy.sent("PATCH", rf"/volumes/{catalog_name}\.s\.a$")) == 1  # the 500 never reached it
    assert time.monotonic() - started < 20


def test_a_volume_delete_whose_answer_was_lost_is_done_once_the_listing_shows_it_gone(
    ucgov, rest, proxy, write_spec, catalog_name
):
    from faultproxy import Fault

    three_volumes(rest, catalog_name, "x")
    specs = write_spec(f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}:\n    schemas:\n      s: {{}}\n")
    proxy.inject("DELETE", rf"/volumes/{catalog_name}\.s\.b$", Fault(reset_after=True))
    started = time.monotonic()

    result = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy", env={"UCGOV_URL": proxy.url})

    assert result.exit_code == 0, result.output
    assert volume_names(rest, catalog_name) == []
    assert len(proxy.sent("DELETE", rf"/volumes/{catalog_name}\.s\.b$")) == 1  # not repeated blindly
    assert time.monotonic() - started < 20


def test_a_volume_over_another_objects_location_is_refused_naming_the_location_not_only_a_privilege(
    ucgov, rest, write_spec, catalog_name
):
    events = rest_table(rest, estate(rest, catalog_name), "events")
    taken = rest.get(f"/tables/{events}")["storage_location"]
    declared = f"catalogs:\n  {catalog_name}:\n    schemas:\n      s:\n        volumes:\n          raw:\n"
    declared += f"            volume_type: EXTERNAL\n            storage_location: {taken}/raw\n"

    result = ucgov("apply", str(write_spec(declared)), "--auto-approve")

    assert result.exit_code != 0
    assert f"when storage_location {taken}/raw overlaps the location of another table or volume" in result.output
    assert "Traceback" not in result.output
    assert volume_names(rest, catalog_name) == []
