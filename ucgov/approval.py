"""Where the approved version lives on a server without aliases: a marker line in the model's comment.

The open-source server has no alias or tag API, and a registered model's only writable field
is its comment. So the approval is one PATCH of that comment: the text a person wrote, kept
as it is, then a last line a person can read in the UI, e.g.

    Iris species classifier

    ucgov: approved version 3

Everything that knows this encoding is here, behind four functions: ``read`` (the live
reader), ``write`` (apply), ``resolve`` (``ucgov resolve``) and ``comment_problem`` (the spec
loader, so no spec comment can imitate or crowd out the line).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from ucgov.errors import UcgovError
from ucgov.state import Approval, Kind, ModelVersion

if TYPE_CHECKING:  # the loader imports this module, and must not pay for httpx
    from ucgov.client import UCClient

MARKER = "ucgov: approved version {version}"
# Trailing whitespace and CRLF line ends are what a UI or an editor may add after the line.
_MARKER = re.compile(r"(?:\r?\n\r?\n|\A)ucgov: approved version (\d+)\s*\Z")
_LOOKALIKE = re.compile(r"ucgov\s*:\s*approved\s+version", re.IGNORECASE)
COMMENT_LIMIT = 255  # the server's limit on a comment
_LARGEST_VERSION = 99999  # room kept in a model's comment for the approval line


def read(comment: str | None) -> tuple[str | None, int | None]:
    """(the comment a person wrote, the approved version), from a live model's comment."""
    if not comment:
        return comment, None
    match = _MARKER.search(comment)
    if not match:
        return comment, None
    # the line alone: the person's text is empty (""), not absent, so `comment: ""` stays reached
    return comment[: match.start()], int(match.group(1))


def write(human: str | None, version: int | None) -> str:
    """The comment to write: the person's text, then the marker for ``version`` if any."""
    if version is None:
        return human or ""
    marker = MARKER.format(version=version)
    return f"{human}\n\n{marker}" if human else marker


def comment_problem(comment: str, *, approved: bool) -> str | None:
    """Why a spec's model comment cannot be written next to the approval line, or None."""
    if _LOOKALIKE.search(comment):
        return "contains text shaped like ucgov's approval line ('ucgov: approved version N'); ucgov writes that line itself"
    room = COMMENT_LIMIT - len("\n\n" + MARKER.format(version=_LARGEST_VERSION))
    length = len(comment.encode("utf-16-le")) // 2  # as the server (Java) counts
    if approved and length > room:
        return f"is {length} characters; with the approval line it must be at most {room}"
    return None


def resolve(
    client: UCClient, name: str, *, spec: Approval | None = None, run_sources: Callable[[], Collection[str]] = tuple
) -> int:
    """The approved version of model ``name``, checked to exist and be READY before anyone deploys it.

    With ``spec`` (the approval a spec declares), the version must also be the one it names, or
    one that came from its run and artifact path, or one promoted from its source. ``run_sources`` gives the sources the tracking
    store says name that model (MLflow 3 registrations carry no run id); asked only when needed.
    """
    body = client.get_securable(Kind.MODEL, name)
    if body is None:
        raise UcgovError(f"model {name} does not exist on {client.url}")
    _, version = read(body.get("comment"))
    if version is None:
        raise UcgovError(f"model {name} has no approved version: approve one in its spec and apply")
    found = {v.version: v for v in client.list_versions(name)}
    problem = _version_problem(found.get(version), version, spec, run_sources)
    if problem:
        raise UcgovError(f"model {name} names version {version} as approved, but {problem}; refusing to resolve it")
    return version


def _version_problem(
    found: ModelVersion | None, version: int, spec: Approval | None, run_sources: Callable[[], Collection[str]]
) -> str | None:
    if found is None:
        return "that version does not exist"
    if not found.ready:
        return f"that version is {found.status}, not READY"
    if spec is not None and spec.lineage is not None and not found.carries(spec.lineage):
        return f"the spec approves the version {spec.lineage}, and that version's comment does not say so"
    if spec is not None and spec.version is not None and spec.version != version:
        return f"the spec approves version {spec.version}"
    if (
        spec is not None
        and spec.run is not None
        and not found.came_from(spec.run, spec.artifact_path)
        and not found.came_from(spec.run, spec.artifact_path, sources=run_sources())
    ):
        return f"the spec approves the model from run {spec.run} at '{spec.artifact_path}', and that version came from {found.source}"
    return None
