"""What a grant reaches: the object it is made on and, inherited, the objects inside it.

The server enforces inheritance: a privilege granted on a catalog or schema holds on every
object inside it where that privilege can be granted, whether or not a spec declares it.
The review shows what a grant reaches among objects whose kind it knows (``reached``,
``acted_on``); policies match patterns, whose kind a name cannot say (``covers_pattern``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ucgov.kinds import acting_on, grantable_at
from ucgov.state import Ref


def inside(parent: Ref, target: Ref) -> bool:
    """Whether ``target`` sits inside ``parent``, however deep: its kind is one of the parent's
    descendants and its name starts with the parent's (``ml`` does not hold ``ml2.prod``)."""
    return target.kind in parent.kind.descendants and target.full_name.startswith(parent.full_name + ".")


def reaches(granted_on: Ref, privilege: str, target: Ref) -> bool:
    """Whether a grant of ``privilege`` on ``granted_on`` holds on ``target``: the object itself, or
    an object inside it whose kind the privilege can be granted on (EXECUTE on a catalog holds on its
    schemas, to be inherited by their models and functions)."""
    return target == granted_on or (inside(granted_on, target) and privilege in target.kind.grantable)


def reached(granted_on: Ref, privilege: str, refs: Iterable[Ref]) -> tuple[Ref, ...]:
    """The objects among ``refs`` that the grant holds on, each once, sorted by name and kind."""
    return _sorted(r for r in refs if reaches(granted_on, privilege, r))


def acted_on(granted_on: Ref, privilege: str, refs: Iterable[Ref]) -> tuple[Ref, ...]:
    """The objects inside ``granted_on`` among ``refs`` that the privilege acts on (it is their kind's
    own: SELECT on tables, EXECUTE on models and functions), each once: what a review counts."""
    kinds = set(acting_on(privilege)).intersection(granted_on.kind.descendants)
    if not kinds:  # a grant on a model, or a privilege acting on nothing inside: no need to look
        return ()
    prefix = granted_on.full_name + "."
    return _sorted(r for r in refs if r.kind in kinds and r.full_name.startswith(prefix))


def covers_pattern(granted_on: str, privilege: str, pattern: str) -> bool:
    """Whether a grant on the object named ``granted_on`` holds on what ``pattern`` names.

    ``pattern`` is a full name whose leading parts are ``granted_on`` (a policy's ``prod.*.*``),
    standing for every object at its depth inside it. A pattern does not say its kind (models,
    tables, volumes and functions share a depth), so the privilege holds if it can be granted on
    any kind at that depth.
    """
    if pattern == granted_on:
        return True
    return pattern.startswith(granted_on + ".") and privilege in grantable_at(pattern.count(".") + 1)


def _sorted(refs: Iterable[Ref]) -> tuple[Ref, ...]:
    return tuple(sorted(set(refs), key=lambda r: (r.full_name, r.kind.value)))


__all__ = ["acted_on", "covers_pattern", "inside", "reached", "reaches"]
