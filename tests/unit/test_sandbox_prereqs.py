"""`ucgov sandbox start` on a machine that lacks something says in one sentence what to install."""

from __future__ import annotations

import pytest

from ucgov import maven, sandbox
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
        maven.server_jars()


def test_a_server_lib_without_jars_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("UCGOV_SERVER_LIB", str(tmp_path))
    with pytest.raises(SandboxError, match="holds no .jar files"):
        maven.server_jars()


def test_maven_error_is_reduced_to_its_first_error_line():
    output = "\x1b[1;31m[ERROR]\x1b[m Failed to execute goal: Could not find artifact x:y:jar:1 -> [Help 1]\n[ERROR] \n"
    assert maven.maven_error(output) == "Failed to execute goal: Could not find artifact x:y:jar:1"


def test_a_missing_maven_repository_folder_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.delenv("UCGOV_SERVER_LIB", raising=False)
    monkeypatch.setenv("UCGOV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("UCGOV_MAVEN_REPO", str(tmp_path / "no-such-repo"))

    with pytest.raises(SandboxError) as raised:
        maven.server_jars()

    message = str(raised.value)
    assert message.startswith(f"the Maven repository {tmp_path / 'no-such-repo'} does not exist")
    assert "UCGOV_MAVEN_REPO" in message and "\n" not in message


def test_extra_repositories_come_from_the_option_then_the_environment(monkeypatch, tmp_path):
    (tmp_path / "mirror").mkdir()
    monkeypatch.setenv("UCGOV_MAVEN_REPO", f"https://repo.example.com/maven, {tmp_path / 'mirror'} ,")

    urls = maven.extra_repositories(["file:///srv/maven"])

    assert urls == ["file:///srv/maven", "https://repo.example.com/maven", (tmp_path / "mirror").as_uri()]


def test_s3_storage_without_moto_names_the_extra_to_install(monkeypatch):
    monkeypatch.setattr(sandbox, "find_spec", lambda name: None)
    with pytest.raises(SandboxError, match=r"moto's S3 server .* pip install 'ucgov\[sandbox-s3\]'"):
        sandbox.start(1, storage="s3")


def test_an_unknown_storage_is_refused_before_anything_starts():
    with pytest.raises(SandboxError, match="storage 'gcs' is not one of file, s3"):
        sandbox.start(1, storage="gcs")
