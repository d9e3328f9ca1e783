"""An advisory lock on the server, so two applies never interleave their writes.

The open-source server has no lock API, and its creates are not atomic: two requests that
create the same catalog at the same moment can both succeed and leave two catalogs of one
name (pinned in a test). So the lock is a queue of claims instead. Each apply that wants it
creates its own catalog, ``ucgov_lock_<id>`` (UCGOV_LOCK names another stem), whose comment
says who, from where and until when; waits long enough for any claim made at the same moment
to be visible (UCGOV_LOCK_SETTLE seconds, at least 1, or four times its own create's time);
then lists the claims. The oldest claim (by the server's created_at, then id) holds the lock;
every other apply withdraws its claim and fails naming the holder, or waits with
``--lock-timeout``. The holder releases by deleting its claim. An apply killed while holding
leaves its claim; ``ucgov unlock`` shows it and deletes it. Plan and validate take no lock.

This is correct as long as a create completes within the settle time, which the margin
(four times the create's own duration) makes likely but, on a stalled server, not certain;
the per-change checks just before each request are the second line of defence.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from ucgov.client import UCClient
from ucgov.errors import ApiError, UcgovError
from ucgov.reserved import is_reserved_catalog, lock_stem
from ucgov.state import Kind

HOLD_FOR = timedelta(hours=1)
"""How long a claim says it is held; past that, `ucgov unlock` says its apply has likely died."""
DEFAULT_SETTLE = 1.0


class LockedError(UcgovError):
    """Another apply holds the lock."""


@dataclass(frozen=True)
class Holder:
    """Who claims the lock, as the claim's comment says."""

    who: str
    host: str
    pid: int
    since: str
    expires: str
    id: str

    def describe(self) -> str:
        return f"{self.who} on {self.host} (pid {self.pid}) since {self.since}, until {self.expires}"

    @property
    def catalog(self) -> str:
        return f"{lock_stem()}_{self.id}"

    @classmethod
    def me(cls) -> Holder:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        return cls(
            who=os.environ.get("GITHUB_ACTOR") or getpass.getuser(),
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now.isoformat(),
            expires=(now + HOLD_FOR).isoformat(),
            id=uuid.uuid4().hex[:12],
        )

    @classmethod
    def parse(cls, comment: str | None) -> Holder | None:
        try:
            return cls(**json.loads(comment or ""))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Claim:
    """One apply's claim on the lock: its catalog, when the server made it, and who made it."""

    catalog: str
    created_at: int
    holder: Holder | None
    """None for a catalog of the lock's name that ucgov did not write."""

    def describe(self) -> str:
        return self.holder.describe() if self.holder else f"catalog {self.catalog}, which ucgov did not write"


@contextmanager
def apply_lock(client: UCClient, *, timeout: float = 0.0) -> Iterator[Holder]:
    """Hold the lock for the duration of the block; LockedError if another apply holds it past ``timeout``."""
    mine = Holder.me()
    deadline = time.monotonic() + timeout
    while True:
        first = _claim(client, mine)
        if first.holder == mine:
            break
        _withdraw(client, mine)
        if time.monotonic() >= deadline:
            raise LockedError(
                f"another apply holds the lock on {client.url}: {first.describe()}. "
                "Wait for it (--lock-timeout SECONDS), or if that apply died, run `ucgov unlock`"
            )
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    try:
        yield mine
    finally:
        _withdraw(client, mine)


def claims(client: UCClient) -> list[Claim]:
    """Every claim on the lock, the holder's first."""
    found = [
        Claim(body["name"], int(body.get("created_at") or 0), Holder.parse(body.get("comment")))
        for body in client.iter_catalogs()
        if is_reserved_catalog(body.get("name") or "")
    ]
    return sorted(found, key=lambda c: (c.created_at, c.catalog))


def break_lock(client: UCClient) -> list[Claim]:
    """Delete every claim, whoever made it (for `ucgov unlock`); returns what it deleted."""
    found = claims(client)
    for claim in found:
        client.delete_securable(Kind.CATALOG, claim.catalog, force=True)
    return found


def settle_seconds() -> float:
    given = os.environ.get("UCGOV_LOCK_SETTLE")
    try:
        return max(0.0, float(given)) if given else DEFAULT_SETTLE
    except ValueError as exc:
        raise UcgovError(f"UCGOV_LOCK_SETTLE must be a number of seconds, not {given!r}") from exc


def _claim(client: UCClient, mine: Holder) -> Claim:
    """Make a claim, let any claim made at the same moment land, and return the oldest claim."""
    started = time.monotonic()
    try:
        client.create_securable(Kind.CATALOG, mine.catalog, {"comment": json.dumps(asdict(mine), sort_keys=True)})
    except ApiError:
        # a lost answer, or a refused create: whether the claim exists decides, so read the list
        if mine.catalog not in {c.catalog for c in claims(client)}:
            raise
    time.sleep(max(settle_seconds(), 4 * (time.monotonic() - started)))
    found = claims(client)
    if not found:  # our own claim vanished (someone ran `ucgov unlock` meanwhile)
        raise LockedError(f"the lock claim {mine.catalog} was deleted while it was being taken; apply again")
    return found[0]


def _withdraw(client: UCClient, mine: Holder) -> None:
    client.delete_securable(Kind.CATALOG, mine.catalog, force=True)
