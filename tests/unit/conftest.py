"""Shared fixtures for the unit tests: specs from text or on disk, and an environment free of UCGOV_* settings."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ucgov import redact
from ucgov.spec import load_texts
from ucgov.state import DesiredState

# The machines are shared and CI runs a Java server beside these tests: a property test is about
# what holds, never how fast one example runs, so no example deadline and no "too slow" check.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")

KEEP = {"UCGOV_UPDATE_GOLDEN"}  # a switch for the test suite itself, not a ucgov setting


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own UCGOV_URL, UCGOV_TOKEN or UCGOV_VAR_* must not change what a test sees."""
    for name in list(os.environ):
        if (name.startswith("UCGOV_") and name not in KEEP) or name == "NO_COLOR":
            monkeypatch.delenv(name)
    monkeypatch.setattr(redact, "KNOWN", redact.Secrets())  # secrets one test gave are not another's to mask


@pytest.fixture
def load_spec() -> Callable[..., DesiredState]:
    """Desired state from one YAML text, written as an indented triple-quoted string in the test."""

    def load(text: str, *, path: str = "specs/team.yaml", variables: Mapping[str, str] | None = None) -> DesiredState:
        return load_texts([(path, textwrap.dedent(text))], variables=dict(variables or {}))

    return load


@pytest.fixture
def write_specs(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """A spec directory on disk: {relative path: YAML text} -> the directory."""

    def write(files: Mapping[str, str], *, under: str = "specs") -> Path:
        root = tmp_path / under
        root.mkdir(parents=True, exist_ok=True)
        for relative, text in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write
