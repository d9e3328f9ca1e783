"""An advisory lock on the server, so two applies never interleave their writes.

The open-source server has no lock API, but creating a catalog is atomic: the second create
of the same name is refused. So apply holds the lock by creating an empty catalog (by default
``ucgov_lock``; UCGOV_LOCK names another) whose comment says who holds it, from where and
until when, and releases it by deleting that catalog. A second apply fails at once with who
holds it, or waits for it with ``--lock-timeout``. An apply killed with the lock held leaves
it behind; ``ucgov unlock`` shows the holder and breaks it. Plan and validate take no lock.
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
from ucgov.state import Kind
from ucgov.transport import OutcomeUnknown

DEFAULT_LOCK = "ucgov_lock"
HOLD_FOR = timedelta(hours=1)
"""How long a lock claims to be held; past that, `ucgov unlock` says the holder has likely died."""


def lock_name() -> str:
    """The catalog that holds the lock: UCGOV_LOCK, or ucgov_lock."""
    return os.environ.get("UCGOV_LOCK") or DEFAULT_LOCK


class LockedError(UcgovError):
    """Another apply holds the lock."""


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as its comment says."""

    who: str
    host: str
    pid: int
    since: str
    expires: str
    id: str

    def describe(self) -> str:
        return f"{self.who} on {self.host} (pid {self.pid}) since {self.since}, until {self.expires}"

    @classmethod
    def me(cls) -> Holder:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        return cls(
            who=os.environ.get("GITHUB_ACTOR") or getpass.getuser(),
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now.isoformat(),
            expires=(now + HOLD_FOR).isoformat(),
            id=uuid.uuid4().hex,
        )

    @classmethod
    def parse(cls, comment: str | None) -> Holder | None:
        try:
            return cls(**json.loads(comment or ""))
        except (ValueError, TypeError):
            return None


@contextmanager
def apply_lock(client: UCClient, *, timeout: float = 0.0) -> Iterator[Holder]:
    """Hold the lock for the duration of the block; LockedError if another apply holds it past ``timeout``."""
    mine = Holder.me()
    deadline = time.monotonic() + timeout
    while not _take(client, mine):
        if time.monotonic() >= deadline:
            raise LockedError(
                f"another apply holds the lock (catalog {lock_name()} on {client.url}): {_holder_text(client)}. "
                "Wait for it (--lock-timeout SECONDS), or if that apply died, run `ucgov unlock`"
            )
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    try:
        yield mine
    finally:
        _release(client, mine)


def current_holder(client: UCClient) -> Holder | None | str:
    """The holder, None when nobody holds the lock, or the raw comment when it is not ucgov's."""
    body = client.get_securable(Kind.CATALOG, lock_name())
    if body is None:
        return None
    return Holder.parse(body.get("comment")) or (body.get("comment") or "")


def break_lock(client: UCClient) -> None:
    """Delete the lock catalog, whoever holds it (for `ucgov unlock`)."""
    client.delete_securable(Kind.CATALOG, lock_name(), force=True)


def _take(client: UCClient, mine: Holder) -> bool:
    comment = json.dumps(asdict(mine), sort_keys=True)
    try:
        client.create_securable(Kind.CATALOG, lock_name(), {"comment": comment})
        return True
    except OutcomeUnknown:  # the answer was lost: the lock's comment says whether it is ours
        holder = current_holder(client)
        return isinstance(holder, Holder) and holder.id == mine.id
    except ApiError as exc:
        if exc.already_exists or exc.status == 409:
            return False
        raise


def _release(client: UCClient, mine: Holder) -> None:
    holder = current_holder(client)
    if isinstance(holder, Holder) and holder.id == mine.id:  # never delete a lock someone else took over
        client.delete_securable(Kind.CATALOG, lock_name(), force=True)


def _holder_text(client: UCClient) -> str:
    holder = current_holder(client)
    if holder is None:
        return "it was just released"
    if isinstance(holder, Holder):
        return holder.describe()
    return f"a catalog of that name that ucgov did not make (comment: {holder!r})"
