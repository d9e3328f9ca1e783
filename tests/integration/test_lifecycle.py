"""The whole lifecycle against the real server: export what was made by hand, see what is unmanaged,
and retire what the specs drop."""

from __future__ import annotations

import json

import pytest

from ucgov.reserved import LOCK_CATALOG

pytestmark = pytest.mark.integration


def add_version(rest, model: str, run_id: str = "0" * 32) -> int:
    """A READY version made the way MLflow's client does, minus the artifacts."""
    catalog, schema, name = model.split(".")
    body = {"model_name": name, "catalog_name": catalog, "schema_name": schema, "source": "file:///tmp/m"}
    made = rest.post("/models/versions", {**body, "run_id": run_id})
    version = made["version"]
    rest.http.patch(
        f"/models/{model}/versions/{version}/finalize", json={"full_name": model, "version": version}
    ).raise_for_status()
    return version


def versions_of(rest, model: str) -> list[int]:
    return sorted(v["version"] for v in rest.get(f"/models/{model}/versions")["model_versions"])


def make_by_hand(rest, catalog: str) -> None:
    """A catalog a team built without ucgov: schemas, models with versions, grants everywhere, an approval."""
    rest.post("/catalogs", {"name": catalog, "comment": "Made by hand, costs ${budget}", "properties": {"team": "ml"}})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog, "comment": "Fraud models"})
    rest.post("/schemas", {"name": "true", "catalog_name": catalog, "properties": {"tier": "gold", "pii": "no"}})
    rest.post("/schemas", {"name": "empty", "catalog_name": catalog})
    for schema, model, comment in [
        ("fraud", "scorer", "Scores card payments"),
        ("fraud", "@legacy", None),
        ("true", "ranker", None),
    ]:
        rest.post("/models", {"name": model, "catalog_name": catalog, "schema_name": schema, "comment": comment})
    scorer = f"{catalog}.fraud.scorer"
    for _ in range(3):
        add_version(rest, scorer)
    add_version(rest, f"{catalog}.true.ranker")
    rest.http.patch(f"/models/{scorer}", json={"comment": "Scores card payments\n\nucgov: approved version 2"})
    rest.patch_grants("catalog", catalog, "alice@example.com", add=["USE CATALOG", "CREATE SCHEMA"])
    rest.patch_grants("catalog", catalog, "bob@example.com", add=["USE CATALOG"])
    rest.patch_grants("schema", f"{catalog}.fraud", "alice@example.com", add=["USE SCHEMA", "CREATE MODEL"])
    rest.patch_grants("schema", f"{catalog}.true", "bob@example.com", add=["USE SCHEMA"])
    rest.patch_grants("registered_model", scorer, "serving-app@example.com", add=["EXECUTE"])
    rest.patch_grants("registered_model", f"{catalog}.fraud.@legacy", "carol@example.com", add=["EXECUTE"])


def test_export_of_a_catalog_made_by_hand_plans_no_changes(ucgov, rest, tmp_path, catalog_name):
    make_by_hand(rest, catalog_name)
    out = tmp_path / "specs"

    exported = ucgov("export", "--catalog", catalog_name, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in out.iterdir()) == [f"{catalog_name}.yaml"]

    text = (out / f"{catalog_name}.yaml").read_text()
    assert "approved: {version: 2}" in text or "version: 2" in text
    assert "ucgov: approved version" not in text  # the loader would refuse a comment imitating the line
    planned = ucgov("plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes" in planned.output

    validated = ucgov("validate", str(out))
    assert validated.exit_code == 0, validated.output


def test_an_exported_spec_governs_grants_authoritatively(ucgov, rest, tmp_path, catalog_name):
    make_by_hand(rest, catalog_name)
    out = tmp_path / "specs"
    assert ucgov("export", "--catalog", catalog_name, "--out", str(out)).exit_code == 0
    rest.patch_grants("schema", f"{catalog_name}.empty", "carol@example.com", add=["USE SCHEMA"])

    planned = json.loads(ucgov("plan", str(out), "--format", "json").output)
    assert [(c["action"], c["address"], c["principal"]) for c in planned["changes"]] == [
        ("revoke", f"{catalog_name}.empty", "carol@example.com")
    ]


def test_export_skips_the_apply_lock_and_refuses_to_overwrite(ucgov, rest, tmp_path, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    made_lock = rest.status(f"/catalogs/{LOCK_CATALOG}") == 404
    if made_lock:
        rest.post("/catalogs", {"name": LOCK_CATALOG, "comment": "held by ucgov apply"})
    out = tmp_path / "all"
    try:
        everything = ucgov("export", "--out", str(out))
    finally:  # an apply lock left behind would stop every other test's apply
        if made_lock:
            rest.http.delete(f"/catalogs/{LOCK_CATALOG}").raise_for_status()
    assert everything.exit_code == 0, everything.output
    names = {p.name for p in out.iterdir()}
    assert f"{catalog_name}.yaml" in names
    assert f"{LOCK_CATALOG}.yaml" not in names

    again = ucgov("export", "--catalog", catalog_name, "--out", str(out))
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert ucgov("export", "--catalog", catalog_name, "--out", str(out), "--force").exit_code == 0

    missing = ucgov("export", "--catalog", f"{catalog_name}_nope", "--out", str(tmp_path / "none"))
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
