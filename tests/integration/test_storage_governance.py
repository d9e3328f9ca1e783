"""Governing the metastore, storage credentials and external locations from specs, against the real server.

The metastore is shared by the whole session: each test records its grants first and puts them
back after. The sandbox's own ``ucgov_sandbox`` credential and location, and whatever other tests
left, must survive: a spec that says ``prune: true`` on the metastore declares every live
credential and location but the ones the test means to delete.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/uc-landing"
OTHER_ROLE = "arn:aws:iam::123456789012:role/uc-other"
METASTORE_RIGHTS = ["CREATE CATALOG", "CREATE EXTERNAL LOCATION", "CREATE STORAGE CREDENTIAL"]


def folder() -> str:
    return Path(tempfile.mkdtemp(prefix="ucgov-governed-")).as_uri()


@pytest.fixture
def metastore_grants(rest):
    """The metastore's grants as the test found them, put back exactly after it."""
    before = rest.grants("metastore", "metastore")
    yield before
    after = rest.grants("metastore", "metastore")
    for principal in set(before) | set(after):
        had, has = before.get(principal, set()), after.get(principal, set())
        if had != has:
            rest.patch_grants("metastore", "metastore", principal, add=sorted(had - has), remove=sorted(has - had))


def every_other(rest, *mine: str) -> str:
    """YAML declaring every live credential and external location but ``mine``, each as it is."""
    credentials = [c["name"] for c in rest.get("/credentials?max_results=1000")["credentials"] or ()]
    locations = [loc["name"] for loc in rest.get("/external-locations?max_results=1000")["external_locations"] or ()]
    kept = {
        "credentials": {n: {} for n in credentials if n not in mine},
        "external_locations": {n: {} for n in locations if n not in mine},
    }
    return yaml.safe_dump(kept)


def test_metastore_grants_are_applied_and_revoked_authoritatively(ucgov, write_spec, rest, metastore_grants):
    rest.patch_grants("metastore", "metastore", "carol@example.com", add=["CREATE STORAGE CREDENTIAL"])  # drift
    held = {p: sorted(privs) for p, privs in metastore_grants.items() if p != "carol@example.com"}
    wanted = {**held, "alice@example.com": ["CREATE CATALOG"], "bob@example.com": ["CREATE EXTERNAL LOCATION"]}
    specs = write_spec(yaml.safe_dump({"metastore": {"grants": wanted}}))

    planned = ucgov("plan", str(specs))
    applied = ucgov("apply", str(specs), "--auto-approve")

    assert planned.exit_code == 0, planned.output
    assert "~ metastore  (grants: authoritative)" in planned.output
    assert "+ grant CREATE CATALOG to alice@example.com" in planned.output
    assert "revoke CREATE STORAGE CREDENTIAL from carol@example.com" in planned.output
    assert applied.exit_code == 0, applied.output
    found = rest.grants("metastore", "metastore")
    assert found["alice@example.com"] >= {"CREATE CATALOG"} and "carol@example.com" not in found
    assert ucgov("plan", str(specs)).output.startswith("No changes.")

    specs = write_spec(yaml.safe_dump({"metastore": {"grants": held}}))
    revoked = ucgov("apply", str(specs), "--auto-approve")

    assert revoked.exit_code == 0, revoked.output
    found = rest.grants("metastore", "metastore")
    assert "CREATE CATALOG" not in found.get("alice@example.com", set()) - metastore_grants.get(
        "alice@example.com", set()
    )
    assert "bob@example.com" not in found or found["bob@example.com"] == metastore_grants.get("bob@example.com")


def test_a_credential_and_a_location_are_created_granted_updated_exported_and_pruned(
    ucgov, write_spec, rest, catalog_name, tmp_path, metastore_grants
):
    credential, location, url = f"{catalog_name}_c", f"{catalog_name}_l", folder()
    spec = {
        "credentials": {
            credential: {
                "aws_iam_role": {"role_arn": ROLE},
                "comment": "Landing bucket access",
                "grants": {"alice@example.com": ["CREATE EXTERNAL LOCATION"]},
            }
        },
        "external_locations": {
            location: {
                "url": url + "/",  # the server keeps it without the slash: compared so, no change planned
                "credential": credential,
                "comment": "Landing zone",
                "grants": {"bob@example.com": ["READ FILES", "CREATE EXTERNAL TABLE"]},
            }
        },
    }
    specs = write_spec(yaml.safe_dump(spec))

    created = ucgov("apply", str(specs), "--auto-approve")

    assert created.exit_code == 0, created.output
    assert rest.get(f"/credentials/{credential}")["aws_iam_role"]["role_arn"] == ROLE
    live = rest.get(f"/external-locations/{location}")
    assert (live["url"], live["credential_name"], live["comment"]) == (url, credential, "Landing zone")
    assert rest.grants("credential", credential) == {"alice@example.com": {"CREATE EXTERNAL LOCATION"}}
    assert rest.grants("external_location", location) == {"bob@example.com": {"READ FILES", "CREATE EXTERNAL TABLE"}}
    assert ucgov("plan", str(specs)).output.startswith("No changes.")

    moved = folder()
    spec["credentials"][credential] |= {"comment": "Other role", "aws_iam_role": {"role_arn": OTHER_ROLE}}
    spec["external_locations"][location] |= {"url": moved, "comment": "Moved"}
    specs = write_spec(yaml.safe_dump(spec))
    planned = ucgov("plan", str(specs))
    updated = ucgov("apply", str(specs), "--auto-approve")

    assert updated.exit_code == 0, updated.output
    assert "external_id" not in planned.output
    assert rest.get(f"/credentials/{credential}")["aws_iam_role"]["role_arn"] == OTHER_ROLE
    assert rest.get(f"/external-locations/{location}")["url"] == moved
    assert ucgov("plan", str(specs)).output.startswith("No changes.")  # a new external_id is no change

    out = tmp_path / "exported"
    exported = ucgov("export", "--out", str(out), "--metastore", "--catalog", _a_catalog(rest, catalog_name))
    assert exported.exit_code == 0, exported.output
    written = (out / "_metastore.yaml").read_text()
    assert "external_id" not in written and "unity_catalog_iam_arn" not in written
    again = yaml.safe_load(written)
    assert again["credentials"][credential] == spec["credentials"][credential]
    assert again["external_locations"][location] == {
        "comment": "Moved", "url": moved, "credential": credential,
        "grants": {"bob@example.com": ["READ FILES", "CREATE EXTERNAL TABLE"]},
    }  # fmt: skip
    round_trip = ucgov("plan", str(out))
    assert round_trip.exit_code == 0, round_trip.output
    assert round_trip.output.startswith("No changes."), round_trip.output

    pruning = write_spec(yaml.safe_dump({"metastore": {"prune": True}}) + every_other(rest, credential, location))
    planned = ucgov("plan", str(pruning))
    refused = ucgov("apply", str(pruning), "--auto-approve")
    refused_left = rest.status(f"/credentials/{credential}")
    deleted = ucgov("apply", str(pruning), "--auto-approve", "--allow-destroy")

    assert planned.exit_code == 0, planned.output
    gone_location, gone_credential = f"- external location {location}", f"- credential {credential}"
    assert gone_location in planned.output and gone_credential in planned.output
    assert "prune is on for the metastore" in planned.output
    assert planned.output.index(gone_location) < planned.output.index(gone_credential)  # the server refuses otherwise
    assert refused.exit_code != 0 and "--allow-destroy" in refused.output and refused_left == 200
    assert deleted.exit_code == 0, deleted.output
    assert rest.status(f"/credentials/{credential}") == 404 and rest.status(f"/external-locations/{location}") == 404
    assert rest.status("/credentials/ucgov_sandbox") == 200 and rest.status("/external-locations/ucgov_sandbox") == 200


def _a_catalog(rest, name: str) -> str:
    rest.post("/catalogs", {"name": name})
    return name


def test_settings_prune_never_deletes_a_credential_nor_does_a_metastore_without_prune(
    ucgov, write_spec, rest, catalog_name
):
    rest.post("/credentials", {"name": catalog_name, "purpose": "STORAGE", "aws_iam_role": {"role_arn": ROLE}})
    specs = write_spec(yaml.safe_dump({"settings": {"prune": True}, "metastore": {}}))

    planned = ucgov("plan", str(specs), "--show-unmanaged")

    assert planned.exit_code == 0, planned.output
    assert "delete credential" not in planned.output
    assert catalog_name in planned.output  # listed as unmanaged, left alone
    assert rest.status(f"/credentials/{catalog_name}") == 200


def test_prune_keeps_a_location_a_volume_lies_under_and_the_credential_it_uses_saying_why(
    ucgov, write_spec, rest, catalog_name, server
):
    credential, location = f"{catalog_name}_c", f"{catalog_name}_l"
    rest.post("/credentials", {"name": credential, "purpose": "STORAGE", "aws_iam_role": {"role_arn": ROLE}})
    url = rest.post("/external-locations", {"name": location, "url": folder(), "credential_name": credential})["url"]
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    volume = {"name": "v", "catalog_name": catalog_name, "schema_name": "s", "volume_type": "EXTERNAL"}
    rest.post("/volumes", {**volume, "storage_location": f"{url}/v"})
    spec = {"metastore": {"prune": True}, "catalogs": {catalog_name: {"schemas": {"s": {}}}}}
    specs = write_spec(yaml.safe_dump(spec) + every_other(rest, credential, location))

    planned = ucgov("plan", str(specs))
    applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")

    assert planned.exit_code == 0, planned.output
    assert f"external location {location} is kept: volume {catalog_name}.s.v still uses it" in planned.output
    assert f"credential {credential} is kept: external location {location} still uses it" in planned.output
    assert "delete" not in applied.output.lower().replace("allow-destroy", "")
    assert rest.status(f"/credentials/{credential}") == 200 and rest.status(f"/external-locations/{location}") == 200


def test_a_declared_storage_location_under_no_external_location_is_a_plan_warning(
    ucgov, write_spec, rest, catalog_name
):
    outside = folder()
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    volumes = {"raw": {"volume_type": "EXTERNAL", "storage_location": f"{outside}/raw"}}
    specs = write_spec(yaml.safe_dump({"catalogs": {catalog_name: {"schemas": {"s": {"volumes": volumes}}}}}))

    planned = ucgov("plan", str(specs))

    assert planned.exit_code == 0, planned.output
    assert f"volume {catalog_name}.s.raw: its storage_location {outside}/raw lies under no external location" in (
        " ".join(planned.output.split())
    )


def test_a_saved_plan_of_metastore_and_location_grants_applies_and_its_review_says_who_may_create_catalogs(
    ucgov, write_spec, rest, catalog_name, tmp_path, metastore_grants
):
    credential = f"{catalog_name}_c"
    rest.post("/credentials", {"name": credential, "purpose": "STORAGE", "aws_iam_role": {"role_arn": ROLE}})
    held = {p: sorted(privs) for p, privs in metastore_grants.items()}
    spec = {
        "metastore": {"grants": {**held, "carol@example.com": ["CREATE CATALOG"]}},
        "credentials": {credential: {"grants": {"bob@example.com": ["READ FILES"]}}},
    }
    specs = write_spec(yaml.safe_dump(spec))
    plan_file = tmp_path / "plan.json"

    review = ucgov("plan", str(specs), "--format", "markdown")
    saved = ucgov("plan", str(specs), "--out", str(plan_file))
    applied = ucgov("apply", "--plan", str(plan_file), "--auto-approve")

    assert "### Who may create catalogs, storage credentials and external locations" in review.output
    assert "- **carol@example.com** may now create catalogs" in review.output
    assert saved.exit_code == 0 and applied.exit_code == 0, applied.output
    assert "CREATE CATALOG" in rest.grants("metastore", "metastore")["carol@example.com"]
    assert rest.grants("credential", credential) == {"bob@example.com": {"READ FILES"}}


def test_a_policy_denying_create_catalog_on_the_metastore_stops_the_plan_at_the_grant(ucgov, write_spec):
    specs = write_spec(
        "metastore:\n  grants:\n    carol@example.com: [CREATE CATALOG]\n"
        "policies:\n  - name: no-catalogs-for-carol\n"
        "    deny: {kind: metastore, principal: carol@example.com, privileges: [CREATE CATALOG]}\n"
    )

    planned = ucgov("plan", str(specs))

    assert planned.exit_code == 1
    assert "spec.yaml:3:25: policy 'no-catalogs-for-carol' denies CREATE CATALOG to carol@example.com" in planned.output


def test_the_issues_example_a_location_and_a_catalog_whose_storage_root_lies_under_it_in_one_apply(
    ucgov, write_spec, rest, catalog_name, metastore_grants
):
    url = folder()
    held = {p: sorted(privs) for p, privs in metastore_grants.items()}
    spec = {
        "metastore": {"grants": {**held, "alice@example.com": ["CREATE CATALOG", "CREATE EXTERNAL LOCATION"]}},
        "credentials": {
            f"{catalog_name}_role": {
                "purpose": "STORAGE",
                "aws_iam_role": {"role_arn": ROLE},
                "comment": "Landing bucket access",
                "grants": {"alice@example.com": ["CREATE EXTERNAL LOCATION"]},
            }
        },
        "external_locations": {
            f"{catalog_name}_landing": {
                "url": url,
                "credential": f"{catalog_name}_role",
                "comment": "Landing zone",
                "grants": {"bob@example.com": ["READ FILES", "CREATE EXTERNAL TABLE"]},
            }
        },
        "catalogs": {catalog_name: {"storage_root": f"{url}/{catalog_name}"}},
    }
    specs = write_spec(yaml.safe_dump(spec))

    applied = ucgov("apply", str(specs), "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/catalogs/{catalog_name}")["storage_root"] == f"{url}/{catalog_name}"
    assert ucgov("plan", str(specs)).output.startswith("No changes.")
