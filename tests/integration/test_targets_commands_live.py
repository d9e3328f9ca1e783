"""Targets on every command, against the real server: one spec whose catalog is named
``${var.env}_…`` is planned and applied as the dev catalog on dev and as the prod catalog on
prod; export, unlock and access reach the target's server with its token, whatever UCGOV_URL says."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

pytestmark = pytest.mark.integration

DEAD = "http://127.0.0.1:9"  # UCGOV_URL as the sandbox left it in some other shell: the target must win


@pytest.fixture
def targeted(server, write_spec, monkeypatch, tmp_path):
    """Specs in tmp_path/specs naming two targets on the session's server, each with its own token
    variable; UCGOV_URL points nowhere and UCGOV_TOKEN is no token; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UCGOV_RETRY_SECONDS", "0")
    env = {
        "UCGOV_URL": DEAD,
        "UCGOV_TOKEN": "not-a-token",
        "UCGOV_TOKEN_DEV": server.token,
        "UCGOV_TOKEN_PROD": server.token,
    }
    suffix = uuid.uuid4().hex[:8]
    specs = write_spec(
        f"""
targets:
  dev:  {{url: "{server.url}", token_env: UCGOV_TOKEN_DEV, vars: {{env: dev}}}}
  prod: {{url: "{server.url}", token_env: UCGOV_TOKEN_PROD, vars: {{env: prod}}}}
catalogs:
  ${{var.env}}_ml_{suffix}:
    comment: models for ${{var.env}}
    grants:
      alice@example.com: [USE CATALOG]
    schemas:
      fraud:
        models:
          scorer: {{}}
""",
        name="targets.yaml",
    )
    return specs, env, suffix


def test_one_spec_names_the_dev_catalog_on_dev_and_the_prod_catalog_on_prod(targeted, ucgov, rest):
    specs, env, suffix = targeted

    planned = ucgov("plan", str(specs), "--target", "dev", env=env)
    applied = ucgov("apply", str(specs), "--target", "dev", "--auto-approve", env=env)
    again = ucgov("plan", str(specs), "--target", "dev", "--detailed-exitcode", env=env)
    prod = ucgov("plan", str(specs), "--target", "prod", env=env)

    assert planned.exit_code == 0, planned.output
    assert f"+ catalog dev_ml_{suffix}" in planned.output
    assert f"+ schema dev_ml_{suffix}.fraud" in planned.output
    assert f"+ model dev_ml_{suffix}.fraud.scorer" in planned.output
    assert applied.exit_code == 0, applied.output
    assert rest.get(f"/catalogs/dev_ml_{suffix}")["comment"] == "models for dev"
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output
    assert prod.exit_code == 0, prod.output
    assert f"+ catalog prod_ml_{suffix}" in prod.output
    assert f"dev_ml_{suffix}" not in prod.output


def test_export_with_a_target_writes_what_its_server_holds_outside_the_specs(targeted, ucgov, tmp_path):
    specs, env, suffix = targeted
    assert ucgov("apply", str(specs), "--target", "dev", "--auto-approve", env=env).exit_code == 0

    exported = ucgov("export", "--target", "dev", "--catalog", f"dev_ml_{suffix}", env=env)

    assert exported.exit_code == 0, exported.output
    written = tmp_path / "exported" / "dev" / f"dev_ml_{suffix}.yaml"
    text = written.read_text()
    assert f"dev_ml_{suffix}:" in text
    assert "comment: models for dev" in text
    assert "alice@example.com" in text
    assert "${var" not in text  # the server's names, as they are
    replanned = ucgov("plan", str(written.parent))  # the session's server, by UCGOV_URL and UCGOV_TOKEN
    assert "No changes" in replanned.output, replanned.output


def test_unlock_and_access_with_a_target_reach_its_server(targeted, ucgov, server):
    specs, env, suffix = targeted
    assert ucgov("apply", str(specs), "--target", "dev", "--auto-approve", env=env).exit_code == 0

    unlocked = ucgov("unlock", "--target", "dev", "--specs", str(specs), env=env)
    access = ucgov("access", "--target", "dev", "--catalog", f"dev_ml_{suffix}", "--format", "csv", env=env)

    without_target = ucgov("unlock", "--url", server.url, env=env)  # UCGOV_TOKEN is refused by the server
    assert without_target.exit_code == 1, without_target.output
    assert unlocked.exit_code == 0, unlocked.output
    assert f"Nobody holds the lock on {server.url}" in unlocked.output
    assert access.exit_code == 0, access.output
    assert "alice@example.com" in access.output
    assert f"dev_ml_{suffix}" in access.output


def test_url_typed_with_a_target_is_refused_before_any_request(targeted, ucgov, server):
    specs, env, _ = targeted

    refused = ucgov("plan", str(specs), "--url", server.url, "--target", "dev", env=env)

    assert refused.exit_code == 1
    assert "--url and --target both name the server" in refused.output


def test_history_with_a_target_reads_its_server_and_its_names(targeted, ucgov, server, tmp_path):
    specs, env, suffix = targeted
    assert ucgov("apply", str(specs), "--target", "dev", "--auto-approve", env=env).exit_code == 0
    who = ["-c", "user.email=ci@example.com", "-c", "user.name=CI"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "specs"]):
        subprocess.run(["git", *who, *args], cwd=tmp_path, check=True, capture_output=True)

    found = ucgov("history", f"dev_ml_{suffix}.fraud.scorer", "--target", "dev", "--format", "json", env=env)
    missing = ucgov("history", f"prod_ml_{suffix}.fraud.scorer", "--target", "prod", env=env)

    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["model"] == f"dev_ml_{suffix}.fraud.scorer"
    assert missing.exit_code == 1
    assert f"model prod_ml_{suffix}.fraud.scorer does not exist on {server.url}" in missing.output
