"""Promotion across targets with two real servers on this machine: a version reviewed on the dev
target's server is copied, gated and with its lineage, to the prod target's server by a spec
change; MLflow loads it from prod's server; a plan saved for prod is refused under dev."""

from __future__ import annotations

import socket

import pytest
from faultproxy import FaultProxy
from test_approvals import versions
from test_promotion_live import dev_spec, load

pytestmark = pytest.mark.integration


def prod_specs(folder, server, second_server, catalog: str, *, source_target: str = "dev", dev_url: str = ""):
    """A spec repository with targets dev (the first server) and prod (the second), promoting dev's version 1."""
    folder.mkdir(exist_ok=True)
    (folder / "targets.yaml").write_text(f"""
targets:
  dev: {{url: "{dev_url or server.url}", token_env: UCGOV_TOKEN_DEV}}
  prod: {{url: "{second_server.url}", token_env: UCGOV_TOKEN_PROD}}
""")
    (folder / "prod.yaml").write_text(f"""
catalogs:
  {catalog}_prod:
    schemas:
      fraud:
        models:
          scorer:
            grants: {{serving-app@example.com: [EXECUTE]}}
            approved:
              from: {{target: {source_target}, model: {catalog}_dev.fraud.scorer}}
              version: 1
              require: {{metrics: {{accuracy: '>= 0.9'}}}}
""")
    return folder


@pytest.fixture
def dev_version(ucgov, tmp_path, train_iris, catalog_name):
    """A run registered and approved as version 1 in the dev catalog on the first server, as dev's apply made it."""
    run = train_iris()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "dev.yaml").write_text(dev_spec(catalog_name, run))
    applied = ucgov("apply", str(tmp_path / "dev"), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return run


@pytest.fixture
def env(server, second_server) -> dict[str, str]:
    """Each target's token in its own variable; UCGOV_URL and UCGOV_TOKEN name no server."""
    return {
        "UCGOV_URL": "http://127.0.0.1:9",
        "UCGOV_TOKEN": "",
        "UCGOV_TOKEN_DEV": server.token,
        "UCGOV_TOKEN_PROD": second_server.token,
    }


def test_a_version_reviewed_on_dev_is_promoted_to_prods_server_and_loads_and_predicts_the_same(
    server, second_server, ucgov, rest, second_rest, dev_version, catalog_name, tmp_path, env
):
    from sklearn.datasets import load_iris

    run = dev_version
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    dev_before = rest.get(f"/models/{source}/versions/1")
    specs = str(prod_specs(tmp_path / "prod", server, second_server, catalog_name))
    plan_file = tmp_path / "prod.plan.json"

    plan = ucgov("plan", specs, "--target", "prod", "--out", str(plan_file), env=env)
    refused = ucgov("apply", "--plan", str(plan_file), "--target", "dev", specs, "--auto-approve", env=env)
    applied = ucgov("apply", specs, "--target", "prod", "--auto-approve", env=env)

    assert plan.exit_code == 0, plan.output
    assert f"promote dev:{source}/1 → new version of {target} (run {run})" in plan.output
    assert f"from target dev at {server.url}" in plan.output
    assert "gate metric accuracy >= 0.9: the run has 0.99" in plan.output, plan.output
    assert refused.exit_code == 1 and "was planned for target prod, and this apply names --target dev" in refused.output
    assert applied.exit_code == 0, applied.output
    assert f"promote dev:{source}/1 as version 1 of model {target}" in applied.output
    assert versions(second_rest, target) == [(1, run, "READY")]
    made = second_rest.get(f"/models/{target}/versions/1")
    assert made["comment"].splitlines()[0] == f"promoted from dev:{source}/1"
    assert made["source"] == dev_before["source"]
    assert second_rest.get(f"/models/{target}")["comment"] == "ucgov: approved version 1"
    assert rest.get(f"/models/{source}/versions/1") == dev_before  # the source is never changed
    assert rest.status(f"/catalogs/{catalog_name}_prod") == 404  # nothing of prod's on dev's server
    features, _ = load_iris(return_X_y=True, as_frame=True)
    from_prod = load(second_server, f"models:/{target}/1").predict(features)
    from_dev = load(server, f"models:/{source}/1").predict(features)
    assert list(from_prod) == list(from_dev)

    again = ucgov("apply", specs, "--target", "prod", "--auto-approve", env=env)
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert versions(second_rest, target) == [(1, run, "READY")]


def test_a_saved_plan_reaches_the_source_server_only_once_the_specs_vouch_for_the_url_it_records(
    server, second_server, ucgov, rest, second_rest, dev_version, catalog_name, tmp_path, env
):
    run = dev_version
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    specs = str(prod_specs(tmp_path / "prod", server, second_server, catalog_name))
    plan_file = tmp_path / "prod.plan.json"
    prod = {**env, "UCGOV_URL": second_server.url, "UCGOV_TOKEN": second_server.token}  # no --target: UCGOV_URL
    assert ucgov("plan", specs, "--out", str(plan_file), env=prod).exit_code == 0
    saved = plan_file.read_text()
    assert server.token not in saved and second_server.token not in saved  # the token's variable only
    assert '"token_env": "UCGOV_TOKEN_DEV"' in saved and f'"url": "{server.url}"' in saved

    # the file's checksum is no signature: dev's token goes to the URL it records only once the specs name it
    unvouched = ucgov("apply", "--plan", str(plan_file), "--auto-approve", env=prod)
    tokenless = ucgov("apply", "--plan", str(plan_file), specs, "--auto-approve", env={**prod, "UCGOV_TOKEN_DEV": ""})
    applied = ucgov("apply", "--plan", str(plan_file), specs, "--auto-approve", env=prod)
    again = ucgov("apply", "--plan", str(plan_file), specs, "--auto-approve", env=prod)

    assert unvouched.exit_code == 1, unvouched.output
    assert f"copies from target dev's server at {server.url}" in unvouched.output
    assert "give the spec PATHS it was made from" in unvouched.output
    assert tokenless.exit_code == 1
    assert "target dev reads its token from UCGOV_TOKEN_DEV, which is not set" in tokenless.output
    assert "Traceback" not in unvouched.output + tokenless.output
    assert applied.exit_code == 0, applied.output
    assert f"promote dev:{source}/1 as version 1 of model {target}" in applied.output
    assert again.exit_code == 0 and "already done" in again.output, again.output
    assert versions(second_rest, target) == [(1, run, "READY")]
    assert versions(rest, source) == [(1, run, "READY")]


def test_what_keeps_a_source_on_another_target_from_being_read_is_a_plan_error_at_the_specs_line(
    server, second_server, ucgov, second_rest, dev_version, catalog_name, tmp_path, env
):
    target = f"{catalog_name}_prod.fraud.scorer"
    specs = str(prod_specs(tmp_path / "prod", server, second_server, catalog_name))
    itself = str(prod_specs(tmp_path / "itself", server, second_server, catalog_name, source_target="prod"))
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    unreachable = str(prod_specs(tmp_path / "down", server, second_server, catalog_name, dev_url=closed))

    no_token = ucgov("plan", specs, "--target", "prod", env={**env, "UCGOV_TOKEN_DEV": ""})
    same = ucgov("plan", itself, "--target", "prod", env=env)
    down = ucgov("plan", unreachable, "--target", "prod", env={**env, "UCGOV_RETRY_SECONDS": "0"})
    # without --target the source target is still looked up in the specs' targets
    untargeted = ucgov("plan", specs, env={**env, "UCGOV_URL": second_server.url, "UCGOV_TOKEN": second_server.token})

    assert no_token.exit_code == 1
    assert "prod.yaml:10:" in no_token.output
    assert "target dev reads its token from UCGOV_TOKEN_DEV, which is not set" in no_token.output
    assert same.exit_code == 1 and "prod.yaml:10:" in same.output
    assert "target prod is the target being planned" in same.output
    assert down.exit_code == 1 and "prod.yaml:10:" in down.output, down.output
    assert f"cannot reach target dev at {closed} (ConnectError)" in down.output
    assert untargeted.exit_code == 0, untargeted.output
    assert f"promote dev:{catalog_name}_dev.fraud.scorer/1 → new version of {target}" in untargeted.output
    assert "Traceback" not in no_token.output + same.output + down.output
    assert second_rest.status(f"/models/{target}") == 404  # nothing was applied


def test_a_source_server_gone_between_plan_and_apply_stops_the_apply_in_one_sentence_and_makes_nothing(
    server, second_server, ucgov, second_rest, dev_version, catalog_name, tmp_path, env
):
    target = f"{catalog_name}_prod.fraud.scorer"
    proxy = FaultProxy(server.url)  # dev's server, reached through a proxy that then goes away
    specs = str(prod_specs(tmp_path / "prod", server, second_server, catalog_name, dev_url=proxy.url))
    plan_file = tmp_path / "prod.plan.json"
    prod = {**env, "UCGOV_URL": second_server.url, "UCGOV_TOKEN": second_server.token}
    try:
        planned = ucgov("plan", specs, "--out", str(plan_file), env=prod)
    finally:
        proxy.close()
    gone = {**prod, "UCGOV_RETRY_SECONDS": "0"}

    with_specs = ucgov("apply", "--plan", str(plan_file), specs, "--auto-approve", env=gone)

    assert planned.exit_code == 0, planned.output
    assert with_specs.exit_code == 1 and "prod.yaml:10:" in with_specs.output, with_specs.output
    assert f"cannot reach target dev at {proxy.url} (ConnectError) to read model" in with_specs.output
    assert "Traceback" not in with_specs.output
    assert second_rest.status(f"/models/{target}") == 404  # checked under the lock before any change: nothing made
