"""boto3 is an optional extra: commands that meet no s3:// location never import it."""

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
print("BOTO3-IMPORTED" if {{"boto3", "botocore"}} & set(sys.modules) else "BOTO3-NOT-IMPORTED")
"""


def run_ucgov(*args: str) -> str:
    code = PROBE.format(args=list(args))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout


def test_help_does_not_import_boto3():
    assert run_ucgov("--help").endswith("BOTO3-NOT-IMPORTED\n")


def test_validate_does_not_import_boto3_even_with_runs_in_the_specs(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        "catalogs:\n  c:\n    schemas:\n      s:\n        models:\n          m:\n            approved: {run: abc}\n"
    )
    output = run_ucgov("validate", str(tmp_path))
    assert "Specs are valid" in output
    assert output.endswith("BOTO3-NOT-IMPORTED\n")


def test_importing_the_registration_modules_does_not_import_boto3():
    code = "import sys, ucgov.versions, ucgov.storage, ucgov.sandbox; print(bool({'boto3', 'botocore'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
