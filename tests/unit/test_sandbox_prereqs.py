"""`ucgov sandbox start` on a machine that lacks something says in one sentence what to install."""

from __future__ import annotations

import pytest

from ucgov import sandbox
from ucgov.errors import SandboxError


@pytest.fixture
def empty_path(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("UCGOV_SERVER_LIB", raising=False)
    monkeypatch.setenv("UCGOV_CACHE_DIR", str(tmp_path / "cache"))


def test_missing_java_names_what_to_install(empty_path):
    with pytest.raises(SandboxError, match=r"Java 17 or newer is needed .* install it"):
        sandbox.java_command()


def test_missing_maven_names_what_to_install(empty_path):
    with pytest.raises(SandboxError, match=r"Maven \(mvn\) is needed .* install it"):
        sandbox.server_jars()


def test_a_server_lib_without_jars_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("UCGOV_SERVER_LIB", str(tmp_path))
    with pytest.raises(SandboxError, match="holds no .jar files"):
        sandbox.server_jars()


def test_maven_error_is_reduced_to_its_first_error_line():
    output = "\x1b[1;31m[ERROR]\x1b[m Failed to execute goal: Could not find artifact x:y:jar:1 -> [Help 1]\n[ERROR] \n"
    assert sandbox._maven_error(output) == "Failed to execute goal: Could not find artifact x:y:jar:1"
