"""Where the approved version lives on a server without aliases: a marker line in the model's comment.

The open-source server has no alias or tag API, and a registered model's only writable field
is its comment. So the approval is one PATCH of that comment: the text a person wrote, kept
as it is, then a last line a person can read in the UI, e.g.

    Iris species classifier

    ucgov: approved version 3
"""

from __future__ import annotations

import re

MARKER = "ucgov: approved version {version}"
_MARKER = re.compile(r"(?:\n\n|\A)ucgov: approved version (\d+)\Z")
COMMENT_LIMIT = 255  # the server's limit on a comment


def split_comment(comment: str | None) -> tuple[str | None, int | None]:
    """(the comment a person wrote, the approved version), from a live model's comment."""
    if not comment:
        return comment, None
    match = _MARKER.search(comment)
    if not match:
        return comment, None
    human = comment[: match.start()]
    return (human or None), int(match.group(1))


def join_comment(human: str | None, version: int | None) -> str:
    """The comment to write: the person's text, then the marker for ``version`` if any."""
    if version is None:
        return human or ""
    marker = MARKER.format(version=version)
    return f"{human}\n\n{marker}" if human else marker


def room_for_comment(version: int) -> int:
    """How long the person's comment may be so that it and the marker fit the server's limit."""
    return COMMENT_LIMIT - len("\n\n" + MARKER.format(version=version))
