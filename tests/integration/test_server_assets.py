"""What the real 0.6.0 server does with tables, volumes and functions: the facts ucgov relies on.

Each test pins one behaviour through the server's REST API (no ucgov code in between), so that
a server upgrade that changes it fails here, by name, before it surprises a plan or an apply.
Managed storage is the sandbox's: a catalog or schema gets a ``storage_root`` under
``server.managed_root`` (the external location the sandbox registers), managed tables fall back
to ``server.tables_root``.
"""

from __future__ import annotations

import tempfile
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

API = "/api/2.1/unity-catalog"
COLUMN = {"name": "id", "type_name": "INT", "type_text": "INT", "position": 0, "nullable": True, "comment": "key"}
COLUMN["type_json"] = '{"name":"id","type":"integer","nullable":true,"metadata":{}}'
PARAM = {"name": "x", "type_name": "INT", "type_text": "int", "position": 0, "parameter_mode": "IN"}
PARAM |= {"parameter_type": "PARAM", "type_json": '{"name":"x","type":"integer","nullable":true,"metadata":{}}'}
PRIVILEGES = [
    "CREATE CATALOG", "USE CATALOG", "CREATE SCHEMA", "USE SCHEMA", "CREATE TABLE", "SELECT", "MODIFY",
    "CREATE FUNCTION", "EXECUTE", "CREATE VOLUME", "READ VOLUME", "CREATE MODEL", "CREATE EXTERNAL LOCATION",
    "READ FILES", "WRITE FILES", "CREATE EXTERNAL TABLE", "CREATE EXTERNAL VOLUME", "CREATE MANAGED STORAGE",
    "CREATE STORAGE CREDENTIAL",
]  # fmt: skip
VOLUME_KEYS = {"catalog_name", "schema_name", "name", "full_name", "volume_id", "volume_type", "storage_location"}
VOLUME_KEYS |= {"comment", "owner", "created_at", "created_by", "updated_at", "updated_by"}


def files() -> Path:
    return Path(tempfile.mkdtemp(prefix="ucgov-assets-"))


def local(uri: str) -> Path:
    return Path(urllib.parse.urlparse(uri).path)


def rooted_catalog(rest, server, catalog: str) -> dict:
    """A catalog with a storage root in the sandbox's managed storage, and its schema `s`."""
    created = rest.post("/catalogs", {"name": catalog, "storage_root": f"{server.managed_root}/{catalog}"})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog})
    return created


def plain_catalog(rest, catalog: str) -> None:
    rest.post("/catalogs", {"name": catalog})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog})


def volume(catalog: str, name: str, volume_type: str, **more) -> dict:
    return {"name": name, "catalog_name": catalog, "schema_name": "s", "volume_type": volume_type, **more}


def external_table(catalog: str, name: str, location: str, **more) -> dict:
    where = {"name": name, "catalog_name": catalog, "schema_name": "s", "table_type": "EXTERNAL"}
    return {**where, "data_source_format": "DELTA", "columns": [COLUMN], "storage_location": location, **more}


def sql_function(catalog: str, name: str) -> dict:
    """A SQL function of one INT parameter; SQL needs no external_language."""
    return {
        "name": name,
        "catalog_name": catalog,
        "schema_name": "s",
        "input_params": {"parameters": [PARAM]},
        "data_type": "INT",
        "full_data_type": "INT",
        "routine_body": "SQL",
        "routine_definition": "x + 1",
        "parameter_style": "S",
        "is_deterministic": True,
        "sql_data_access": "CONTAINS_SQL",
        "is_null_call": False,
        "security_type": "DEFINER",
        "specific_name": name,
        "comment": "adds one",
    }


def python_function(catalog: str, name: str) -> dict:
    """A Python function: routine_body EXTERNAL, external_language python, the body as the definition."""
    return {
        **sql_function(catalog, name),
        "routine_body": "EXTERNAL",
        "routine_definition": "return x + 1",
        "external_language": "python",
        "sql_data_access": "NO_SQL",
    }


def error(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error_code"], body["message"]


# --- managed and external volumes ---------------------------------------------------------------


def test_a_managed_volume_needs_its_catalog_or_schema_to_have_a_storage_root(rest, catalog_name):
    plain_catalog(rest, catalog_name)  # the server's storage-root.* settings do not count for volumes

    refused = rest.http.post("/volumes", json=volume(catalog_name, "v", "MANAGED"))

    message = "None of catalog, schema or storage-root.tables server property has managed location configured."
    assert error(refused) == (400, "FAILED_PRECONDITION", message)


def test_a_managed_volume_lands_under_its_catalogs_storage_root_and_no_folder_is_made(rest, server, catalog_name):
    catalog = rooted_catalog(rest, server, catalog_name)
    root = f"{server.managed_root}/{catalog_name}"
    assert catalog["storage_root"] == root
    assert catalog["storage_location"] == f"{root}/__unitystorage/catalogs/{catalog['id']}"

    created = rest.post("/volumes", volume(catalog_name, "v", "MANAGED"))

    assert created["volume_type"] == "MANAGED"
    assert created["storage_location"] == f"{catalog['storage_location']}/volumes/{created['volume_id']}"
    assert not local(created["storage_location"]).exists()  # the server writes no folder for it


def test_a_managed_volume_lands_under_its_schemas_storage_root_first(rest, server, catalog_name):
    rooted_catalog(rest, server, catalog_name)
    schema = rest.post(
        "/schemas",
        {"name": "own", "catalog_name": catalog_name, "storage_root": f"{server.managed_root}/{catalog_name}-own"},
    )

    created = rest.post("/volumes", {**volume(catalog_name, "v", "MANAGED"), "schema_name": "own"})

    assert (
        schema["storage_location"]
        == f"{server.managed_root}/{catalog_name}-own/__unitystorage/schemas/{schema['schema_id']}"
    )
    assert created["storage_location"] == f"{schema['storage_location']}/volumes/{created['volume_id']}"


def test_with_s3_storage_a_managed_volume_lands_in_the_bucket(s3_rest, s3_server, catalog_name):
    catalog = rooted_catalog(s3_rest, s3_server, catalog_name)

    created = s3_rest.post("/volumes", volume(catalog_name, "v", "MANAGED"))

    assert s3_server.managed_root == "s3://ucgov-sandbox/managed"
    assert created["storage_location"] == f"{catalog['storage_location']}/volumes/{created['volume_id']}"
    assert created["storage_location"].startswith(f"s3://ucgov-sandbox/managed/{catalog_name}/__unitystorage/")


def test_with_s3_storage_deleting_a_managed_volume_leaves_its_objects(s3_rest, s3_server, catalog_name):
    import boto3

    rooted_catalog(s3_rest, s3_server, catalog_name)
    created = s3_rest.post("/volumes", volume(catalog_name, "v", "MANAGED"))
    bucket, _, prefix = created["storage_location"].removeprefix("s3://").partition("/")
    s3 = boto3.client(
        "s3", endpoint_url=s3_server.s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    s3.put_object(Bucket=bucket, Key=f"{prefix}/data.csv", Body=b"1\n")

    assert s3_rest.http.delete(f"/volumes/{catalog_name}.s.v").status_code == 200

    # unlike in file: storage, where its folder goes (test_deleting_a_managed_volume_removes_its_files)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]] == [f"{prefix}/data.csv"]


@pytest.mark.parametrize("inside", ["", "/sub"])
def test_a_location_overlapping_another_objects_is_refused_as_access_denied(rest, catalog_name, inside):
    plain_catalog(rest, catalog_name)
    taken = (files() / "raw").as_uri()
    rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=taken))

    refused = rest.http.post("/tables", json=external_table(catalog_name, "t", taken + inside))

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")  # to the admin, too


def test_a_storage_root_outside_the_sandbox_external_location_is_refused(rest, catalog_name):
    refused = rest.http.post("/catalogs", json={"name": catalog_name, "storage_root": files().as_uri()})

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")


def test_a_managed_volume_refuses_a_storage_location(rest, server, catalog_name):
    rooted_catalog(rest, server, catalog_name)

    refused = rest.http.post("/volumes", json=volume(catalog_name, "v", "MANAGED", storage_location=files().as_uri()))

    assert error(refused) == (400, "INVALID_ARGUMENT", "Storage location should not be specified for managed volume")


def test_an_external_volume_requires_a_storage_location_and_keeps_it_as_given(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    refused = rest.http.post("/volumes", json=volume(catalog_name, "v", "EXTERNAL"))
    location = (files() / "raw").as_uri()

    created = rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=location))

    assert error(refused) == (400, "INVALID_ARGUMENT", "Storage location is required for external volume")
    assert (created["volume_type"], created["storage_location"]) == ("EXTERNAL", location)
    assert not local(location).exists()


def test_a_volume_body_has_these_keys(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri(), comment="raw"))

    body = rest.get(f"/volumes/{catalog_name}.s.v")

    assert set(body) == VOLUME_KEYS
    assert (body["full_name"], body["comment"]) == (f"{catalog_name}.s.v", "raw")


def test_patch_volume_changes_the_comment_and_answers_the_whole_volume(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    before = rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri()))

    response = rest.http.patch(f"/volumes/{catalog_name}.s.v", json={"comment": "landing zone"})

    assert response.status_code == 200
    after = response.json()
    assert set(after) == VOLUME_KEYS and after["comment"] == "landing zone"
    assert after["updated_at"] >= before["updated_at"]
    assert {k: v for k, v in after.items() if k not in {"comment", "updated_at"}} == {
        k: v for k, v in before.items() if k not in {"comment", "updated_at"}
    }


def test_patch_volume_ignores_volume_type_and_storage_location_silently(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    before = rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri()))
    change = {"volume_type": "MANAGED", "storage_location": files().as_uri(), "no_such_field": 1}

    response = rest.http.patch(f"/volumes/{catalog_name}.s.v", json=change)

    assert response.status_code == 200
    assert rest.get(f"/volumes/{catalog_name}.s.v") == before  # nothing changed, not even updated_at


def test_patch_volume_comment_can_be_emptied_but_never_cleared_back_to_null(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri(), comment="x"))

    emptied = rest.http.patch(f"/volumes/{catalog_name}.s.v", json={"comment": ""}).json()
    nulled = rest.http.patch(f"/volumes/{catalog_name}.s.v", json={"comment": None}).json()

    assert emptied["comment"] == ""
    assert nulled["comment"] == ""  # null means "leave it": a comment once set is never null again


def test_deleting_a_managed_volume_removes_its_files(rest, server, catalog_name):
    rooted_catalog(rest, server, catalog_name)
    created = rest.post("/volumes", volume(catalog_name, "v", "MANAGED"))
    folder = local(created["storage_location"])
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("1\n")

    response = rest.http.delete(f"/volumes/{catalog_name}.s.v")

    assert (response.status_code, response.text) == (200, "200 OK")  # plain text, not JSON
    assert not folder.exists()
    assert folder.parent.exists()


def test_a_forced_catalog_delete_removes_its_managed_volumes_files(rest, server, catalog_name):
    rooted_catalog(rest, server, catalog_name)
    created = rest.post("/volumes", volume(catalog_name, "v", "MANAGED"))
    folder = local(created["storage_location"])
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("1\n")
    refused = rest.http.delete(f"/schemas/{catalog_name}.s")

    assert rest.http.delete(f"/catalogs/{catalog_name}", params={"force": "true"}).status_code == 200

    assert error(refused) == (400, "FAILED_PRECONDITION", "Cannot delete schema with volumes")
    assert not folder.exists()


def test_patch_catalog_ignores_storage_root_silently(rest, server, catalog_name):
    before = rooted_catalog(rest, server, catalog_name)

    after = rest.http.patch(f"/catalogs/{catalog_name}", json={"storage_root": files().as_uri(), "comment": "x"}).json()

    assert (after["storage_root"], after["storage_location"]) == (before["storage_root"], before["storage_location"])
    assert after["comment"] == "x"


def test_deleting_an_external_volume_leaves_its_files(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    folder = files() / "raw"
    folder.mkdir()
    (folder / "data.csv").write_text("1\n")
    rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=folder.as_uri()))

    assert rest.http.delete(f"/volumes/{catalog_name}.s.v").status_code == 200

    assert (folder / "data.csv").read_text() == "1\n"


def test_patch_volume_new_name_renames_it(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    before = rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri()))

    after = rest.http.patch(f"/volumes/{catalog_name}.s.v", json={"new_name": "w"}).json()

    assert (after["full_name"], after["volume_id"]) == (f"{catalog_name}.s.w", before["volume_id"])


_LOCATIONS = [
    ("{root}/a/", "file://{root}/a"),
    ("file:{root}/a", "file://{root}/a"),
    ("file://{root}//a/./b/../c/", "file://{root}/a/c"),
    ("s3://{bucket}//p/./q/", "s3://{bucket}/p/q"),
]


@pytest.mark.parametrize(
    ("collection", "written", "kept"),
    # a catalog's storage root must lie under the sandbox's external location, which is not in s3
    [
        (c, w, k)
        for c in ("volumes", "tables", "catalogs")
        for w, k in _LOCATIONS
        if not (c == "catalogs" and w[:3] == "s3:")
    ],
)
def test_locations_are_kept_as_urls_without_dots_doubled_or_trailing_slashes(
    rest, server, catalog_name, collection, written, kept
):
    plain_catalog(rest, catalog_name)
    root = str(local(server.managed_root)) + f"/{catalog_name}" if collection == "catalogs" else str(files())
    bucket = catalog_name.replace("_", "-").lower()  # locations of two objects may not overlap
    written, kept = written.format(root=root, bucket=bucket), kept.format(root=root, bucket=bucket)

    if collection == "volumes":
        made = rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=written))
    elif collection == "tables":
        made = rest.post("/tables", external_table(catalog_name, "t", written))
    else:
        made = rest.post("/catalogs", {"name": f"{catalog_name}_r", "storage_root": written})

    assert made["storage_root" if collection == "catalogs" else "storage_location"] == kept


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_missing_volume_is_a_server_error_not_a_404(rest, catalog_name, method):
    plain_catalog(rest, catalog_name)

    response = rest.http.request(
        method, f"/volumes/{catalog_name}.s.nope", json={"comment": "x"} if method == "PATCH" else None
    )

    status, code, message = error(response)
    assert (status, code) == (
        500,
        "INTERNAL",
    )  # ucgov's transport retries a 500: a volume's absence must be read from the listing
    assert message.startswith("Failed to get volume: Cannot invoke ")
    assert message.endswith(
        '"io.unitycatalog.server.persist.VolumeRepository.getVolumeDAO(org.hibernate.Session, String, String, String)" is null'
    )


@pytest.mark.parametrize(
    ("collection", "code", "what"), [("tables", "TABLE_NOT_FOUND", "Table"), ("functions", "NOT_FOUND", "Function")]
)
def test_a_missing_table_or_function_is_a_404(rest, catalog_name, collection, code, what):
    plain_catalog(rest, catalog_name)
    name = f"{catalog_name}.s.nope"

    for method in ("GET", "DELETE"):
        assert error(rest.http.request(method, f"/{collection}/{name}")) == (404, code, f"{what} not found: {name}")


@pytest.mark.parametrize("collection", ["volumes", "tables", "functions"])
def test_an_object_in_a_missing_schema_or_catalog_is_a_404(rest, catalog_name, collection):
    plain_catalog(rest, catalog_name)

    assert error(rest.http.get(f"/{collection}/{catalog_name}.nope.x")) == (
        404, "SCHEMA_NOT_FOUND", f"Schema not found: {catalog_name}.nope"
    )  # fmt: skip
    assert error(rest.http.get(f"/{collection}/{catalog_name}_nope.s.x")) == (
        404, "CATALOG_NOT_FOUND", f"Catalog not found: {catalog_name}_nope"
    )  # fmt: skip


# --- tables ---------------------------------------------------------------------------------------


def test_an_external_delta_table_body_has_these_keys_and_type_text_comes_back_lower_case(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    location = (files() / "events").as_uri()
    rest.post("/tables", external_table(catalog_name, "t", location, comment="events", properties={"owner": "ml"}))

    body = rest.get(f"/tables/{catalog_name}.s.t")

    assert set(body) == {
        "name", "catalog_name", "schema_name", "table_type", "data_source_format", "columns", "storage_location",
        "comment", "properties", "owner", "created_at", "created_by", "updated_at", "updated_by", "table_id",
        "view_definition", "view_dependencies",
    }  # fmt: skip
    assert (body["table_type"], body["data_source_format"]) == ("EXTERNAL", "DELTA")
    assert (body["storage_location"], body["comment"], body["properties"]) == (location, "events", {"owner": "ml"})
    [column] = body["columns"]
    assert column == {
        **COLUMN,
        "type_text": "int",  # the server lower-cases type_text, nothing else
        "type_precision": None,
        "type_scale": None,
        "type_interval_type": None,
        "partition_index": None,
    }
    assert not local(location).exists()


@pytest.mark.parametrize("data_source_format", ["DELTA", "PARQUET"])
def test_a_column_needs_type_json(rest, catalog_name, data_source_format):
    plain_catalog(rest, catalog_name)
    column = {k: v for k, v in COLUMN.items() if k != "type_json"}
    body = {**external_table(catalog_name, "t", files().as_uri()), "data_source_format": data_source_format}

    refused = rest.http.post("/tables", json={**body, "columns": [column]})

    assert error(refused) == (
        400,
        "INVALID_ARGUMENT",
        "Invalid type_json for column id: Column id has null/empty typeJson",
    )


def test_a_table_defaults_columns_properties_and_nullable_and_never_checks_type_json_against_type_name(
    rest, catalog_name
):
    plain_catalog(rest, catalog_name)
    bare = {k: v for k, v in external_table(catalog_name, "bare", files().as_uri()).items() if k != "columns"}
    odd = {k: v for k, v in COLUMN.items() if k not in {"nullable", "comment"}}
    odd["type_json"] = '{"name":"id","type":"string","nullable":true,"metadata":{}}'  # says string, type_name INT

    empty = rest.post("/tables", bare)
    mismatched = rest.post("/tables", {**external_table(catalog_name, "odd", files().as_uri()), "columns": [odd]})

    assert (empty["columns"], empty["properties"], empty["comment"]) == ([], {}, None)
    [column] = mismatched["columns"]
    assert (column["type_name"], column["type_json"], column["nullable"], column["comment"]) == (
        "INT", odd["type_json"], True, None
    )  # fmt: skip


def test_an_external_table_without_a_storage_location_is_a_server_error(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    body = external_table(catalog_name, "t", "")
    del body["storage_location"]

    status, code, message = error(rest.http.post("/tables", json=body))

    assert (status, code) == (500, "INTERNAL")
    assert message.startswith(f"Error creating table: {catalog_name}.s.t: Cannot invoke")


def test_deleting_a_managed_table_removes_its_files_an_external_one_leaves_them(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    staged = rest.post("/staging-tables", {"name": "m", "catalog_name": catalog_name, "schema_name": "s"})
    managed = {**external_table(catalog_name, "m", staged["staging_location"]), "table_type": "MANAGED"}
    rest.post("/tables", {**managed, "properties": {"io.unitycatalog.tableId": staged["id"]}})
    external = files() / "events"
    rest.post("/tables", external_table(catalog_name, "e", external.as_uri()))
    for folder in (local(staged["staging_location"]), external):
        folder.mkdir(parents=True)
        (folder / "part-0.parquet").write_text("1")

    for name in ("m", "e"):
        response = rest.http.delete(f"/tables/{catalog_name}.s.{name}")
        assert (response.status_code, response.text) == (200, "200 OK")

    assert not local(staged["staging_location"]).exists()
    assert (external / "part-0.parquet").exists()


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_tables_and_functions_have_no_update_endpoint(rest, catalog_name, method):
    plain_catalog(rest, catalog_name)
    rest.post("/tables", external_table(catalog_name, "t", files().as_uri()))
    rest.post("/functions", {"function_info": sql_function(catalog_name, "f")})

    for collection, name in (("tables", "t"), ("functions", "f")):
        response = rest.http.request(method, f"/{collection}/{catalog_name}.s.{name}", json={"comment": "new"})
        assert error(response) == (500, "INTERNAL", "Couldn't unwrap service."), collection
    assert rest.get(f"/tables/{catalog_name}.s.t")["comment"] is None


def test_a_managed_table_without_a_staging_table_is_a_server_error(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    body = {**external_table(catalog_name, "t", ""), "table_type": "MANAGED"}
    del body["storage_location"]

    status, code, message = error(rest.http.post("/tables", json=body))

    assert (status, code) == (500, "INTERNAL")
    assert "stagingLocation" in message


def test_a_managed_table_is_created_through_a_staging_table_under_the_tables_root(rest, server, catalog_name):
    plain_catalog(rest, catalog_name)
    staged = rest.post("/staging-tables", {"name": "t", "catalog_name": catalog_name, "schema_name": "s"})
    assert set(staged) == {"name", "catalog_name", "schema_name", "id", "staging_location"}
    assert staged["staging_location"] == f"{server.tables_root}/__unitystorage/tables/{staged['id']}"
    managed = {**external_table(catalog_name, "t", staged["staging_location"]), "table_type": "MANAGED"}
    refused = rest.http.post("/tables", json=managed)

    created = rest.post("/tables", {**managed, "properties": {"io.unitycatalog.tableId": staged["id"]}})

    assert error(refused) == (400, "INVALID_ARGUMENT", "Properties does not contain io.unitycatalog.tableId.")
    assert (created["table_type"], created["table_id"]) == ("MANAGED", staged["id"])
    assert created["storage_location"] == staged["staging_location"]
    assert created["properties"] == {"io.unitycatalog.tableId": staged["id"]}


# --- functions ------------------------------------------------------------------------------------


FUNCTION_KEYS = {
    "name", "catalog_name", "schema_name", "full_name", "function_id", "input_params", "data_type",
    "full_data_type", "return_params", "routine_body", "routine_definition", "routine_dependencies",
    "parameter_style", "is_deterministic", "sql_data_access", "is_null_call", "security_type", "specific_name",
    "comment", "properties", "owner", "created_at", "created_by", "updated_at", "updated_by", "external_language",
}  # fmt: skip


@pytest.mark.parametrize(
    ("make", "body", "language"),
    [(sql_function, "SQL", None), (python_function, "EXTERNAL", "python")],
    ids=["sql", "python"],
)
def test_a_function_body_comes_back_as_created_with_these_keys(rest, catalog_name, make, body, language):
    plain_catalog(rest, catalog_name)
    sent = make(catalog_name, "f")
    rest.post("/functions", {"function_info": sent})

    got = rest.get(f"/functions/{catalog_name}.s.f")

    assert set(got) == FUNCTION_KEYS
    assert (got["routine_body"], got["external_language"]) == (body, language)
    same = {k for k in sent if k != "input_params"}
    assert {k: got[k] for k in same} == {k: sent[k] for k in same}
    [param] = got["input_params"]["parameters"]
    extra = {"type_precision": None, "type_scale": None, "type_interval_type": None, "parameter_default": None}
    assert param == {**PARAM, **extra, "comment": None}


def test_a_function_without_parameters_comes_back_with_input_params_null(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    sent = {**sql_function(catalog_name, "f"), "input_params": {"parameters": []}, "routine_definition": "1"}

    created = rest.post("/functions", {"function_info": sent})

    assert created["input_params"] == {"parameters": []}  # the create answer echoes it
    assert rest.get(f"/functions/{catalog_name}.s.f")["input_params"] is None  # a read does not


def test_a_functions_properties_are_a_json_string_echoed_on_create_but_read_back_null(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    sent = {**python_function(catalog_name, "f"), "properties": '{"team":"ml"}'}

    as_object = rest.http.post("/functions", json={"function_info": {**sent, "properties": {"team": "ml"}}})
    created = rest.post("/functions", {"function_info": sent})

    assert error(as_object)[:2] == (400, "INVALID_ARGUMENT")
    assert created["properties"] == '{"team":"ml"}'
    assert rest.get(f"/functions/{catalog_name}.s.f")["properties"] is None  # not kept: nothing to compare


@pytest.mark.parametrize(
    ("field", "enum"), [("routine_body", "CreateFunction$RoutineBodyEnum"), ("data_type", "ColumnTypeName")]
)
def test_a_function_with_an_unknown_routine_body_or_data_type_is_refused(rest, catalog_name, field, enum):
    plain_catalog(rest, catalog_name)
    sent = {**sql_function(catalog_name, "f"), field: "NONSENSE"}

    status, code, message = error(rest.http.post("/functions", json={"function_info": sent}))

    assert (status, code) == (400, "INVALID_ARGUMENT")
    assert f"io.unitycatalog.server.model.{enum}`, problem: Unexpected value 'NONSENSE'" in message


def test_a_sql_function_may_name_an_external_language_nothing_cross_checks_them(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    sent = {**sql_function(catalog_name, "f"), "external_language": "python"}

    created = rest.post("/functions", {"function_info": sent})

    assert (created["routine_body"], created["external_language"]) == ("SQL", "python")


def test_a_function_without_parameter_style_is_a_server_error(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    sent = {k: v for k, v in sql_function(catalog_name, "f").items() if k != "parameter_style"}

    status, code, message = error(rest.http.post("/functions", json={"function_info": sent}))

    assert (status, code) == (500, "INTERNAL")
    assert "getParameterStyle()" in message


# --- privileges -----------------------------------------------------------------------------------


def test_every_privilege_is_accepted_on_every_securable_and_nothing_else(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    rest.post("/tables", external_table(catalog_name, "t", files().as_uri()))
    rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri()))
    rest.post("/functions", {"function_info": sql_function(catalog_name, "f")})
    c = catalog_name
    securables = [
        ("catalog", c),
        ("schema", f"{c}.s"),
        ("table", f"{c}.s.t"),
        ("volume", f"{c}.s.v"),
        ("function", f"{c}.s.f"),
    ]

    for securable_type, full_name in securables:
        rest.patch_grants(securable_type, full_name, "alice@example.com", add=PRIVILEGES)
        assert rest.grants(securable_type, full_name) == {"alice@example.com": set(PRIVILEGES)}, securable_type
        for unknown in ("WRITE VOLUME", "ALL PRIVILEGES", "BROWSE", "APPLY TAG", "OWNER", "select"):
            change = {"changes": [{"principal": "alice@example.com", "add": [unknown]}]}
            status, code, message = error(rest.http.patch(f"/permissions/{securable_type}/{full_name}", json=change))
            assert (status, code) == (400, "INVALID_ARGUMENT"), (securable_type, unknown)
            assert message.startswith("failed to parse a JSON document: ")
            assert f"io.unitycatalog.server.model.Privilege`, problem: Unexpected value '{unknown}'" in message


def test_the_permissions_of_an_object_list_its_own_grants_not_those_it_inherits(rest, catalog_name):
    plain_catalog(rest, catalog_name)
    rest.post("/volumes", volume(catalog_name, "v", "EXTERNAL", storage_location=files().as_uri()))
    rest.patch_grants("catalog", catalog_name, "alice@example.com", add=["READ VOLUME"])
    rest.patch_grants("schema", f"{catalog_name}.s", "bob@example.com", add=["READ VOLUME"])

    assert rest.get(f"/permissions/volume/{catalog_name}.s.v") == {"privilege_assignments": []}
    assert rest.grants("schema", f"{catalog_name}.s") == {"bob@example.com": {"READ VOLUME"}}


# --- listings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["tables", "volumes", "functions"])
def test_tables_volumes_and_functions_list_in_pages_by_name(rest, catalog_name, collection):
    plain_catalog(rest, catalog_name)
    names = ["a", "b", "c"]
    for name in reversed(names):
        if collection == "tables":
            rest.post("/tables", external_table(catalog_name, name, files().as_uri()))
        elif collection == "volumes":
            rest.post("/volumes", volume(catalog_name, name, "EXTERNAL", storage_location=files().as_uri()))
        else:
            rest.post("/functions", {"function_info": sql_function(catalog_name, name)})

    assert pages(rest, collection, catalog_name, size=2) == [(["a", "b"], "b"), (["c"], None)]
    # a full page always carries a token (its last name), even when nothing follows: then one more, empty
    assert pages(rest, collection, catalog_name, size=3) == [(["a", "b", "c"], "c"), ([], None)]


def pages(rest, collection: str, catalog: str, *, size: int) -> list[tuple[list[str], str | None]]:
    """Every page of a listing as (names, next_page_token), following the tokens."""
    found, token = [], None
    while True:
        params = {"catalog_name": catalog, "schema_name": "s", "max_results": size}
        body = rest.get(
            f"/{collection}?" + urllib.parse.urlencode({**params, **({"page_token": token} if token else {})})
        )
        token = body["next_page_token"]
        found.append(([item["name"] for item in body[collection]], token))
        if not token:
            return found
