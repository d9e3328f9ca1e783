"""The whole lifecycle against the real server: export what was made by hand, see what is unmanaged,
and retire what the specs drop."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from ucgov.reserved import DEFAULT_LOCK as LOCK_CATALOG

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


def pruning_spec(catalog: str, *, prune: bool = True, keep: str = "") -> str:
    return f"""
settings: {{prune: {str(prune).lower()}}}
catalogs:
  {catalog}:
    schemas:
      fraud:
        models:
          scorer:
            approved: {{version: 2{keep}}}
"""


def test_prune_without_allow_destroy_changes_nothing_and_says_so_first(ucgov, rest, write_spec, catalog_name):
    make_by_hand(rest, catalog_name)
    specs = write_spec(pruning_spec(catalog_name))

    planned = json.loads(ucgov("plan", str(specs), "--format", "json").output)
    assert [(c["action"], c["address"]) for c in planned["changes"] if c["action"] == "delete"] == [
        ("delete", f"{catalog_name}.fraud.@legacy"),
        ("delete", f"{catalog_name}.true.ranker"),
        ("delete", f"{catalog_name}.empty"),
        ("delete", f"{catalog_name}.true"),
    ]
    assert any("--allow-destroy" in w for w in planned["warnings"])

    refused = ucgov("apply", str(specs), "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-destroy" in refused.stderr
    assert "Nothing was changed" in refused.stderr
    assert "done:" not in refused.output
    schemas = {s["name"] for s in rest.get(f"/schemas?catalog_name={catalog_name}")["schemas"]}
    assert schemas == {"fraud", "true", "empty"}
    assert versions_of(rest, f"{catalog_name}.true.ranker") == [1]


def test_prune_with_allow_destroy_deletes_exactly_the_undeclared_and_keeps_the_approved(
    ucgov, rest, write_spec, catalog_name
):
    make_by_hand(rest, catalog_name)
    specs = write_spec(pruning_spec(catalog_name))

    applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output

    assert [s["name"] for s in rest.get(f"/schemas?catalog_name={catalog_name}")["schemas"]] == ["fraud"]
    models = rest.get(f"/models?catalog_name={catalog_name}&schema_name=fraud")["registered_models"]
    assert [m["name"] for m in models] == ["scorer"]
    scorer = f"{catalog_name}.fraud.scorer"
    assert versions_of(rest, scorer) == [1, 2, 3]
    assert rest.get(f"/models/{scorer}")["comment"].endswith("ucgov: approved version 2")
    assert ucgov("resolve", scorer).output.strip() == f"models:/{scorer}/2"
    assert "No changes" in ucgov("plan", str(specs)).output


def test_a_spec_that_stops_declaring_a_model_retires_it_only_where_prune_is_on(ucgov, rest, write_spec, catalog_name):
    make_by_hand(rest, catalog_name)
    exported = write_spec("", name="unused.yaml").parent / "exported"
    assert ucgov("export", "--catalog", catalog_name, "--out", str(exported)).exit_code == 0
    spec = exported / f"{catalog_name}.yaml"
    text = spec.read_text()
    cut = text.index("          '@legacy':")
    spec.write_text(text[:cut] + text[text.index("          scorer:") :])

    assert "No changes" in ucgov("plan", str(exported)).output  # without prune the model is just unmanaged
    spec.write_text(spec.read_text().replace("      fraud:\n", "      fraud:\n        prune: true\n"))
    applied = ucgov("apply", str(exported), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert "delete model" in applied.output
    assert rest.status(f"/models/{catalog_name}.fraud.@legacy") == 404
    assert rest.status(f"/models/{catalog_name}.true.ranker") == 200


def test_keep_versions_keeps_the_newest_and_the_approved_one(ucgov, rest, write_spec, catalog_name):
    make_by_hand(rest, catalog_name)
    scorer = f"{catalog_name}.fraud.scorer"
    for _ in range(3):
        add_version(rest, scorer)  # versions 1..6, version 2 approved
    specs = write_spec(pruning_spec(catalog_name, prune=False, keep=", keep_versions: 2"))

    idle = ucgov("plan", str(specs), "--format", "json")
    assert [c for c in json.loads(idle.output)["changes"] if c["action"] == "delete"] == []
    assert any("keep_versions" in w for w in json.loads(idle.output)["warnings"])

    spec = specs / "spec.yaml"
    spec.write_text(spec.read_text().replace("      fraud:\n", "      fraud:\n        prune: true\n"))
    applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert versions_of(rest, scorer) == [2, 5, 6]
    assert rest.status(f"/models/{catalog_name}.true.ranker") == 200  # prune on fraud only


def test_show_unmanaged_lists_what_no_spec_declares_in_every_format(ucgov, rest, write_spec, catalog_name):
    make_by_hand(rest, catalog_name)
    other = f"{catalog_name}_other"
    rest.post("/catalogs", {"name": other})
    specs = write_spec(pruning_spec(catalog_name, prune=False))

    text = ucgov("plan", str(specs), "--show-unmanaged")
    assert text.exit_code == 0, text.output
    assert f"  ? catalog {other}\n" in text.output
    assert f"  ? schema {catalog_name}.true\n" in text.output
    assert f"  ? model {catalog_name}.fraud.@legacy\n" in text.output
    assert f"  ? model {catalog_name}.true.ranker\n" in text.output
    assert f"catalog {catalog_name}: 2 of 3 schemas not declared" in text.output
    assert f"schema {catalog_name}.fraud: 1 of 2 objects not declared" in text.output
    assert f"? catalog {LOCK_CATALOG}" not in text.output
    assert f"? catalog {catalog_name}\n" not in text.output

    document = json.loads(ucgov("plan", str(specs), "--show-unmanaged", "--format", "json").output)
    listed = {o["address"]: o["kind"] for o in document["unmanaged"]["objects"]}
    assert listed[other] == "catalog" and listed[f"{catalog_name}.empty"] == "schema"
    assert document["unmanaged"]["undeclared_children"][catalog_name] == 2
    markdown = ucgov("plan", str(specs), "--show-unmanaged", "--format", "markdown").output
    assert f"- `{catalog_name}.true.ranker` (model)" in markdown

    plain = json.loads(ucgov("plan", str(specs), "--format", "json").output)
    assert "unmanaged" not in plain


def test_a_saved_plan_that_deletes_needs_allow_destroy_too(ucgov, rest, write_spec, catalog_name, tmp_path):
    make_by_hand(rest, catalog_name)
    specs = write_spec(pruning_spec(catalog_name))
    saved = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(saved)).exit_code == 0

    refused = ucgov("apply", "--plan", str(saved), "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-destroy" in refused.stderr
    assert rest.status(f"/schemas/{catalog_name}.empty") == 200

    applied = ucgov("apply", "--plan", str(saved), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert [s["name"] for s in rest.get(f"/schemas?catalog_name={catalog_name}")["schemas"]] == ["fraud"]


def test_a_version_registered_after_the_plan_is_not_deleted_with_its_model(
    ucgov, rest, write_spec, catalog_name, tmp_path
):
    make_by_hand(rest, catalog_name)
    specs = write_spec(pruning_spec(catalog_name))
    saved = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(saved)).exit_code == 0
    add_version(rest, f"{catalog_name}.true.ranker")  # version 2, which no reviewer saw go

    stale = ucgov("apply", "--plan", str(saved), "--auto-approve", "--allow-destroy")
    assert stale.exit_code == 1
    assert f"delete model {catalog_name}.true.ranker" in stale.stderr
    assert versions_of(rest, f"{catalog_name}.true.ranker") == [1, 2]


def test_export_streams_more_than_a_page_of_models(ucgov, rest, tmp_path, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "many", "catalog_name": catalog_name})
    names = [f"m{i:03d}" for i in range(230)]
    for name in names:
        rest.post("/models", {"name": name, "catalog_name": catalog_name, "schema_name": "many", "comment": name})
    out = tmp_path / "specs"

    exported = ucgov("export", "--catalog", catalog_name, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "1 schema, 230 models" in exported.output
    assert "No changes" in ucgov("plan", str(out)).output


def add_stored_version(rest, model: str) -> tuple[int, Path]:
    """A READY version whose files are in its storage folder, as a registration leaves them; and that folder."""
    catalog, schema, name = model.split(".")
    body = {"model_name": name, "catalog_name": catalog, "schema_name": schema, "source": "runs:/0/model"}
    made = rest.post("/models/versions", {**body, "run_id": "0" * 32})
    folder = Path(unquote(urlparse(made["storage_location"]).path))
    (folder / "data").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "data" / "model.pkl").write_bytes(b"\x80\x04weights")
    version = made["version"]
    rest.http.patch(
        f"/models/{model}/versions/{version}/finalize", json={"full_name": model, "version": version}
    ).raise_for_status()
    return version, folder


def test_the_server_leaves_the_files_of_a_deleted_version_and_of_a_deleted_model(rest, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    rest.post("/models", {"name": "m", "catalog_name": catalog_name, "schema_name": "s"})
    model = f"{catalog_name}.s.m"
    _, first = add_stored_version(rest, model)
    _, second = add_stored_version(rest, model)

    rest.http.delete(f"/models/{model}/versions/1").raise_for_status()
    assert (first / "MLmodel").is_file()
    rest.http.delete(f"/models/{model}", params={"force": "true"}).raise_for_status()
    assert (second / "MLmodel").is_file()


def test_keep_versions_deletes_old_versions_and_their_folders(ucgov, rest, write_spec, catalog_name):
    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog_name})
    rest.post("/models", {"name": "scorer", "catalog_name": catalog_name, "schema_name": "fraud"})
    scorer = f"{catalog_name}.fraud.scorer"
    folders = dict(add_stored_version(rest, scorer) for _ in range(4))
    rest.http.patch(f"/models/{scorer}", json={"comment": "ucgov: approved version 2"}).raise_for_status()
    specs = write_spec(pruning_spec(catalog_name, keep=", keep_versions: 1"))

    planned = ucgov("plan", str(specs))
    for version in (1, 3):
        assert f"- delete version {version}  (" in planned.output
        assert f"its files at {folders[version].as_uri()} are removed)" in planned.output
    markdown = ucgov("plan", str(specs), "--format", "markdown").output
    assert f"its files at `{folders[1].as_uri()}` are removed" in markdown
    document = json.loads(ucgov("plan", str(specs), "--format", "json").output)
    assert [c["files"]["removed"] for c in document["changes"] if c["action"] == "delete"] == [True, True]

    applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    removed = f"done: delete version 1 of model {scorer} (its files at {folders[1].as_uri()} were removed)"
    assert removed in applied.output
    assert versions_of(rest, scorer) == [2, 4]
    assert [v for v, folder in folders.items() if folder.exists()] == [2, 4]
    assert (folders[2] / "MLmodel").is_file() and (folders[4] / "data" / "model.pkl").is_file()


def test_pruning_a_model_removes_its_folder_with_every_versions_files(ucgov, rest, write_spec, catalog_name):
    make_by_hand(rest, catalog_name)
    legacy = f"{catalog_name}.fraud.@legacy"
    _, folder = add_stored_version(rest, legacy)
    model_folder = Path(unquote(urlparse(rest.get(f"/models/{legacy}")["storage_location"]).path))
    assert folder.is_relative_to(model_folder)
    specs = write_spec(pruning_spec(catalog_name))

    assert f"(its files at {model_folder.as_uri()} are removed)" in ucgov("plan", str(specs)).output
    applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert f"done: delete model {legacy} (its files at {model_folder.as_uri()} were removed)" in applied.output
    assert rest.status(f"/models/{legacy}") == 404
    assert not model_folder.exists()


def test_the_review_shows_who_loses_the_grants_made_by_hand_on_a_schema_prune_deletes(
    ucgov, rest, write_spec, catalog_name
):
    make_by_hand(rest, catalog_name)  # bob holds USE SCHEMA on the undeclared schema `true`, carol EXECUTE on @legacy
    rest.patch_grants("schema", f"{catalog_name}.true", "carol@example.com", add=["USE SCHEMA", "CREATE MODEL"])
    rest.patch_grants("registered_model", f"{catalog_name}.true.ranker", "bob@example.com", add=["EXECUTE"])
    specs = write_spec(pruning_spec(catalog_name))

    markdown = ucgov("plan", str(specs), "--format", "markdown").output
    permissions = markdown[markdown.index("### Permission changes") :]
    bob = permissions[permissions.index("**bob@example.com**") :].split("\n\n")[0]
    assert bob.splitlines() == [
        "**bob@example.com** — 0 gains, 2 losses",
        f"- :wastebasket: **loses EXECUTE** on `{catalog_name}.true.ranker` (model) — goes with the delete",
        f"- :wastebasket: **loses USE SCHEMA** on `{catalog_name}.true` (schema) — goes with the delete",
    ]
    carol = permissions[permissions.index("**carol@example.com**") :].split("\n\n")[0]
    assert f"**loses EXECUTE** on `{catalog_name}.fraud.@legacy` (model) — goes with the delete" in carol
    assert f"**loses CREATE MODEL, USE SCHEMA** on `{catalog_name}.true` (schema) — goes with the delete" in carol
    text = ucgov("plan", str(specs)).output
    assert "      - carol@example.com loses CREATE MODEL, USE SCHEMA (goes with the delete)" in text

    assert ucgov("apply", str(specs), "--auto-approve", "--allow-destroy").exit_code == 0
    assert rest.status(f"/schemas/{catalog_name}.true") == 404


def test_apply_removes_only_the_folder_the_server_names_never_one_from_a_plan_file(
    ucgov, rest, write_spec, catalog_name, tmp_path
):
    from ucgov.planfile import _checksum

    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog_name})
    rest.post("/models", {"name": "scorer", "catalog_name": catalog_name, "schema_name": "fraud"})
    scorer = f"{catalog_name}.fraud.scorer"
    folders = dict(add_stored_version(rest, scorer) for _ in range(2))
    rest.http.patch(f"/models/{scorer}", json={"comment": "ucgov: approved version 2"}).raise_for_status()
    specs = write_spec(pruning_spec(catalog_name, keep=", keep_versions: 1"))
    saved = tmp_path / "plan.json"
    assert ucgov("plan", str(specs), "--out", str(saved)).exit_code == 0
    decoy = tmp_path / "precious"
    decoy.mkdir()
    (decoy / "keep.txt").write_text("not ucgov's")
    document = json.loads(saved.read_text())
    document.pop("checksum")
    [deletion] = [c for c in document["changes"] if c["action"] == "delete"]
    deletion["payload"]["files"]["location"] = decoy.as_uri()  # a checksum is no signature: recomputed
    saved.write_text(json.dumps({**document, "checksum": _checksum(document)}))

    applied = ucgov("apply", "--plan", str(saved), "--auto-approve", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert (decoy / "keep.txt").is_file()
    assert not folders[1].exists() and folders[2].exists()


def test_a_version_delete_whose_answer_is_lost_still_removes_its_folder(server, ucgov, rest, write_spec, catalog_name):
    from faultproxy import Fault, FaultProxy

    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog_name})
    rest.post("/models", {"name": "scorer", "catalog_name": catalog_name, "schema_name": "fraud"})
    scorer = f"{catalog_name}.fraud.scorer"
    folders = dict(add_stored_version(rest, scorer) for _ in range(2))
    rest.http.patch(f"/models/{scorer}", json={"comment": "ucgov: approved version 2"}).raise_for_status()
    specs = write_spec(pruning_spec(catalog_name, keep=", keep_versions: 1"))
    proxy = FaultProxy(server.url)
    try:
        proxy.inject("DELETE", r"/versions/1$", Fault(reset_after=True))
        applied = ucgov("apply", str(specs), "--auto-approve", "--allow-destroy", env={"UCGOV_URL": proxy.url})
    finally:
        proxy.close()

    assert applied.exit_code == 0, applied.output
    assert [e.fault for e in proxy.log if e.fault] == [Fault(reset_after=True)]
    assert versions_of(rest, scorer) == [2]
    assert not folders[1].exists() and folders[2].exists()


def test_a_prune_plan_reads_each_object_it_deletes_with_one_request_for_its_grants(server, rest, catalog_name):
    from concurrent.futures import ThreadPoolExecutor

    from test_client import CountingTransport

    from ucgov.client import UCClient
    from ucgov.live import read_live
    from ucgov.spec import load_texts

    rest.post("/catalogs", {"name": catalog_name})
    rest.post("/schemas", {"name": "s", "catalog_name": catalog_name})
    names = [f"m{i:02d}" for i in range(30)]
    body = {"catalog_name": catalog_name, "schema_name": "s"}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: rest.post("/models", {"name": n, **body}), names))
    spec = f"settings: {{prune: true}}\ncatalogs:\n  {catalog_name}:\n    schemas:\n      s: {{}}\n"
    desired = load_texts([("s.yaml", spec)], variables={})
    counting = CountingTransport()

    with UCClient(server.url, token=server.token, transport=counting) as client:
        live = read_live(client, desired)

    assert len(live.undeclared) == 30
    grants = [r for r in counting.sent if r.startswith("GET /api/2.1/unity-catalog/permissions/registered_model/")]
    assert len(grants) == 30
    # besides a grants and a versions read per model: users, the catalog, its schemas, and one listing
    # per kind inside the schema (models, tables, volumes, functions)
    assert len(counting.sent) <= 2 * 30 + 7, counting.sent
