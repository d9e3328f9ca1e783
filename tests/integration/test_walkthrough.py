"""README's main job, end to end: train iris with MLflow, apply specs/, plan again, load and predict;
promote the approved version to prod by a second spec change, load it there and predict the same;
then README's next step, planning by hand in the same shell, as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
NEXT_STEP = ". .ucgov-demo/env && ucgov plan specs/"


def test_the_iris_walkthrough_registers_approves_and_predicts_and_readmes_next_step_works(server, rest, tmp_path):
    checkout = tmp_path / "checkout"  # a copy, so the walkthrough's own store lands there, not in this checkout
    for part in ("examples", "specs"):
        shutil.copytree(ROOT / part, checkout / part)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}  # a new user's shell
    env.update(UCGOV_URL=server.url, UCGOV_TOKEN=server.token, PYTHONPATH=str(ROOT))
    env.update(UCGOV_VAR_SANDBOX_STORAGE=server.managed_root)  # as `eval "$(ucgov sandbox start)"` sets it

    result = subprocess.run(
        [sys.executable, "examples/iris_walkthrough.py"],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Plan: 6 to create, 9 to grant, 1 to register, 1 to approve." in out
    assert "+ volume unity.fraud.transactions_raw" in out  # a managed volume, under the schema's storage_root
    assert "No changes. Unity Catalog matches the specs." in out
    assert "Loading the approved version: models:/unity.default.iris/1" in out
    assert "actual_class predicted_class" in out and "setosa          setosa" in out
    assert float(out.rsplit("accuracy on all of iris: ", 1)[1].split()[0]) >= 0.9
    assert rest.grants("registered_model", "unity.default.iris") == {"serving-app@example.com": {"EXECUTE"}}
    assert "promote unity.default.iris/1 → new version of prod.default.iris" in out
    assert "Loading the promoted version: models:/prod.default.iris/1" in out
    assert "The promoted version predicts the same as the approved one." in out
    assert rest.grants("registered_model", "prod.default.iris") == {"serving-app@example.com": {"EXECUTE"}}
    assert "promoted from unity.default.iris/1" in rest.get("/models/prod.default.iris/versions/1")["comment"]
    assert NEXT_STEP in out

    assert NEXT_STEP in (ROOT / "README.md").read_text()
    shell = f'ucgov() {{ "{sys.executable}" -m ucgov "$@"; }}\n{NEXT_STEP}\n'
    by_hand = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, env=env, cwd=checkout, timeout=300)

    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    assert "No changes. Unity Catalog matches the specs." in by_hand.stdout
    assert sorted(p.name for p in checkout.iterdir()) == [".ucgov-demo", "examples", "specs"]  # no stray mlflow.db
