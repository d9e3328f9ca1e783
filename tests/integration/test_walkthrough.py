"""README's main job, end to end: train iris with MLflow, apply specs/, plan again, load and predict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_iris_walkthrough_registers_approves_and_predicts(server, rest, tracking_store, tmp_path):
    env = {**os.environ, "UCGOV_URL": server.url, "UCGOV_TOKEN": server.token, "MLFLOW_TRACKING_URI": tracking_store}

    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "iris_walkthrough.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Plan: 5 to create, 8 to grant, 1 to register, 1 to approve." in out
    assert "No changes. Unity Catalog matches the specs." in out
    assert "Loading the approved version: models:/unity.default.iris/1" in out
    assert "actual_class predicted_class" in out and "setosa          setosa" in out
    assert float(out.rsplit("accuracy on all of iris: ", 1)[1].split()[0]) >= 0.9
    assert rest.grants("registered_model", "unity.default.iris") == {"serving-app@example.com": {"EXECUTE"}}
