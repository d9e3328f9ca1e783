"""What the real 0.6.0 server does with the metastore, storage credentials and external locations.

Each test pins one behaviour through the server's REST API (no ucgov code in between), so that
ucgov's governance of them (issue 17) stands on facts, and a server upgrade that changes one
fails here, by name. The sandbox registers a credential and an external location named
``ucgov_sandbox``; every test here makes its own, named after the test (``catalog_name``), over a
fresh temporary folder, and revokes the metastore grants it makes (the metastore is shared).
"""

from __future__ import annotations

import tempfile
import urllib.parse
import uuid
from pathlib import Path

import pytest
from conftest import USERS, Rest, _sandbox

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/uc-landing"
CREDENTIAL_KEYS = {"name", "aws_iam_role", "comment", "owner", "full_name", "id", "purpose"}
CREDENTIAL_KEYS |= {"created_at", "created_by", "updated_at", "updated_by"}
LOCATION_KEYS = {"name", "id", "url", "credential_name", "credential_id", "comment", "owner"}
LOCATION_KEYS |= {"created_at", "created_by", "updated_at", "updated_by"}
PRIVILEGES = [
    "CREATE CATALOG", "USE CATALOG", "CREATE SCHEMA", "USE SCHEMA", "CREATE TABLE", "SELECT", "MODIFY",
    "CREATE FUNCTION", "EXECUTE", "CREATE VOLUME", "READ VOLUME", "CREATE MODEL", "CREATE EXTERNAL LOCATION",
    "READ FILES", "WRITE FILES", "CREATE EXTERNAL TABLE", "CREATE EXTERNAL VOLUME", "CREATE MANAGED STORAGE",
    "CREATE STORAGE CREDENTIAL",
]  # fmt: skip
METASTORE_RIGHTS = ["CREATE CATALOG", "CREATE EXTERNAL LOCATION", "CREATE STORAGE CREDENTIAL"]
COLUMN = {"name": "id", "type_name": "INT", "type_text": "INT", "position": 0, "nullable": True}
COLUMN["type_json"] = '{"name":"id","type":"integer","nullable":true,"metadata":{}}'


def folder() -> str:
    """A fresh file URI no external location covers yet."""
    return Path(tempfile.mkdtemp(prefix="ucgov-storage-")).as_uri()


def credential_body(name: str, role_arn: str = ROLE, **more) -> dict:
    """The create body 0.6.0 takes: purpose STORAGE and an AWS IAM role (its only credential type)."""
    return {"name": name, "purpose": "STORAGE", "aws_iam_role": {"role_arn": role_arn}, **more}


def location_body(name: str, url: str, credential: str, **more) -> dict:
    return {"name": name, "url": url, "credential_name": credential, **more}


def located(rest, name: str, **more) -> tuple[dict, dict]:
    """A credential `<name>_c` and an external location `<name>_l` under it over a fresh folder."""
    credential = rest.post("/credentials", credential_body(f"{name}_c"))
    return credential, rest.post("/external-locations", location_body(f"{name}_l", folder(), f"{name}_c", **more))


def error(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error_code"], body["message"]


def change(principal: str, add=(), remove=()) -> dict:
    return {"changes": [{"principal": principal, "add": list(add), "remove": list(remove)}]}


@pytest.fixture
def metastore(rest):
    """The metastore's id; every metastore grant a test makes is revoked after it."""
    yield rest.get("/metastore_summary")["metastore_id"]
    for user in USERS:
        rest.patch_grants("metastore", "any", user, remove=PRIVILEGES)


@pytest.fixture
def as_user(server, token_for):
    return lambda email: Rest(server.url, token_for(email))


# --- the metastore --------------------------------------------------------------------------------


def test_the_metastore_summary_gives_only_its_id(rest):
    summary = rest.get("/metastore_summary")

    assert set(summary) == {"metastore_id"}  # no name: the server hosts one metastore
    assert str(uuid.UUID(summary["metastore_id"])) == summary["metastore_id"]


def test_metastore_permissions_ignore_the_name_in_the_path(rest, metastore):
    rest.patch_grants("metastore", metastore, "carol@example.com", add=["CREATE CATALOG"])

    for name in (metastore, "anything", "main"):
        assert rest.grants("metastore", name) == {"carol@example.com": {"CREATE CATALOG"}}, name
    assert error(rest.http.get("/permissions/metastore/")) == (500, "INTERNAL", "Couldn't unwrap service.")


def test_metastore_grants_round_trip(rest, metastore):
    answer = rest.http.patch("/permissions/metastore/x", json=change("carol@example.com", add=METASTORE_RIGHTS))
    assert answer.status_code == 200
    assert answer.json() == {
        "privilege_assignments": [{"principal": "carol@example.com", "privileges": METASTORE_RIGHTS}]
    }
    assert rest.grants("metastore", "x") == {"carol@example.com": set(METASTORE_RIGHTS)}

    revoked = rest.http.patch("/permissions/metastore/x", json=change("carol@example.com", remove=METASTORE_RIGHTS))

    assert revoked.json() == {"privilege_assignments": []}  # a principal left with nothing is not listed
    assert "carol@example.com" not in rest.grants("metastore", "x")


def test_the_metastore_takes_every_privilege_name_and_nothing_else(rest, metastore):
    rest.patch_grants("metastore", "x", "carol@example.com", add=PRIVILEGES)

    assert rest.grants("metastore", "x")["carol@example.com"] == set(PRIVILEGES)  # even SELECT: nothing checks
    for unknown in ("ALL PRIVILEGES", "OWNER", "CREATE SERVICE CREDENTIAL", "MANAGE", "create catalog"):
        status, code, message = error(
            rest.http.patch("/permissions/metastore/x", json=change("carol@example.com", add=[unknown]))
        )
        assert (status, code) == (400, "INVALID_ARGUMENT"), unknown
        assert f"io.unitycatalog.server.model.Privilege`, problem: Unexpected value '{unknown}'" in message


def test_a_metastore_grant_to_an_unknown_user_is_a_404(rest, metastore):
    refused = rest.http.patch("/permissions/metastore/x", json=change("nobody@example.com", add=["CREATE CATALOG"]))

    assert error(refused) == (404, "NOT_FOUND", "User not found: nobody@example.com")


def test_only_the_metastore_owner_may_grant_on_it_not_a_holder_of_its_privileges(rest, metastore, as_user):
    rest.patch_grants("metastore", "x", "alice@example.com", add=METASTORE_RIGHTS)

    refused = as_user("alice@example.com").http.patch(
        "/permissions/metastore/x", json=change("bob@example.com", add=["CREATE CATALOG"])
    )

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")
    assert "bob@example.com" not in rest.grants("metastore", "x")


def test_a_user_reads_only_their_own_metastore_grants(rest, metastore, as_user):
    rest.patch_grants("metastore", "x", "alice@example.com", add=["CREATE CATALOG"])
    rest.patch_grants("metastore", "x", "bob@example.com", add=["CREATE EXTERNAL LOCATION"])

    seen = as_user("alice@example.com").get("/permissions/metastore/x")

    assert seen == {"privilege_assignments": [{"principal": "alice@example.com", "privileges": ["CREATE CATALOG"]}]}
    assert as_user("carol@example.com").get("/permissions/metastore/x") == {"privilege_assignments": []}


def test_create_catalog_on_the_metastore_lets_a_user_create_a_catalog_they_own(rest, metastore, as_user, catalog_name):
    alice = as_user("alice@example.com")
    refused = alice.http.post("/catalogs", json={"name": catalog_name})
    rest.patch_grants("metastore", "x", "alice@example.com", add=["CREATE CATALOG"])

    created = alice.post("/catalogs", {"name": catalog_name})

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")
    assert (created["owner"], created["created_by"]) == ("alice@example.com", "alice@example.com")


def test_create_storage_credential_on_the_metastore_lets_a_user_create_one_and_grant_on_it(
    rest, metastore, as_user, catalog_name
):
    alice = as_user("alice@example.com")
    refused = alice.http.post("/credentials", json=credential_body(catalog_name))
    rest.patch_grants("metastore", "x", "alice@example.com", add=["CREATE STORAGE CREDENTIAL"])

    created = alice.post("/credentials", credential_body(catalog_name))
    alice.patch_grants("credential", catalog_name, "bob@example.com", add=["CREATE EXTERNAL LOCATION"])

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")
    assert created["owner"] == "alice@example.com"
    assert rest.grants("credential", catalog_name) == {"bob@example.com": {"CREATE EXTERNAL LOCATION"}}


# --- storage credentials --------------------------------------------------------------------------


def test_a_storage_credential_is_created_from_purpose_storage_and_an_aws_iam_role(rest, catalog_name):
    created = rest.post("/credentials", credential_body(catalog_name, comment="Landing bucket access"))

    assert set(created) == CREDENTIAL_KEYS
    assert (created["name"], created["purpose"], created["comment"]) == (
        catalog_name,
        "STORAGE",
        "Landing bucket access",
    )
    assert (created["owner"], created["full_name"], created["updated_at"]) == ("admin", None, created["created_at"])
    role = created["aws_iam_role"]
    assert set(role) == {"role_arn", "unity_catalog_iam_arn", "external_id"}  # no secret: a role has none
    assert (role["role_arn"], role["unity_catalog_iam_arn"]) == (ROLE, None)
    assert str(uuid.UUID(role["external_id"])) == role["external_id"]  # made by the server, not given
    assert rest.get(f"/credentials/{catalog_name}") == created


@pytest.mark.parametrize(
    "kind",
    [
        {},
        {"azure_service_principal": {"directory_id": "d", "application_id": "a", "client_secret": "s"}},
        {"azure_managed_identity": {"access_connector_id": "x"}},
        {"databricks_gcp_service_account": {}},
    ],
    ids=["none", "azure_service_principal", "azure_managed_identity", "gcp"],
)
def test_a_credential_other_than_an_aws_iam_role_is_refused(rest, catalog_name, kind):
    refused = rest.http.post("/credentials", json={"name": catalog_name, "purpose": "STORAGE", **kind})

    assert error(refused) == (400, "INVALID_ARGUMENT", "Unknown credential type")


def test_a_credential_without_a_purpose_is_a_server_error_and_not_kept(rest, catalog_name):
    body = {k: v for k, v in credential_body(catalog_name).items() if k != "purpose"}

    refused = rest.http.post("/credentials", json=body)

    assert error(refused) == (
        500, "INTERNAL",
        "Failed to add storage credential: not-null property references a null or transient value : "
        "io.unitycatalog.server.persist.dao.CredentialDAO.purpose",
    )  # fmt: skip
    assert rest.status(f"/credentials/{catalog_name}") == 404


def test_a_purpose_other_than_storage_is_refused(rest, catalog_name):
    status, code, message = error(
        rest.http.post("/credentials", json={**credential_body(catalog_name), "purpose": "SERVICE"})
    )

    assert (status, code) == (400, "INVALID_ARGUMENT")
    assert "io.unitycatalog.server.model.CredentialPurpose`, problem: Unexpected value 'SERVICE'" in message


def test_nothing_checks_a_role_arn_not_even_that_there_is_one(rest, catalog_name):
    odd = rest.post("/credentials", credential_body(f"{catalog_name}_odd", role_arn="not-an-arn"))
    empty = rest.post("/credentials", {**credential_body(f"{catalog_name}_empty"), "aws_iam_role": {}})

    assert odd["aws_iam_role"]["role_arn"] == "not-an-arn"
    assert empty["aws_iam_role"]["role_arn"] is None


def test_a_credential_name_must_be_new_and_have_no_dot_space_or_slash(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))

    again = rest.http.post("/credentials", json=credential_body(catalog_name))

    assert error(again) == (
        400,
        "STORAGE_CREDENTIAL_ALREADY_EXISTS",
        f"Storage credential already exists: {catalog_name}",
    )
    for bad in (f"{catalog_name}.x", f"{catalog_name} x", f"{catalog_name}/x"):
        assert error(rest.http.post("/credentials", json=credential_body(bad))) == (
            400, "INVALID_ARGUMENT", "Name cannot contain a period, space, forward-slash, or control characters"
        ), bad  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/credentials/{}"),
        ("PATCH", "/credentials/{}"),
        ("DELETE", "/credentials/{}"),
        ("GET", "/permissions/credential/{}"),
    ],
)
def test_a_missing_credential_is_a_404(rest, catalog_name, method, path):
    response = rest.http.request(
        method, path.format(catalog_name), json={"comment": "x"} if method == "PATCH" else None
    )

    assert error(response) == (404, "NOT_FOUND", f"Storage credential not found: {catalog_name}")


def test_patch_credential_changes_comment_and_role_and_answers_the_whole_credential(rest, catalog_name):
    before = rest.post("/credentials", credential_body(catalog_name, comment="old"))
    other = "arn:aws:iam::123456789012:role/other"

    after = rest.http.patch(
        f"/credentials/{catalog_name}", json={"comment": "new", "aws_iam_role": {"role_arn": other}}
    ).json()

    assert set(after) == CREDENTIAL_KEYS
    assert (after["comment"], after["aws_iam_role"]["role_arn"], after["id"]) == ("new", other, before["id"])
    assert rest.get(f"/credentials/{catalog_name}") == after


def test_patch_credential_ignores_owner_purpose_and_unknown_fields_silently(rest, catalog_name):
    before = rest.post("/credentials", credential_body(catalog_name))

    after = rest.http.patch(
        f"/credentials/{catalog_name}", json={"owner": "bob@example.com", "purpose": "SERVICE", "no_such_field": 1}
    ).json()

    assert after["updated_at"] >= before["updated_at"]  # every PATCH stamps updated_at, even one that changes nothing
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_patching_the_role_makes_a_new_external_id_a_comment_does_not(rest, catalog_name):
    created = rest.post("/credentials", credential_body(catalog_name))
    first = created["aws_iam_role"]["external_id"]

    commented = rest.http.patch(f"/credentials/{catalog_name}", json={"comment": "x"}).json()
    same_role = rest.http.patch(f"/credentials/{catalog_name}", json={"aws_iam_role": {"role_arn": ROLE}}).json()

    assert commented["aws_iam_role"]["external_id"] == first
    assert same_role["aws_iam_role"]["external_id"] != first  # even the same role_arn: never compare external_id


def test_patch_credential_comment_can_be_emptied_but_never_cleared_back_to_null(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name, comment="x"))

    emptied = rest.http.patch(f"/credentials/{catalog_name}", json={"comment": ""}).json()
    nulled = rest.http.patch(f"/credentials/{catalog_name}", json={"comment": None}).json()

    assert (emptied["comment"], nulled["comment"]) == ("", "")


def test_renaming_a_credential_keeps_its_id_and_grants_and_its_locations_follow(rest, catalog_name):
    credential, location = located(rest, catalog_name)
    rest.patch_grants("credential", f"{catalog_name}_c", "alice@example.com", add=["CREATE EXTERNAL LOCATION"])

    renamed = rest.http.patch(f"/credentials/{catalog_name}_c", json={"new_name": f"{catalog_name}_r"}).json()

    assert (renamed["name"], renamed["id"]) == (f"{catalog_name}_r", credential["id"])
    assert rest.status(f"/credentials/{catalog_name}_c") == 404
    assert rest.grants("credential", f"{catalog_name}_r") == {"alice@example.com": {"CREATE EXTERNAL LOCATION"}}
    assert rest.get(f"/external-locations/{location['name']}")["credential_name"] == f"{catalog_name}_r"


def test_renaming_a_credential_onto_a_taken_name_is_refused(rest, catalog_name):
    rest.post("/credentials", credential_body(f"{catalog_name}_a"))
    rest.post("/credentials", credential_body(f"{catalog_name}_b"))

    refused = rest.http.patch(f"/credentials/{catalog_name}_a", json={"new_name": f"{catalog_name}_b"})

    assert error(refused) == (
        400,
        "STORAGE_CREDENTIAL_ALREADY_EXISTS",
        f"Storage credential already exists: {catalog_name}_b",
    )


def test_deleting_a_credential_used_by_an_external_location_is_refused(rest, catalog_name):
    located(rest, catalog_name)

    refused = rest.http.delete(f"/credentials/{catalog_name}_c")

    assert error(refused) == (400, "INVALID_ARGUMENT", f"Credential still used by external location '{catalog_name}_l'")
    assert rest.status(f"/credentials/{catalog_name}_c") == 200


def test_deleting_a_credential_drops_its_grants_a_new_one_of_the_same_name_has_none(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    rest.patch_grants("credential", catalog_name, "alice@example.com", add=["CREATE EXTERNAL LOCATION"])

    deleted = rest.http.delete(f"/credentials/{catalog_name}")
    rest.post("/credentials", credential_body(catalog_name))

    assert (deleted.status_code, deleted.text) == (200, "200 OK")  # plain text, not JSON
    assert rest.grants("credential", catalog_name) == {}


def test_the_permissions_securable_type_of_a_credential_is_credential_and_takes_every_privilege(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))

    rest.patch_grants("credential", catalog_name, "alice@example.com", add=PRIVILEGES)

    assert rest.grants("credential", catalog_name) == {"alice@example.com": set(PRIVILEGES)}
    for wrong in ("storage_credential", "credentials", "storage-credential"):
        response = rest.http.get(f"/permissions/{wrong}/{catalog_name}")
        assert error(response) == (500, "INTERNAL", "Couldn't unwrap service."), wrong


def test_credentials_list_in_pages_by_name_a_full_page_carrying_its_last_name(rest, catalog_name):
    for suffix in ("b", "a", "c"):
        rest.post("/credentials", credential_body(f"{catalog_name}_{suffix}"))

    found = pages(rest, "credentials", size=2)

    names = [name for page, _ in found for name in page]
    assert names == sorted(names) and len(names) == len(set(names))
    assert {f"{catalog_name}_{s}" for s in "abc"} <= set(names)
    assert all(token == page[-1] for page, token in found if len(page) == 2)
    assert found[-1][1] is None and len(found[-1][0]) < 2
    refused = rest.http.get("/credentials", params={"max_results": -1})
    assert error(refused) == (400, "INVALID_ARGUMENT", "maxResults must be greater than or equal to 0")


def test_a_user_lists_and_reads_only_credentials_they_own_or_hold_create_external_location_on(
    rest, catalog_name, as_user
):
    rest.post("/credentials", credential_body(f"{catalog_name}_seen"))
    rest.post("/credentials", credential_body(f"{catalog_name}_hidden"))
    rest.patch_grants("credential", f"{catalog_name}_seen", "carol@example.com", add=["CREATE EXTERNAL LOCATION"])
    carol = as_user("carol@example.com")

    listed = {name for page, _ in pages(carol, "credentials", size=50) for name in page}

    assert f"{catalog_name}_seen" in listed and f"{catalog_name}_hidden" not in listed
    assert error(carol.http.get(f"/credentials/{catalog_name}_hidden")) == (403, "PERMISSION_DENIED", "Access denied.")


# --- external locations ---------------------------------------------------------------------------


def test_an_external_location_is_created_from_name_url_credential_name_and_comment(rest, catalog_name):
    credential = rest.post("/credentials", credential_body(catalog_name))
    url = folder()

    created = rest.post("/external-locations", location_body(catalog_name, url, catalog_name, comment="Landing zone"))

    assert set(created) == LOCATION_KEYS
    assert (created["url"], created["credential_name"], created["credential_id"]) == (
        url,
        catalog_name,
        credential["id"],
    )
    assert (created["comment"], created["owner"], created["updated_at"], created["updated_by"]) == (
        "Landing zone", "admin", None, None
    )  # fmt: skip
    assert rest.get(f"/external-locations/{catalog_name}") == created


def test_an_external_location_has_no_read_only_flag_it_is_dropped(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))

    created = rest.post("/external-locations", location_body(catalog_name, folder(), catalog_name, read_only=True))

    assert "read_only" not in created


def test_an_external_location_url_loses_a_trailing_slash_and_a_bare_path_becomes_a_file_uri(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    url = folder()
    path = urllib.parse.urlparse(folder()).path

    slashed = rest.post("/external-locations", location_body(f"{catalog_name}_s", url + "/", catalog_name))
    bare = rest.post("/external-locations", location_body(f"{catalog_name}_p", path, catalog_name))
    s3 = rest.post("/external-locations", location_body(f"{catalog_name}_3", f"s3://{catalog_name}/raw/", catalog_name))

    assert (slashed["url"], bare["url"], s3["url"]) == (url, f"file://{path}", f"s3://{catalog_name}/raw")


def test_external_locations_take_s3_gs_and_abfss_urls_and_refuse_other_schemes(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    bucket = catalog_name.replace("_", "-").lower()

    for i, url in enumerate((f"s3://{bucket}/x", f"gs://{bucket}/x", f"abfss://c@{bucket}.dfs.core.windows.net/x")):
        assert rest.post("/external-locations", location_body(f"{catalog_name}_{i}", url, catalog_name))["url"] == url
    for scheme in ("ftp", "S3", "http"):
        refused = rest.http.post(
            "/external-locations", json=location_body(f"{catalog_name}_x", f"{scheme}://{bucket}/y", catalog_name)
        )
        assert error(refused) == (400, "INVALID_ARGUMENT", f"Unsupported URI scheme: {scheme}"), scheme


def test_an_external_location_may_not_duplicate_contain_or_lie_inside_another(rest, catalog_name):
    credential, location = located(rest, catalog_name)
    url = location["url"]
    message = "Cannot accept an external location that duplicates or overlaps with existing external location"

    for i, other in enumerate((url, f"{url}/inner", url.rsplit("/", 1)[0], f"{url}/a/../b")):
        refused = rest.http.post(
            "/external-locations", json=location_body(f"{catalog_name}_{i}", other, credential["name"])
        )
        assert error(refused) == (400, "INVALID_ARGUMENT", message), other
    sibling = rest.post(
        "/external-locations", location_body(f"{catalog_name}_sib", f"{url}-sibling", credential["name"])
    )
    assert sibling["url"] == f"{url}-sibling"  # a shared prefix is no overlap: paths compare by segment


def test_an_external_location_url_may_not_hold_the_managed_storage_prefix(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    url = f"{folder()}/__unitystorage/x"

    refused = rest.http.post("/external-locations", json=location_body(catalog_name, url, catalog_name))

    assert error(refused) == (
        400,
        "INVALID_ARGUMENT",
        f"Input path '{url}' contains managed storage prefix __unitystorage.",
    )


def test_an_external_location_needs_an_existing_credential_and_a_url(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    no_credential = {"name": catalog_name, "url": folder()}
    no_url = {"name": catalog_name, "credential_name": catalog_name}

    unknown = rest.http.post("/external-locations", json=location_body(catalog_name, folder(), f"{catalog_name}_nope"))

    assert error(unknown) == (404, "NOT_FOUND", f"Storage credential not found: {catalog_name}_nope")
    assert error(rest.http.post("/external-locations", json=no_credential)) == (
        404,
        "NOT_FOUND",
        "Credential not found: null",
    )
    status, code, message = error(rest.http.post("/external-locations", json=no_url))
    assert (status, code) == (500, "INTERNAL") and message.startswith("Failed to add external location: Cannot invoke")


def test_an_external_location_name_must_be_new(rest, catalog_name):
    credential, _ = located(rest, catalog_name)

    again = rest.http.post("/external-locations", json=location_body(f"{catalog_name}_l", folder(), credential["name"]))

    assert error(again) == (
        400,
        "EXTERNAL_LOCATION_ALREADY_EXISTS",
        f"External location already exists: {catalog_name}_l",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/external-locations/{}"), ("PATCH", "/external-locations/{}"), ("DELETE", "/external-locations/{}"),
     ("GET", "/permissions/external_location/{}")],
)  # fmt: skip
def test_a_missing_external_location_is_a_404(rest, catalog_name, method, path):
    response = rest.http.request(
        method, path.format(catalog_name), json={"comment": "x"} if method == "PATCH" else None
    )

    assert error(response) == (404, "NOT_FOUND", f"External location not found: {catalog_name}")


def test_patch_external_location_changes_url_credential_comment_and_name(rest, catalog_name):
    _, before = located(rest, catalog_name)
    other = rest.post("/credentials", credential_body(f"{catalog_name}_o"))
    url = folder()
    change_ = {"url": url + "/", "credential_name": other["name"], "comment": "moved", "new_name": f"{catalog_name}_m"}

    after = rest.http.patch(f"/external-locations/{before['name']}", json=change_).json()

    assert set(after) == LOCATION_KEYS
    assert (after["name"], after["id"], after["url"], after["comment"]) == (
        f"{catalog_name}_m",
        before["id"],
        url,
        "moved",
    )
    assert (after["credential_name"], after["credential_id"]) == (other["name"], other["id"])
    assert after["updated_by"] == "admin" and after["updated_at"] is not None
    assert rest.get(f"/external-locations/{catalog_name}_m") == after


def test_patch_external_location_ignores_owner_read_only_and_a_null_comment(rest, catalog_name):
    _, before = located(rest, catalog_name, comment="x")

    after = rest.http.patch(
        f"/external-locations/{before['name']}", json={"owner": "bob@example.com", "read_only": True, "comment": None}
    ).json()

    assert {k: v for k, v in after.items() if k not in {"updated_at", "updated_by"}} == {
        k: v for k, v in before.items() if k not in {"updated_at", "updated_by"}
    }


def test_patch_external_location_refuses_an_overlapping_url_or_an_unknown_credential(rest, catalog_name):
    credential, first = located(rest, catalog_name)
    second = rest.post("/external-locations", location_body(f"{catalog_name}_2", folder(), credential["name"]))

    overlap = rest.http.patch(f"/external-locations/{second['name']}", json={"url": f"{first['url']}/inner"})
    unknown = rest.http.patch(f"/external-locations/{second['name']}", json={"credential_name": f"{catalog_name}_nope"})

    message = "Cannot accept an external location that duplicates or overlaps with existing external location"
    assert error(overlap) == (400, "INVALID_ARGUMENT", message)
    assert error(unknown) == (404, "NOT_FOUND", f"Storage credential not found: {catalog_name}_nope")
    assert rest.get(f"/external-locations/{second['name']}") == second


def test_renaming_an_external_location_keeps_its_grants(rest, catalog_name):
    _, location = located(rest, catalog_name)
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["READ FILES"])

    rest.http.patch(
        f"/external-locations/{location['name']}", json={"new_name": f"{catalog_name}_n"}
    ).raise_for_status()

    assert rest.grants("external_location", f"{catalog_name}_n") == {"alice@example.com": {"READ FILES"}}


def test_deleting_an_external_location_used_by_a_volume_is_refused_unless_forced(rest, catalog_name):
    _, location = located(rest, catalog_name)
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    body = {"name": "v", "catalog_name": catalog_name, "schema_name": "s", "volume_type": "EXTERNAL"}
    volume = rest.post("/volumes", {**body, "storage_location": f"{location['url']}/v"})

    refused = rest.http.delete(f"/external-locations/{location['name']}")
    forced = rest.http.delete(f"/external-locations/{location['name']}", params={"force": "true"})

    assert error(refused) == (
        400,
        "INVALID_ARGUMENT",
        f"External location still used by volume '{volume['volume_id']}'",
    )
    assert (forced.status_code, forced.text) == (200, "200 OK")
    assert rest.get(f"/volumes/{catalog_name}.s.v") == volume  # the volume stays, outside any location now


def test_deleting_an_external_location_used_by_a_table_is_refused_naming_the_table_id(rest, catalog_name):
    _, location = located(rest, catalog_name)
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    where = {"name": "t", "catalog_name": catalog_name, "schema_name": "s", "table_type": "EXTERNAL"}
    table = rest.post(
        "/tables",
        {**where, "data_source_format": "DELTA", "columns": [COLUMN], "storage_location": f"{location['url']}/t"},
    )

    refused = rest.http.delete(f"/external-locations/{location['name']}")

    assert error(refused) == (400, "INVALID_ARGUMENT", f"External location still used by table '{table['table_id']}'")


def test_deleting_an_external_location_under_a_catalogs_storage_root_is_not_refused(rest, catalog_name):
    _, location = located(rest, catalog_name)
    catalog = rest.post("/catalogs", {"name": catalog_name, "storage_root": f"{location['url']}/{catalog_name}"})

    deleted = rest.http.delete(f"/external-locations/{location['name']}")

    assert deleted.status_code == 200  # only tables, volumes and models count as use, not catalogs or schemas
    assert rest.get(f"/catalogs/{catalog_name}")["storage_root"] == catalog["storage_root"]


def test_the_permissions_securable_type_of_an_external_location_is_external_location_and_takes_every_privilege(
    rest, catalog_name
):
    _, location = located(rest, catalog_name)

    rest.patch_grants("external_location", location["name"], "alice@example.com", add=PRIVILEGES)

    assert rest.grants("external_location", location["name"]) == {"alice@example.com": set(PRIVILEGES)}
    for wrong in ("external-location", "external_locations", "location"):
        response = rest.http.get(f"/permissions/{wrong}/{location['name']}")
        assert error(response) == (500, "INTERNAL", "Couldn't unwrap service."), wrong


def test_a_user_creates_an_external_location_with_create_external_location_on_both_metastore_and_credential(
    rest, metastore, as_user, catalog_name
):
    rest.post("/credentials", credential_body(catalog_name))
    bob = as_user("bob@example.com")
    body = location_body(catalog_name, folder(), catalog_name)
    rest.patch_grants("metastore", "x", "bob@example.com", add=["CREATE EXTERNAL LOCATION"])
    metastore_only = bob.http.post("/external-locations", json=body)
    rest.patch_grants("credential", catalog_name, "bob@example.com", add=["CREATE EXTERNAL LOCATION"])

    created = bob.post("/external-locations", body)

    assert error(metastore_only) == (403, "PERMISSION_DENIED", "Access denied.")
    assert created["owner"] == "bob@example.com"
    assert rest.grants("external_location", catalog_name) == {}  # the owner holds no listed privilege


def test_external_locations_list_in_pages_by_name(rest, catalog_name):
    credential = rest.post("/credentials", credential_body(catalog_name))
    for suffix in ("b", "a", "c"):
        rest.post("/external-locations", location_body(f"{catalog_name}_{suffix}", folder(), credential["name"]))

    found = pages(rest, "external-locations", size=2, key="external_locations")

    names = [name for page, _ in found for name in page]
    assert names == sorted(names) and {f"{catalog_name}_{s}" for s in "abc"} <= set(names)
    assert all(token == page[-1] for page, token in found if len(page) == 2)
    assert found[-1][1] is None


def pages(rest, collection: str, *, size: int, key: str | None = None) -> list[tuple[list[str], str | None]]:
    """Every page of a listing as (names, next_page_token), following the tokens."""
    found, token = [], None
    while True:
        params = {"max_results": size, **({"page_token": token} if token else {})}
        body = rest.get(f"/{collection}?" + urllib.parse.urlencode(params))
        token = body["next_page_token"]
        found.append(([item["name"] for item in body[key or collection]], token))
        if not token:
            return found


# --- storage roots ----------------------------------------------------------------------------------


def test_a_storage_root_under_any_external_location_is_kept_without_its_trailing_slash(rest, catalog_name):
    _, location = located(rest, catalog_name)
    root = f"{location['url']}/{catalog_name}"

    catalog = rest.post("/catalogs", {"name": catalog_name, "storage_root": root + "/"})
    schema = rest.post("/schemas", {"name": "s", "catalog_name": catalog_name, "storage_root": f"{root}-s/"})

    assert (catalog["storage_root"], rest.get(f"/catalogs/{catalog_name}")["storage_root"]) == (root, root)
    assert catalog["storage_location"] == f"{root}/__unitystorage/catalogs/{catalog['id']}"
    assert schema["storage_root"] == f"{root}-s"
    assert schema["storage_location"] == f"{root}-s/__unitystorage/schemas/{schema['schema_id']}"


def test_patch_schema_ignores_storage_root_silently(rest, server, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    before = rest.post(
        "/schemas", {"name": "s", "catalog_name": catalog_name, "storage_root": f"{server.managed_root}/{catalog_name}"}
    )

    after = rest.http.patch(
        f"/schemas/{catalog_name}.s", json={"storage_root": f"{server.managed_root}/x", "comment": "x"}
    ).json()

    assert (after["storage_root"], after["storage_location"]) == (before["storage_root"], before["storage_location"])
    assert after["comment"] == "x"


# --- a fact that breaks the server it is shown on: its own throwaway server ----------------------------


@pytest.fixture(scope="module")
def throwaway(tmp_path_factory):
    yield from _sandbox(tmp_path_factory, "sandbox-throwaway", "a throwaway real Unity Catalog server")


def test_force_deleting_a_credential_in_use_breaks_its_location_and_every_location_listing_for_good(throwaway):
    rest = Rest(throwaway.url, throwaway.token)
    credential, location = located(rest, "doomed")

    forced = rest.http.delete("/credentials/doomed_c", params={"force": "true"})

    assert forced.status_code == 200  # so ucgov must never force a credential's delete
    broken = (500, "INTERNAL", f"Credential not found: {credential['id']}")
    assert error(rest.http.get("/external-locations")) == broken
    for method in ("GET", "PATCH", "DELETE"):
        response = rest.http.request(
            method, f"/external-locations/{location['name']}", json={"comment": "x"} if method == "PATCH" else None
        )
        assert error(response) == broken, method  # not even a delete repairs it


def test_a_users_filtered_credential_listing_may_have_short_pages_that_still_carry_a_token(rest, catalog_name, as_user):
    for suffix in ("a", "b", "c"):
        rest.post("/credentials", credential_body(f"{catalog_name}_{suffix}"))
    rest.patch_grants("credential", f"{catalog_name}_c", "carol@example.com", add=["CREATE EXTERNAL LOCATION"])

    found = pages(as_user("carol@example.com"), "credentials", size=1)

    assert any(page == [] and token for page, token in found)  # the page is cut before the filter: follow tokens
    assert f"{catalog_name}_c" in {name for page, _ in found for name in page}


# --- who may use a location ------------------------------------------------------------------------


def test_a_catalog_creator_needs_create_managed_storage_on_the_location_to_give_a_storage_root(
    rest, metastore, as_user, catalog_name
):
    _, location = located(rest, catalog_name)
    alice = as_user("alice@example.com")
    rest.patch_grants("metastore", "x", "alice@example.com", add=["CREATE CATALOG"])
    body = {"name": catalog_name, "storage_root": f"{location['url']}/{catalog_name}"}
    refused = alice.http.post("/catalogs", json=body)
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["CREATE MANAGED STORAGE"])

    created = alice.post("/catalogs", body)

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")
    assert created["storage_root"] == body["storage_root"]


def test_a_storage_root_over_an_external_volume_is_refused(rest, catalog_name):
    _, location = located(rest, catalog_name)
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    body = {"name": "v", "catalog_name": catalog_name, "schema_name": "s", "volume_type": "EXTERNAL"}
    rest.post("/volumes", {**body, "storage_location": f"{location['url']}/data/v"})

    root = f"{location['url']}/data"

    refused = rest.http.post("/catalogs", json={"name": f"{catalog_name}_2", "storage_root": root})

    assert error(refused) == (403, "PERMISSION_DENIED", f"Input path '{root}' overlaps with other entities.")


def test_an_external_volume_inside_a_location_needs_create_external_volume_on_it_outside_every_location_none(
    rest, as_user, catalog_name
):
    _, location = located(rest, catalog_name)
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    rest.patch_grants("catalog", catalog_name, "alice@example.com", add=["USE CATALOG"])
    rest.patch_grants("schema", f"{catalog_name}.s", "alice@example.com", add=["USE SCHEMA", "CREATE VOLUME"])
    alice = as_user("alice@example.com")
    body = {"catalog_name": catalog_name, "schema_name": "s", "volume_type": "EXTERNAL"}

    outside = alice.post("/volumes", {**body, "name": "out", "storage_location": folder()})
    inside = alice.http.post("/volumes", json={**body, "name": "in", "storage_location": f"{location['url']}/in"})
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["CREATE EXTERNAL VOLUME"])
    granted = alice.post("/volumes", {**body, "name": "in", "storage_location": f"{location['url']}/in"})

    assert outside["owner"] == "alice@example.com"  # no location covers it, so no location is asked
    assert error(inside) == (403, "PERMISSION_DENIED", "Access denied.")
    assert granted["storage_location"] == f"{location['url']}/in"


def test_a_holder_of_read_files_reads_the_location_but_may_not_change_it(rest, as_user, catalog_name):
    _, location = located(rest, catalog_name)
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["READ FILES"])
    alice = as_user("alice@example.com")

    assert alice.get(f"/external-locations/{location['name']}") == location
    for method in ("PATCH", "DELETE"):
        response = alice.http.request(
            method, f"/external-locations/{location['name']}", json={"comment": "x"} if method == "PATCH" else None
        )
        assert error(response) == (403, "PERMISSION_DENIED", "Access denied."), method


def test_an_external_table_inside_a_location_needs_create_external_table_on_it(rest, as_user, catalog_name):
    _, location = located(rest, catalog_name)
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    rest.patch_grants("catalog", catalog_name, "alice@example.com", add=["USE CATALOG"])
    rest.patch_grants("schema", f"{catalog_name}.s", "alice@example.com", add=["USE SCHEMA", "CREATE TABLE"])
    alice = as_user("alice@example.com")
    where = {"name": "t", "catalog_name": catalog_name, "schema_name": "s", "table_type": "EXTERNAL"}
    body = {**where, "data_source_format": "DELTA", "columns": [COLUMN], "storage_location": f"{location['url']}/t"}

    refused = alice.http.post("/tables", json=body)
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["CREATE EXTERNAL TABLE"])
    created = alice.post("/tables", body)

    assert error(refused) == (403, "PERMISSION_DENIED", "Access denied.")
    assert created["storage_location"] == body["storage_location"]


def test_deleting_an_external_location_drops_its_grants_a_new_one_of_the_same_name_has_none(rest, catalog_name):
    credential, location = located(rest, catalog_name)
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["READ FILES"])

    rest.http.delete(f"/external-locations/{location['name']}").raise_for_status()
    rest.post("/external-locations", location_body(location["name"], folder(), credential["name"]))

    assert rest.grants("external_location", location["name"]) == {}


def test_an_external_location_may_be_laid_over_volumes_and_storage_roots_that_already_exist(rest, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    url = folder()
    body = {"name": "v", "catalog_name": catalog_name, "schema_name": "s", "volume_type": "EXTERNAL"}
    rest.post("/volumes", {**body, "storage_location": f"{url}/v"})  # under no location when made

    created = rest.post("/external-locations", location_body(catalog_name, url, catalog_name))

    assert created["url"] == url
    refused = rest.http.delete(f"/external-locations/{catalog_name}")
    assert error(refused)[:2] == (400, "INVALID_ARGUMENT")  # and from then on the volume holds it


def test_only_a_credentials_owner_or_the_admin_may_change_or_delete_it_not_a_grantee(rest, as_user, catalog_name):
    rest.post("/credentials", credential_body(catalog_name))
    rest.patch_grants("credential", catalog_name, "bob@example.com", add=PRIVILEGES)
    bob = as_user("bob@example.com")

    assert bob.get(f"/credentials/{catalog_name}")["name"] == catalog_name
    for method in ("PATCH", "DELETE"):
        response = bob.http.request(
            method, f"/credentials/{catalog_name}", json={"comment": "x"} if method == "PATCH" else None
        )
        assert error(response) == (403, "PERMISSION_DENIED", "Access denied."), method
    grant = bob.http.patch(
        f"/permissions/credential/{catalog_name}", json=change("carol@example.com", add=["CREATE EXTERNAL LOCATION"])
    )
    assert error(grant) == (403, "PERMISSION_DENIED", "Access denied.")


def test_read_files_on_a_location_lets_a_user_fetch_path_credentials_under_it_write_needs_write_files_too(
    rest, as_user, catalog_name
):
    _, location = located(rest, catalog_name)
    alice = as_user("alice@example.com")
    read = {"url": f"{location['url']}/raw/part-0.csv", "operation": "PATH_READ"}
    write = {**read, "operation": "PATH_READ_WRITE"}

    before = alice.http.post("/temporary-path-credentials", json=read)
    rest.patch_grants("external_location", location["name"], "alice@example.com", add=["READ FILES"])
    granted = alice.http.post("/temporary-path-credentials", json=read)
    no_write = alice.http.post("/temporary-path-credentials", json=write)

    assert error(before) == (403, "PERMISSION_DENIED", "Access denied.")
    assert granted.status_code == 200, granted.text
    assert error(no_write) == (403, "PERMISSION_DENIED", "Access denied.")
