"""Fetching the server through Maven: from an extra repository before Maven Central, or one clear sentence."""

from __future__ import annotations

import os
import shutil

import pytest

from ucgov import maven
from ucgov.errors import SandboxError

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    if not shutil.which("mvn"):
        pytest.skip("Maven (mvn) is not installed here")
    monkeypatch.delenv("UCGOV_SERVER_LIB", raising=False)
    monkeypatch.delenv("UCGOV_MAVEN_REPO", raising=False)
    monkeypatch.setenv("UCGOV_CACHE_DIR", str(tmp_path / "cache"))


def test_a_repository_without_the_server_names_every_repository_tried(fresh_cache, tmp_path):
    empty = tmp_path / "empty-repo"
    empty.mkdir()

    with pytest.raises(SandboxError) as raised:
        maven.server_jars(repositories=[str(empty)])

    message = str(raised.value)
    assert message.startswith(f"could not download {maven.SERVER_ARTIFACT}:{maven.SERVER_VERSION} with Maven from ")
    assert empty.as_uri() in message and maven.MAVEN_CENTRAL in message
    assert "set UCGOV_MAVEN_REPO" in message and "\n" not in message
    assert not (tmp_path / "cache" / f"unitycatalog-server-{maven.SERVER_VERSION}" / "lib").exists()


def test_the_first_fetch_says_what_it_does_before_and_what_it_got_after(server, monkeypatch, tmp_path):
    if os.environ.get("UCGOV_SERVER_LIB"):
        pytest.skip("the session's server came from UCGOV_SERVER_LIB, not through Maven")
    monkeypatch.setenv("UCGOV_CACHE_DIR", str(tmp_path / "cache"))
    heard: list[str] = []

    lib = maven.server_jars(progress=heard.append)

    assert (lib / f"unitycatalog-server-{maven.SERVER_VERSION}.jar").exists()
    assert heard[0].startswith(
        f"Downloading {maven.SERVER_ARTIFACT}:{maven.SERVER_VERSION} and its dependencies (about 190 MB)"
    )
    assert heard[1].startswith(f"Downloaded {len(list(lib.glob('*.jar')))} jars (")
    assert heard[1].endswith(" s.") and " MB) in " in heard[1]
