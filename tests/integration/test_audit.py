"""Audit against the real server: who can use what (`ucgov access`), and who approved each version
(provenance on the version, `ucgov history`).

The estate is built through the server's REST API, with grants made directly and on parents, as a
team would have it before anyone audits it.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_estate_inside_schemas import COLUMN

from ucgov.render import escape

pytestmark = pytest.mark.integration

A, B, C, S = "alice@example.com", "bob@example.com", "carol@example.com", "serving-app@example.com"


def build(rest, catalog: str) -> None:
    """Catalog-level USE CATALOG for alice, bob and serving-app, and EXECUTE for alice (inherited);
    schema-level USE SCHEMA for bob and serving-app; the model's own EXECUTE for serving-app and carol
    (carol has no USE CATALOG: unusable); a table with SELECT for bob."""
    files = Path(tempfile.mkdtemp(prefix="ucgov-audit-"))
    rest.post("/catalogs", {"name": catalog})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog})
    where = {"catalog_name": catalog, "schema_name": "fraud"}
    rest.post("/models", {"name": "scorer", **where})
    table = {"name": "events", **where, "table_type": "EXTERNAL", "data_source_format": "DELTA", "columns": [COLUMN]}
    rest.post("/tables", {**table, "storage_location": (files / "events").as_uri()})
    for who in (A, B, S):
        rest.patch_grants("catalog", catalog, who, add=["USE CATALOG"])
    rest.patch_grants("catalog", catalog, A, add=["EXECUTE"])
    for who in (B, S):
        rest.patch_grants("schema", f"{catalog}.fraud", who, add=["USE SCHEMA"])
    for who in (S, C):
        rest.patch_grants("registered_model", f"{catalog}.fraud.scorer", who, add=["EXECUTE"])
    rest.patch_grants("table", f"{catalog}.fraud.events", B, add=["SELECT"])


def csv_rows(ucgov, *args: str) -> list[tuple[str, ...]]:
    result = ucgov("access", *args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return [
        (r["principal"], r["kind"], r["object"], r["privilege"], r["via"], r["usable"])
        for r in csv.DictReader(io.StringIO(result.output))
    ]


def test_a_principal_an_object_and_a_catalog_give_the_expected_rows(ucgov, rest, catalog_name):
    build(rest, catalog_name)
    c, model = catalog_name, f"{catalog_name}.fraud.scorer"
    # read from every catalog, as no catalog was named: the session's server holds other tests' too
    everywhere = csv_rows(ucgov, "--principal", A)
    assert {r[0] for r in everywhere} == {A}
    assert [r for r in everywhere if r[2] == c or r[2].startswith(c + ".")] == [
        (A, "catalog", c, "EXECUTE", "direct", "yes"),
        (A, "catalog", c, "USE CATALOG", "direct", "yes"),
        (A, "model", model, "EXECUTE", f"inherited from catalog {c}", "no"),  # no USE SCHEMA on fraud
    ]
    assert csv_rows(ucgov, model) == [
        (A, "model", model, "EXECUTE", f"inherited from catalog {c}", "no"),
        (C, "model", model, "EXECUTE", "direct", "no"),
        (S, "model", model, "EXECUTE", "direct", "yes"),
    ]
    matrix = csv_rows(ucgov, "--catalog", c)
    assert (B, "table", f"{c}.fraud.events", "SELECT", "direct", "yes") in matrix
    assert (B, "schema", f"{c}.fraud", "USE SCHEMA", "direct", "yes") in matrix
    assert len(matrix) == 10  # 4 on the catalog, 2 on the schema, 3 on the model, 1 on the table
    assert {r[0] for r in matrix} == {A, B, C, S}


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_every_format_holds_the_same_rows(ucgov, rest, catalog_name, fmt):
    build(rest, catalog_name)
    model = f"{catalog_name}.fraud.scorer"
    result = ucgov("access", model, "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.output
    if fmt == "json":
        rows = json.loads(out)["rows"]
        assert [(r["principal"], r["usable"]) for r in rows] == [(A, False), (C, False), (S, True)]
        assert rows[1]["missing"][0] == {"kind": "catalog", "object": catalog_name, "privilege": "USE CATALOG"}
        return
    for who in (A, C, S):
        assert who in out
    inherited = f"inherited from catalog {catalog_name}"
    assert (escape.markdown(inherited) if fmt == "markdown" else inherited) in out
    if fmt == "text":
        assert f"{C}  EXECUTE  on model {model}  (direct)  UNUSABLE: lacks USE CATALOG on catalog {catalog_name}" in out
    if fmt == "html":
        data = json.loads(out.split('id="access-data">', 1)[1].split("</script>", 1)[0])
        assert data["principals"] == [A, C, S] and "default-src 'none'" in out


def test_offline_from_specs_at_a_revision_without_a_server(ucgov, tmp_path, monkeypatch):
    repo = git_repo(tmp_path)
    (repo / "specs" / "prod.yaml").write_text(
        f"catalogs:\n  c:\n    grants: {{{A}: [USE CATALOG]}}\n    schemas:\n      s:\n        grants: {{{A}: [USE SCHEMA, EXECUTE]}}\n"
    )
    first = commit(repo, "grant alice")
    (repo / "specs" / "prod.yaml").write_text("catalogs:\n  c: {}\n")
    commit(repo, "revoke alice")
    monkeypatch.chdir(repo)
    assert csv_rows(ucgov, "--specs", "specs", "--rev", first, "--principal", A) == [
        (A, "catalog", "c", "USE CATALOG", "direct", "yes"),
        (A, "schema", "c.s", "EXECUTE", "direct", "yes"),
        (A, "schema", "c.s", "USE SCHEMA", "direct", "yes"),
    ]
    assert csv_rows(ucgov, "--specs", "specs", "--principal", A) == []


def test_the_server_keeps_a_version_comment_patched_after_finalize(rest, catalog_name):
    model = new_version(rest, catalog_name, comment="Trained on March data")
    answered = rest.http.patch(f"/models/{model}/versions/1", json={"comment": "Trained on March data\n\nline 2"})
    assert answered.status_code == 200, answered.text
    assert rest.get(f"/models/{model}/versions/1")["comment"] == "Trained on March data\n\nline 2"
    assert rest.get(f"/models/{model}/versions/1")["status"] == "READY"  # nothing else moved


def test_an_apply_in_github_actions_writes_provenance_and_history_shows_its_commit(
    ucgov, rest, catalog_name, tmp_path, monkeypatch
):
    model = new_version(rest, catalog_name, comment="Trained on March data")
    rest.post("/models/versions", version_body(catalog_name))  # version 2, approved by hand below
    rest.http.patch(f"/models/{model}/versions/2/finalize", json={"full_name": model, "version": 2}).raise_for_status()
    repo = git_repo(tmp_path)
    spec = (
        f"catalogs:\n  {catalog_name}:\n    schemas:\n      fraud:\n        models:\n"
        "          scorer:\n            approved: {version: 1}\n"
    )
    (repo / "specs" / "prod.yaml").write_text(spec)
    sha = commit(repo, "Approve scorer v1 (#12)")
    monkeypatch.chdir(repo)
    github = {
        "GITHUB_SHA": sha,
        "GITHUB_REPOSITORY": "acme/ml-specs",
        "GITHUB_RUN_ID": "9001",
        "GITHUB_REF": "refs/heads/main",
    }
    applied = ucgov("apply", "specs", "--auto-approve", env=github)
    assert applied.exit_code == 0, applied.output
    comment = rest.get(f"/models/{model}/versions/1")["comment"]
    human, line = comment.split("\n\n")
    assert human == "Trained on March data"
    assert line.startswith("ucgov: approved at ") and f"from commit {sha} in acme/ml-specs" in line
    assert line.endswith(", run https://github.com/acme/ml-specs/actions/runs/9001")
    # version 2 approved on the server by hand, with a provenance line naming no commit of the specs
    rest.http.patch(
        f"/models/{model}/versions/2", json={"comment": "ucgov: approved at 2026-01-01T00:00:00Z outside CI"}
    )

    shown = ucgov("history", model, "--specs", "specs", "--format", "json")
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert [(a["commit"], a["review"], a["approves"]) for a in found["approvals"]] == [(sha, "PR #12", "version 1")]
    one, two = found["versions"]
    assert one["approved_now"] and one["provenance"]["commit"] == sha and one["explained_by"] == [sha]
    assert not one["unexplained"]
    assert two["unexplained"] and found["unexplained"] == [2]
    text = ucgov("history", model, "--specs", "specs")
    assert text.exit_code == 0, text.output
    assert f"approved by commit {sha[:12]}" in text.output and "UNEXPLAINED" in text.output


def version_body(catalog: str) -> dict:
    return {
        "model_name": "scorer",
        "catalog_name": catalog,
        "schema_name": "fraud",
        "source": "runs:/r1/model",
        "run_id": "r1",
    }


def new_version(rest, catalog: str, *, comment: str) -> str:
    """A model with one READY version made through REST (no files: the server does not look)."""
    model = f"{catalog}.fraud.scorer"
    rest.post("/catalogs", {"name": catalog})
    rest.post("/schemas", {"name": "fraud", "catalog_name": catalog})
    rest.post("/models", {"name": "scorer", "catalog_name": catalog, "schema_name": "fraud"})
    rest.post("/models/versions", {**version_body(catalog), "comment": comment})
    rest.http.patch(f"/models/{model}/versions/1/finalize", json={"full_name": model, "version": 1}).raise_for_status()
    return model


def git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD").strip()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_an_unknown_catalog_or_object_is_one_sentence_naming_it(ucgov, rest, catalog_name):
    missing = ucgov("access", "--catalog", catalog_name)
    assert missing.exit_code == 1
    assert (
        missing.output.strip()
        == f"Error: catalog {catalog_name} does not exist on {rest.http.base_url.scheme}://{rest.http.base_url.host}:{rest.http.base_url.port}"
    )
    build(rest, catalog_name)
    unknown = ucgov("access", f"{catalog_name}.fraud.nope")
    assert unknown.exit_code == 1 and f"no object named {catalog_name}.fraud.nope" in unknown.output
    no_history = ucgov("history", f"{catalog_name}.fraud.nope", "--specs", ".")
    assert no_history.exit_code == 1 and "Traceback" not in no_history.output


def test_a_lost_answer_to_the_provenance_write_is_ridden_out_and_the_line_written_once(
    ucgov, rest, server, catalog_name, tmp_path, monkeypatch
):
    from faultproxy import Fault, FaultProxy

    model = new_version(rest, catalog_name, comment="Trained on March data")
    repo = git_repo(tmp_path)
    (repo / "specs" / "prod.yaml").write_text(
        f"catalogs:\n  {catalog_name}:\n    schemas:\n      fraud:\n        models:\n"
        "          scorer:\n            approved: {version: 1}\n"
    )
    sha = commit(repo, "Approve scorer v1")
    monkeypatch.chdir(repo)
    proxy = FaultProxy(server.url)
    try:
        proxy.inject("PATCH", r"/versions/1$", Fault(reset_after=True))
        applied = ucgov("apply", "specs", "--auto-approve", env={"UCGOV_URL": proxy.url, "GITHUB_SHA": sha})
    finally:
        proxy.close()
    assert applied.exit_code == 0, applied.output
    comment = rest.get(f"/models/{model}/versions/1")["comment"]
    assert comment.count("ucgov: approved at") == 1 and comment.startswith("Trained on March data\n\n")
    assert comment.endswith(f"from commit {sha}")


HOSTILE = '<img src="http://127.0.0.1:9/x">=1+1"@example.com'


def test_a_principal_whose_name_is_markup_or_a_formula_stays_text_in_every_format(ucgov, rest, catalog_name):
    created = rest.scim.post("/Users", json={"displayName": "mallory", "emails": [{"value": HOSTILE, "primary": True}]})
    assert created.status_code in (200, 201, 409), created.text  # 409: an earlier run made it
    rest.post("/catalogs", {"name": catalog_name})
    rest.patch_grants("catalog", catalog_name, HOSTILE, add=["USE CATALOG"])
    html = ucgov("access", "--catalog", catalog_name, "--format", "html").output
    assert "<img" not in html and "&lt;img src=&quot;http://127.0.0.1:9/x&quot;&gt;" in html
    (row,) = csv.DictReader(io.StringIO(ucgov("access", "--catalog", catalog_name, "--format", "csv").output))
    assert row["principal"] == HOSTILE  # it starts with "<", not a formula character: kept as it is
    assert (
        json.loads(ucgov("access", "--catalog", catalog_name, "--format", "json").output)["rows"][0]["principal"]
        == HOSTILE
    )
    markdown = ucgov("access", "--catalog", catalog_name, "--format", "markdown").output
    assert "<img" not in markdown


def test_what_a_principal_holds_above_catalogs_is_listed_too_the_metastore_credentials_and_locations(
    ucgov, rest, catalog_name
):
    from test_server_storage_facts import located

    build(rest, catalog_name)
    credential, location = located(rest, catalog_name)
    rest.patch_grants("credential", credential["name"], B, add=["CREATE EXTERNAL LOCATION"])
    rest.patch_grants("external_location", location["name"], B, add=["CREATE EXTERNAL VOLUME", "READ FILES"])
    rest.patch_grants("metastore", "metastore", B, add=["CREATE CATALOG"])
    try:
        everything = csv_rows(ucgov, "--principal", B)
        by_name = csv_rows(ucgov, location["name"])
        in_catalogs = csv_rows(ucgov, "--principal", B, "--catalog", catalog_name)
    finally:
        rest.patch_grants("metastore", "metastore", B, remove=["CREATE CATALOG"])

    assert (B, "metastore", "metastore", "CREATE CATALOG", "direct", "yes") in everything
    assert (B, "credential", credential["name"], "CREATE EXTERNAL LOCATION", "direct", "yes") in everything
    assert (B, "external location", location["name"], "READ FILES", "direct", "yes") in everything
    assert by_name == [
        (B, "external location", location["name"], "CREATE EXTERNAL VOLUME", "direct", "yes"),
        (B, "external location", location["name"], "READ FILES", "direct", "yes"),
    ]
    assert (B, "table", f"{catalog_name}.fraud.events", "SELECT", "direct", "yes") in in_catalogs
    assert not [r for r in in_catalogs if r[1] in ("metastore", "credential", "external location")]
