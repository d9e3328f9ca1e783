"""The Unity Catalog server's jars, fetched once through Maven and cached.

Maven is used the way a company uses it: extra repositories (a repository manager, a folder
holding a build of the release) come from UCGOV_MAVEN_REPO or ``--maven-repo`` and are tried
before Maven Central, which a throwaway pom inherits as always.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from ucgov.errors import SandboxError

SERVER_ARTIFACT = "io.unitycatalog:unitycatalog-server"
SERVER_VERSION = "0.6.0"
MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
APPROXIMATE_SIZE = "about 190 MB"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.ucgov</groupId><artifactId>sandbox-server</artifactId><version>1</version>
  <packaging>pom</packaging>
  <repositories>{repositories}
  </repositories>
  <dependencies>
    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version></dependency>
  </dependencies>
</project>
"""
_REPOSITORY = "\n    <repository><id>{id}</id><url>{url}</url></repository>"

Progress = Callable[[str], None]


def cache_dir() -> Path:
    """Where downloaded server jars are kept between runs (UCGOV_CACHE_DIR overrides)."""
    if os.environ.get("UCGOV_CACHE_DIR"):
        return Path(os.environ["UCGOV_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ucgov"


def extra_repositories(given: Sequence[str] = ()) -> list[str]:
    """Repository URLs from ``given`` and UCGOV_MAVEN_REPO (comma-separated), folders made ``file:`` URLs.

    A folder that does not exist is refused here, in one sentence, rather than left for Maven
    to report as an artifact it could not find.
    """
    items = [*given, *os.environ.get("UCGOV_MAVEN_REPO", "").split(",")]
    return [_repository_url(item.strip()) for item in items if item.strip()]


def _repository_url(item: str) -> str:
    if urlparse(item).scheme in {"http", "https", "file"}:
        return item
    folder = Path(item).expanduser()
    if not folder.is_dir():
        raise SandboxError(
            f"the Maven repository {item} does not exist: set UCGOV_MAVEN_REPO (or --maven-repo) to a folder or URL that holds {SERVER_ARTIFACT}"
        )
    return folder.resolve().as_uri()


def server_jars(
    version: str = SERVER_VERSION, *, repositories: Sequence[str] = (), progress: Progress = lambda _: None
) -> Path:
    """A folder holding the server and its runtime dependencies, fetched with Maven on first use.

    UCGOV_SERVER_LIB may name a folder of jars of the same server obtained some other way;
    ucgov then uses it as it is.
    """
    if os.environ.get("UCGOV_SERVER_LIB"):
        given = Path(os.environ["UCGOV_SERVER_LIB"])
        if not any(given.glob("*.jar")):
            raise SandboxError(f"UCGOV_SERVER_LIB={given} holds no .jar files")
        return given
    lib = cache_dir() / f"unitycatalog-server-{version}" / "lib"
    if (lib / ".complete").exists():
        return lib
    urls = extra_repositories(repositories)
    progress(
        f"Downloading {SERVER_ARTIFACT}:{version} and its dependencies ({APPROXIMATE_SIZE}) with Maven "
        f"from {_tried(urls)}; this happens once, into {lib.parent}."
    )
    started = time.monotonic()
    _fetch_jars(version, lib, urls)
    jars = list(lib.glob("*.jar"))
    size = sum(jar.stat().st_size for jar in jars) / 1e6
    progress(f"Downloaded {len(jars)} jars ({size:.0f} MB) in {time.monotonic() - started:.0f} s.")
    return lib


def _fetch_jars(version: str, lib: Path, urls: list[str]) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise SandboxError(
            "Maven (mvn) is needed once to download the Unity Catalog server: install it, e.g. `apt-get install maven`"
        )
    group, artifact = SERVER_ARTIFACT.split(":")
    repositories = "".join(_REPOSITORY.format(id=_repository_id(url), url=escape(url)) for url in urls)
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
        pom = _POM.format(repositories=repositories, group=group, artifact=artifact, version=version)
        (Path(tmp) / "pom.xml").write_text(pom)
        out = Path(tmp) / "lib"
        # -U: a miss that Maven cached from an earlier try (before a repository was added) is tried again
        cmd = [
            mvn,
            "-B",
            "-q",
            "-U",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={out}",
        ]
        result = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise SandboxError(
                f"could not download {SERVER_ARTIFACT}:{version} with Maven from {_tried(urls)}: "
                f"{maven_error(result.stdout + result.stderr)}. "
                "If your Maven mirror lacks the server, set UCGOV_MAVEN_REPO to a repository (URL or folder) that holds it."
            )
        (out / ".complete").write_text(f"{SERVER_ARTIFACT}:{version}\n")
        if lib.exists():
            shutil.rmtree(lib)
        out.rename(lib)


def _repository_id(url: str) -> str:
    # Maven's local repository remembers which repository id each jar came from; an id per URL
    # keeps a jar fetched from one repository from passing as available from another
    return "ucgov-" + hashlib.sha256(url.encode()).hexdigest()[:12]


def _tried(urls: list[str]) -> str:
    return ", ".join([*urls, MAVEN_CENTRAL])


def maven_error(output: str) -> str:
    """Maven's first ``[ERROR]`` line, without colour codes or the help pointer."""
    for line in output.splitlines():
        clean = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
        if clean.startswith("[ERROR]") and len(clean) > len("[ERROR] "):
            return re.sub(r" -> \[Help 1\]$", "", clean[len("[ERROR] ") :])
    return output.strip()[-500:] or "Maven failed without a message"
