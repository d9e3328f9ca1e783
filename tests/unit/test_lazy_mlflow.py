"""mlflow costs about a second and a few hundred MB to import: commands that need no run never import it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from ucgov.cli import cli
try:
    cli.main({args!r})
except SystemExit:
    pass
print("MLFLOW-IMPORTED" if "mlflow" in sys.modules else "MLFLOW-NOT-IMPORTED")
"""


def run_ucgov(*args: str) -> str:
    code = PROBE.format(args=list(args))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout


def test_help_does_not_import_mlflow():
    assert run_ucgov("--help").endswith("MLFLOW-NOT-IMPORTED\n")


def test_validate_does_not_import_mlflow_even_with_runs_in_the_specs(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        "catalogs:\n  c:\n    schemas:\n      s:\n        models:\n          m:\n            approved: {run: abc}\n"
    )
    output = run_ucgov("validate", str(tmp_path))
    assert "Specs are valid" in output
    assert output.endswith("MLFLOW-NOT-IMPORTED\n")
