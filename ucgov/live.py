"""Reading the live state of exactly the objects the specs declare, with requests in flight together."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ucgov.client import UCClient
from ucgov.errors import AuthError
from ucgov.state import DesiredState, LiveState, Securable, State

T = TypeVar("T")
R = TypeVar("R")
CONCURRENCY = 16


def read_live(client: UCClient, desired: State, *, concurrency: int = CONCURRENCY) -> LiveState:
    """Objects first (a 404 means absent), then the grants of those that exist, plus the user list."""
    declared = list(desired.ordered())
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        users = pool.submit(_known_users, client) if isinstance(desired, DesiredState) else None
        found = _in_parallel(pool, lambda o: client.get_securable(o.kind, o.full_name), declared)
        existing = [o for o, body in zip(declared, found, strict=True) if body is not None]
        grants = _in_parallel(pool, lambda o: client.get_grants(o.kind, o.full_name), existing)
        bodies = {o.full_name: body for o, body in zip(declared, found, strict=True) if body is not None}
        objects = {o.full_name: _securable(o, bodies[o.full_name], g) for o, g in zip(existing, grants, strict=True)}
        known = users.result() if users else None
    return LiveState(objects=objects, known_principals=known)


def _in_parallel(pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return list(pool.map(fn, items))


def _known_users(client: UCClient) -> frozenset[str] | None:
    try:
        return frozenset(client.list_users())
    except AuthError:
        return None  # only the metastore owner may list users; the plan says it could not check


def _securable(declared: Securable, body: dict, grants) -> Securable:
    return Securable(
        kind=declared.kind,
        full_name=declared.full_name,
        comment=body.get("comment"),
        properties=body.get("properties") or {},
        grants=grants,
    )
