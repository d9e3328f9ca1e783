"""Errors ucgov raises, each with the exit status and a message for people.

Only ``ucgov.cli`` catches them; everything else raises and lets them travel.

    UcgovError                  exit 1, base of everything below
    ├── SpecError               one or more problems in spec files (path:line:col)
    ├── PlanError               the specs cannot be reconciled with the live state
    │   ├── StalePlanError      a saved plan's objects changed on the server since it was made
    │   └── DestroyNotAllowed   the plan deletes something and apply was not given --allow-destroy
    ├── PlanFileError           a saved plan file is unreadable, from another version, or edited
    ├── ApiError                the Unity Catalog server refused or failed a request
    │   └── AuthError           401/403: bad token or missing privilege
    ├── ApplyError              apply stopped part-way (a failure, or SIGINT/SIGTERM); says what was and wasn't done
    ├── StorageError            a model version's files could not be written, checked or removed
    └── SandboxError            the local server could not be fetched or started
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple


class UcgovError(Exception):
    """Root of ucgov's errors: carries the exit status the CLI uses."""

    exit_code = 1

    def format_message(self) -> str:
        return str(self)


class Location(NamedTuple):
    """Where something was written: file, 1-based line and column.

    A named tuple, not a dataclass: a large spec makes one per key, and tuples are cheap.
    Line 0 means the path as a whole (a missing file, an unreadable folder): no position is made up.
    """

    path: str
    line: int
    col: int

    @classmethod
    def of_path(cls, path: str) -> Location:
        return cls(path, 0, 0)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}" if self.line else self.path


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One problem in a spec, shown as ``path:line:col: message``."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SpecError(UcgovError):
    """All problems found in the specs, reported together."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = tuple(sorted(set(problems)))
        super().__init__("\n".join(str(p) for p in self.problems))

    def format_message(self) -> str:
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        return f"{self}\n{count} {noun} in specs; nothing was changed on the server."


class PlanError(UcgovError):
    """The specs and the live state cannot be reconciled as written."""


class StalePlanError(PlanError):
    """Objects a saved plan changes were changed on the server by someone else since the plan was made."""

    def __init__(self, moved: Sequence[str], *, before_any_change: bool = True) -> None:
        self.moved = tuple(moved)
        listed = "\n".join(f"  {line}" for line in self.moved)
        # found just before a request, the account of what was applied is the ApplyError's to give
        nothing = "Nothing was applied. " if before_any_change else ""
        super().__init__(
            "stale plan: the server no longer holds what these changes were planned against "
            f"(someone changed their objects since):\n{listed}\n"
            f"{nothing}Make a new plan, review it, and apply that one"
        )


class DestroyNotAllowed(PlanError):
    """The plan deletes objects or versions, and apply was not told it may (--allow-destroy)."""

    def __init__(self, deletes: Sequence[str]) -> None:
        self.deletes = tuple(deletes)
        listed = "\n".join(f"  {line}" for line in self.deletes)
        super().__init__(
            f"this plan deletes {len(self.deletes)} object(s) or version(s):\n{listed}\n"
            "Nothing was changed. Review the deletes, then run apply again with --allow-destroy"
        )


class PlanFileError(UcgovError):
    """A saved plan file that ucgov will not apply."""


class ApiError(UcgovError):
    """A request to Unity Catalog failed; keeps the method, URL path and status."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.error_code = error_code

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def already_exists(self) -> bool:
        return bool(self.error_code and "ALREADY_EXISTS" in self.error_code)


class AuthError(ApiError):
    """401 or 403: the token is wrong or lacks a privilege."""


class ApplyError(UcgovError):
    """Apply stopped on a failed request; lists what was applied and what was not."""

    def __init__(
        self, cause: UcgovError, applied: Sequence[str], pending: Sequence[str], *, exit_code: int = 1
    ) -> None:
        self.cause = cause
        self.applied = tuple(applied)
        self.pending = tuple(pending)
        self.exit_code = exit_code
        super().__init__(str(cause))

    def format_message(self) -> str:
        if not self.applied and not self.pending:  # stopped before anything was planned
            return f"apply stopped: {self.cause}; nothing was applied"
        lines = [f"apply stopped: {self.cause}"]
        lines.append(f"applied ({len(self.applied)}):")
        lines += [f"  {a}" for a in self.applied] or ["  nothing"]
        lines.append(f"not applied ({len(self.pending)}):")
        lines += [f"  {p}" for p in self.pending]
        lines.append("Fix the cause and run apply again: it picks up where this one stopped.")
        return "\n".join(lines)


class StorageError(UcgovError):
    """Object storage refused or failed a write, check or removal at a model version's location."""

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(message)
        self.location = location


class SandboxError(UcgovError):
    """The local Unity Catalog server could not be fetched, started or stopped."""
