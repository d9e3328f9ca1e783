"""What a grant reaches: the object it is made on and, inherited, the objects inside it.

The server enforces inheritance: a privilege granted on a catalog or schema holds on every
schema and model inside it where that privilege can be granted, whether or not a spec
declares them. Policies check grants against this, and the review shows it; both ask here.
"""

from __future__ import annotations

from collections.abc import Iterable

from ucgov.kinds import grantable_at


def reaches(granted_on: str, privilege: str, target: str) -> bool:
    """Whether a grant of ``privilege`` on ``granted_on`` holds on ``target``.

    ``target`` is a full name; a pattern whose leading parts are ``granted_on`` (``prod.*.*``)
    stands for every object at its depth inside ``granted_on``. A name does not say its kind
    (models, tables, volumes and functions share a depth), so the privilege holds on ``target``
    if it can be granted on any kind at that depth.
    """
    if target == granted_on:
        return True
    return target.startswith(granted_on + ".") and privilege in grantable_at(target.count(".") + 1)


def reached(granted_on: str, privilege: str, names: Iterable[str]) -> tuple[str, ...]:
    """The objects among ``names`` that a grant of ``privilege`` on ``granted_on`` holds on, sorted."""
    return tuple(sorted({n for n in names if reaches(granted_on, privilege, n)}))
