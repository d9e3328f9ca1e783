"""``ucgov history MODEL``: the approvals of one model over time, from git, joined with the server's versions.

From git: each commit on the branch's first-parent line that changed what the specs approve for the
model (its author, date, and the pull or merge request its message names). From the server: every
version, its status, the source a promotion copied it from (its lineage line), the provenance line
apply wrote on it (``ucgov.provenance``) and whether the model approves it now. A version approved
on the server (now, or by a provenance line) that no commit approves is flagged: someone approved it
behind the specs' back, or from a history since rewritten.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from ucgov import approval, gitspecs, provenance
from ucgov.errors import UcgovError
from ucgov.kinds import Kind
from ucgov.render import escape
from ucgov.state import Approval, ModelVersion, Ref, lineage

_REVIEW = (
    (re.compile(r"^Merge pull request #(\d+)", re.M), "PR #{}"),
    (re.compile(r"See merge request \S*!(\d+)"), "MR !{}"),
    (re.compile(r"\(#(\d+)\)\s*$", re.M), "PR #{}"),  # a squash merge's subject
)


_PROMOTED = lineage("", 0).removesuffix("/0")  # "promoted from ": how a lineage line starts


@dataclass(frozen=True)
class Approved:
    """A commit that changed the model's approval."""

    commit: str
    author: str
    date: str
    review: str | None
    approves: str
    """What the specs approve from this commit on, in words: ``version 3``, ``run R at 'model'``, ``nothing``."""
    version: int | None = None
    run: str | None = None
    artifact_path: str = "model"
    lineage: str | None = None
    """A promotion's: the line the promoted version's comment carries (``ucgov.state.lineage``)."""


@dataclass(frozen=True)
class Version:
    """A version on the server, and who explains its approval."""

    version: int
    status: str
    run_id: str | None
    approved_now: bool
    provenance: provenance.Provenance | None
    explained_by: tuple[str, ...]
    """The commits whose approval names this version (by number, the run it came from, or the
    promotion whose lineage line its comment carries)."""
    unexplained: bool
    provenance_commit_unknown: bool = False
    promoted_from: str | None = None
    """``MODEL/N`` for a version a promotion made, from its comment's lineage line."""


def review_of(message: str) -> str | None:
    """``PR #12`` / ``MR !7`` where a merge commit's message (or a squash merge's subject) says so."""
    for pattern, shape in _REVIEW:
        found = pattern.search(message)
        if found:
            return shape.format(found.group(1))
    return None


def approvals(commits: Sequence[dict[str, str]], approved_at: Sequence[Approval | None]) -> list[Approved]:
    """The commits (oldest first) at which what the specs approve changed, given each one's approval."""
    found, before = [], None
    for commit, now in zip(commits, approved_at, strict=True):
        key = (now.version, now.run, now.artifact_path, now.lineage) if now else None
        if key != before:
            found.append(
                Approved(
                    commit["commit"],
                    commit["author"],
                    commit["date"],
                    review_of(commit["message"]),
                    _words(now),
                    now.version if now else None,
                    now.run if now else None,
                    now.artifact_path if now else "model",
                    now.lineage if now else None,
                )
            )
        before = key
    return found


def joined(
    history: Sequence[Approved],
    versions: Sequence[ModelVersion],
    comments: Sequence[str | None],
    approved_now: int | None,
    known: frozenset[str] = frozenset(),
) -> list[Version]:
    """Each server version with the commits that approve it and whether its approval is unexplained."""
    rows = []
    for v, comment in zip(versions, comments, strict=True):
        _, line = provenance.read(comment)
        lines = (comment or "").splitlines()
        by = tuple(
            a.commit
            for a in history
            if a.version == v.version
            or (a.run and v.came_from(a.run, a.artifact_path))
            or (a.lineage and a.lineage in lines)
        )
        approved = v.version == approved_now or line is not None
        unknown = bool(line and line.commit and not any(c.startswith(line.commit) for c in known))
        source = next((x.removeprefix(_PROMOTED) for x in lines if x.startswith(_PROMOTED)), None)
        now = v.version == approved_now
        rows.append(Version(v.version, v.status, v.run_id, now, line, by, approved and not by, unknown, source))
    return rows


def read(name: str, paths: list[str], *, url: str, token: str | None, variables: dict[str, str]) -> dict:
    """The history of model ``name``: git's side from the specs at ``paths``, the server's at ``url``."""
    from ucgov.client import UCClient

    if name.count(".") != 2 or not all(name.split(".")):
        raise UcgovError(f"ucgov history takes a model's full name, catalog.schema.model, not '{escape.text(name)}'")
    commits = gitspecs.log(paths)
    with UCClient(url, token=token) as client:
        body = client.get_securable(Kind.MODEL, name)
        if body is None:
            raise UcgovError(f"model {escape.text(name)} does not exist on {client.url}")
        _, now = approval.read(body.get("comment"))
        versions = client.list_versions(name)
        with ThreadPoolExecutor(max_workers=8) as pool:
            comments = list(pool.map(lambda v: client.get_version(name, v.version).get("comment"), versions))
    # the server first: a model that does not exist is said before any commit is read
    history = approvals(commits, [_approval_at(c["commit"], paths, name, variables) for c in commits])
    named = {line.commit for _, line in map(provenance.read, comments) if line and line.commit}
    known = frozenset(c["commit"] for c in commits) | {c for c in named if gitspecs.has_commit(c)}
    return {"model": name, "approvals": history, "versions": joined(history, versions, comments, now, known)}


def _approval_at(commit: str, paths: list[str], name: str, variables: dict[str, str]) -> Approval | None:
    from ucgov.spec import load_texts, variables_from

    try:
        desired = load_texts(
            gitspecs.spec_texts(commit, paths), variables=variables_from(os.environ, variables), check_policies=False
        )
    except UcgovError:
        return None  # specs that did not load at that commit approved nothing that apply could act on
    model = desired.get(Ref(Kind.MODEL, name))
    return model.approved if model else None


def _words(a: Approval | None) -> str:
    if a is None:
        return "nothing"
    if a.from_model:
        return f"promoted {a.from_model}/{a.from_version}"
    return f"version {a.version}" if a.version is not None else f"run {a.run} at '{a.artifact_path}'"


def render(found: dict, fmt: str) -> str:
    if fmt == "json":
        document = {
            "model": found["model"],
            "approvals": [asdict(a) for a in found["approvals"]],
            "versions": [asdict(v) for v in found["versions"]],
            "unexplained": [v.version for v in found["versions"] if v.unexplained],
        }
        return escape.json_text(json.dumps(document, indent=2))
    t = escape.text
    lines = [f"History of model {t(found['model'])}", "", "Approvals in git:"]
    for a in found["approvals"] or []:
        review = f"  {a.review}" if a.review else ""
        lines.append(f"  {t(a.date)}  {a.commit[:12]}  {t(a.author)}{review}  approves {t(a.approves)}")
    if not found["approvals"]:
        lines.append("  (no commit approves anything for this model)")
    lines += ["", "Versions on the server:"]
    for v in found["versions"]:
        parts = [f"  version {v.version}  {t(v.status)}"]
        parts += ["approved now"] if v.approved_now else []
        parts += [f"promoted from {t(v.promoted_from)}"] if v.promoted_from else []
        parts += [t(v.provenance.line().removeprefix("ucgov: "))] if v.provenance else []
        parts += [f"approved by commit {', '.join(c[:12] for c in v.explained_by)}"] if v.explained_by else []
        parts += (
            ["UNEXPLAINED: approved on the server, but no commit of the specs approves it"] if v.unexplained else []
        )
        parts += ["its provenance names a commit this repository does not hold"] if v.provenance_commit_unknown else []
        lines.append("  ".join(parts))
    flagged = [v.version for v in found["versions"] if v.unexplained]
    if flagged:
        lines += [
            "",
            f"{len(flagged)} version(s) approved with no commit to explain them: {', '.join(map(str, flagged))}.",
        ]
    return "\n".join(lines)
