"""Spec files as they were at a git revision, read with git itself: no checkout, no server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ucgov.errors import SpecError, UcgovError
from ucgov.spec.source import SPEC_SUFFIXES, decoded, read_spec_files


def spec_texts(ref: str | None, paths: list[str]) -> list[tuple[str, str]]:
    """(path, text) of every *.yaml / *.yml under ``paths`` at ``ref``; the working tree when ref is None.

    A path missing at either revision is an error: read as no specs, it would show "No changes"
    (or every object as no longer declared) where the reviewer asked about something else.
    """
    if ref is None:
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise UcgovError(f"{_listed(missing)} in the working tree: {_WHAT_TO_DO}")
        texts, problems = read_spec_files(paths)
        if problems:
            raise SpecError(problems)
        return texts
    top = Path(_git("rev-parse", "--show-toplevel").strip())
    commit = _commit(ref)
    relative = [_inside(top, p) for p in paths]
    listed = [n for n in _git("ls-tree", "-r", "--name-only", "-z", commit, "--", *relative, cwd=top).split("\0") if n]
    missing = [given for given, path in zip(paths, relative, strict=True) if not _holds(listed, path)]
    if missing:
        raise UcgovError(f"{_listed(missing)} at {ref}: {_WHAT_TO_DO}")
    names = sorted(n for n in listed if n.lower().endswith(SPEC_SUFFIXES))
    read = [decoded(f"{ref}:{name}", _git_bytes("show", f"{commit}:{name}", cwd=top)) for name in names]
    problems = [p for _, found in read for p in found]
    if problems:
        raise SpecError(problems)
    return [(f"{ref}:{name}", text) for name, (text, _) in zip(names, read, strict=True)]


def log(paths: list[str]) -> list[dict[str, str]]:
    """The commits on the current branch's first-parent line that changed ``paths``, oldest first:
    each one's sha, author, author date (ISO 8601) and message. A merge counts with its whole change."""
    top = Path(_git("rev-parse", "--show-toplevel").strip())
    relative = [_inside(top, p) for p in paths]
    out = _git("log", "--first-parent", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%B%x1e", "--", *relative, cwd=top)
    found = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 4:
            found.append(dict(zip(("commit", "author", "date", "message"), fields, strict=True)))
    return found[::-1]


def has_commit(sha: str) -> bool:
    """Whether this repository holds the commit ``sha``."""
    try:
        _git("cat-file", "-e", f"{sha}^{{commit}}")
    except UcgovError:
        return False
    return True


_WHAT_TO_DO = "check the spelling, or name spec paths that exist at both revisions"


def _listed(missing: list[str]) -> str:
    return f"{missing[0]} does not exist" if len(missing) == 1 else f"{', '.join(missing)} do not exist"


def _holds(listed: list[str], path: str) -> bool:
    """Whether the files git listed include ``path`` itself or anything under it (git has no empty folders)."""
    return path == "." or any(n == path or n.startswith(path + "/") for n in listed)


def _commit(ref: str) -> str:
    try:
        return _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    except UcgovError as exc:
        raise UcgovError(f"unknown git revision '{ref}' (a branch, tag or commit of this repository)") from exc


def _inside(top: Path, path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(top)) or "."
    except ValueError as exc:
        raise UcgovError(f"{path} is outside the git repository at {top}") from exc


def _git(*args: str, cwd: Path | None = None) -> str:
    return _git_bytes(*args, cwd=cwd).decode("utf-8", errors="replace")


def _git_bytes(*args: str, cwd: Path | None = None) -> bytes:
    try:
        result = subprocess.run(["git", *args], capture_output=True, cwd=cwd)
    except FileNotFoundError as exc:
        raise UcgovError("ucgov diff reads specs from git, but git is not installed") from exc
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", errors="replace").strip()
        detail = stderr.splitlines()[-1] if stderr else f"exit {result.returncode}"
        raise UcgovError(f"git {' '.join(args[:2])} failed: {detail}")
    return result.stdout
