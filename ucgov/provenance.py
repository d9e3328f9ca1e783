"""Who approved a version, recorded on that model version's own comment: one line any client shows.

When apply approves a version it writes, under whatever a person wrote in the version's comment,

    ucgov: approved at 2026-12-02T04:40:00Z from commit 3f2c…e1 in acme/ml-specs, PR #12, run https://…

from the CI's standard variables: GitHub Actions' GITHUB_SHA, GITHUB_REPOSITORY, GITHUB_RUN_ID,
GITHUB_REF (``refs/pull/N/merge``), GITHUB_SERVER_URL; GitLab CI's CI_COMMIT_SHA, CI_PROJECT_PATH,
CI_PIPELINE_URL, CI_MERGE_REQUEST_IID. Outside CI the line says so. Approving the version again
replaces the line; the person's text is kept as it is. The server's limit of 255 characters is kept
by leaving out, in turn, the run, the repository and most of the commit; if even then the line does
not fit, none is written (``comment`` answers None), never a person's text cut.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone

COMMENT_LIMIT = 255
_LINE = re.compile(
    r"(?:\n\n|\A)ucgov: approved at (?P<at>\S+) (?:from commit (?P<commit>[0-9a-fA-F]{4,64})|outside CI)"
    r"(?: in (?P<repo>[^\s,]+))?(?:, (?P<review>(?:PR #|MR !)\d+))?(?:, run (?P<run>\S+))?\s*\Z"
)


@dataclass(frozen=True)
class Provenance:
    """Where an approval came from; None where the environment does not say."""

    at: str
    commit: str | None = None
    repository: str | None = None
    review: str | None = None
    """``PR #12`` (GitHub) or ``MR !12`` (GitLab)."""
    run: str | None = None
    """The pipeline run's URL."""

    def line(self) -> str:
        where = f"from commit {self.commit}" if self.commit else "outside CI"
        return (
            f"ucgov: approved at {self.at} {where}"
            + (f" in {self.repository}" if self.repository else "")
            + (f", {self.review}" if self.review else "")
            + (f", run {self.run}" if self.run else "")
        )


def from_environment(env: Mapping[str, str], now: datetime | None = None) -> Provenance:
    """The provenance the CI's variables give, at ``now`` (UTC, to the second)."""
    at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if env.get("GITHUB_SHA"):
        repo = _repository(env.get("GITHUB_REPOSITORY", ""))
        pr = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", env.get("GITHUB_REF", ""))
        run_id = env.get("GITHUB_RUN_ID", "")
        server = _url(env.get("GITHUB_SERVER_URL", "")) or "https://github.com"
        run = f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}" if repo and run_id.isdigit() else None
        return Provenance(at, _sha(env["GITHUB_SHA"]), repo, f"PR #{pr.group(1)}" if pr else None, run)
    if env.get("CI_COMMIT_SHA"):
        iid = env.get("CI_MERGE_REQUEST_IID", "")
        run = _url(env.get("CI_PIPELINE_URL", ""))
        return Provenance(
            at,
            _sha(env["CI_COMMIT_SHA"]),
            _repository(env.get("CI_PROJECT_PATH", "")),
            f"MR !{iid}" if iid.isdigit() else None,
            run,
        )
    return Provenance(at)


# what a variable may hold to be written: anything else (a newline, a space) is left out, never
# allowed to add a line of its own or to imitate another field
def _repository(value: str) -> str | None:
    return value if re.fullmatch(r"[\w.-]+(?:/[\w.-]+)+", value) else None


def _url(value: str) -> str | None:
    return value if re.fullmatch(r"https?://[\x21-\x7e]+", value) and "," not in value else None


def _sha(value: str) -> str | None:
    return value if re.fullmatch(r"[0-9a-fA-F]{4,64}", value) else None


def read(comment: str | None) -> tuple[str | None, Provenance | None]:
    """(the text a person wrote, the provenance line's contents), from a version's comment."""
    if not comment:
        return comment, None
    found = _LINE.search(comment)
    if not found:
        return comment, None
    g = found.group
    return comment[: found.start()], Provenance(g("at"), g("commit"), g("repo"), g("review"), g("run"))


def comment(existing: str | None, provenance: Provenance) -> str | None:
    """The version's new comment: the person's text, then the line (shortened to fit), or None if it cannot fit."""
    human, _ = read(existing)
    shorter = [
        provenance,
        replace(provenance, run=None),
        replace(provenance, run=None, repository=None),
        replace(provenance, run=None, repository=None, commit=provenance.commit[:12] if provenance.commit else None),
    ]
    for candidate in shorter:
        text = f"{human}\n\n{candidate.line()}" if human else candidate.line()
        if len(text.encode("utf-16-le")) // 2 <= COMMENT_LIMIT:  # as the server (Java) counts
            return text
    return None


__all__ = ["Provenance", "comment", "from_environment", "read"]
