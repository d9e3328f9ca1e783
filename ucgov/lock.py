"""An advisory lock on the server, so two applies never interleave their writes.

The open-source server has no lock API, and its creates are not atomic: two requests that
create the same catalog at the same moment can both succeed and leave two catalogs of one
name (pinned in a test). So the lock is a queue of claims instead. Each apply that wants it
creates its own catalog, ``ucgov_lock_<id>`` (UCGOV_LOCK names another stem), whose comment
says who, from where and until when; waits long enough for any claim made at the same moment
to be visible (UCGOV_LOCK_SETTLE seconds, at least 1, or four times its own create's time);
then lists the claims. The oldest claim (by the server's created_at, then id) holds the lock;
every other apply withdraws its claim and fails naming the holder, or waits with
``--lock-timeout``. The holder releases by deleting its claim.

A claim is a catalog of the lock's name whose comment is ucgov's own record (marked
``"ucgov_lock": 1``, its id matching the name). Anything else is not a claim: it neither holds
the lock nor is ever deleted, by apply or by ``ucgov unlock``, with or without --force. A claim
is deleted without force, so a catalog with anything in it is never taken with it.

While a claim holds the lock its apply renews its expiry every RENEW_EVERY seconds. A claim is stale,
and the next apply removes it with a note, when its expiry has passed or when it was made on
this host (same hostname and pid namespace) by a process that is no longer running. An apply
killed on another host leaves a claim that blocks for at most HOLD_FOR; ``ucgov unlock``
removes stale claims, and a live one only with --force. Plan and validate take no lock.

This is correct as long as a create completes within the settle time, which the margin
(four times the create's own duration) makes likely but, on a stalled server, not certain;
the per-change checks just before each request are the second line of defence.
"""

from __future__ import annotations

import getpass
import json
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone

from ucgov.client import UCClient
from ucgov.errors import ApiError, UcgovError
from ucgov.render.escape import text as one_line
from ucgov.reserved import claim_name, is_reserved_catalog, lock_stem
from ucgov.state import Kind

HOLD_FOR = timedelta(minutes=10)
"""How long a claim says it is held; renewed every RENEW_EVERY, so it lapses only when its apply stopped renewing."""
RENEW_EVERY = 60.0
DEFAULT_SETTLE = 1.0
MAX_SETTLE = 300.0  # well inside HOLD_FOR: a claim is renewed only once it holds
_COMMENT_MAX = 255  # the server refuses longer comments
_MARK = "ucgov_lock"
_POLL = 0.1  # how often a wait looks for a signal

StopRequested = Callable[[], int | None]
"""The number of a signal received (SIGINT, SIGTERM), or None: waits end early when it gives one."""


class LockedError(UcgovError):
    """Another apply holds the lock."""


class LockInterrupted(UcgovError):
    """A signal arrived while the lock was being taken; the claim has been withdrawn."""

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        super().__init__("while waiting for the apply lock")


@dataclass(frozen=True)
class Holder:
    """Who claims the lock, as the claim's comment says."""

    who: str
    host: str
    pidns: str
    pid: int
    since: str
    expires: str
    id: str

    def describe(self) -> str:
        text = f"{self.who} on {self.host} (pid {self.pid}) since {self.since}, until {self.expires}"
        return one_line(text)  # it quotes a comment anyone can write: it cannot fake a line of an error

    @property
    def catalog(self) -> str:
        return claim_name(lock_stem(), self.id)

    def comment(self) -> str:
        return json.dumps({_MARK: 1, **asdict(self)}, sort_keys=True, separators=(",", ":"))

    def renewed(self, now: datetime | None = None) -> Holder:
        now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        return replace(self, expires=(now + HOLD_FOR).isoformat())

    def stale(self, now: datetime | None = None) -> str | None:
        """Why this claim's apply has certainly stopped, or None if it may still run."""
        if _here() == (self.host, self.pidns) and self.pidns and not _alive(self.pid):
            return f"its process (pid {self.pid}) is no longer running on this host"
        expires = _when(self.expires)
        if expires is None or expires < (now or datetime.now(timezone.utc)):
            return f"it expired at {self.expires} without being renewed"
        return None

    @classmethod
    def me(cls) -> Holder:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        host, pidns = _here()
        mine = cls(
            who=os.environ.get("GITHUB_ACTOR") or getpass.getuser(),
            host=host,
            pidns=pidns,
            pid=os.getpid(),
            since=now.isoformat(),
            expires=(now + HOLD_FOR).isoformat(),
            id=uuid.uuid4().hex[:12],
        )
        return _fitting(mine)

    @classmethod
    def parse(cls, name: str, comment: str | None) -> Holder | None:
        """The holder a claim's comment records, or None if ucgov did not write it (for that name)."""
        try:
            record = json.loads(comment or "")
            holder = cls(**{k: v for k, v in record.items() if k != _MARK}) if record.get(_MARK) == 1 else None
        except (ValueError, TypeError, AttributeError):
            return None
        if holder is None or not _well_formed(holder) or holder.catalog != name:
            return None
        return holder


@dataclass(frozen=True)
class Claim:
    """One apply's claim on the lock: its catalog, when the server made it, and who made it."""

    catalog: str
    created_at: int
    holder: Holder

    def describe(self) -> str:
        return self.holder.describe()


@dataclass(frozen=True)
class Claims:
    """What the lock's namespace holds: ucgov's claims (oldest first), and catalogs ucgov did not write."""

    claims: list[Claim]
    foreign: list[str]


@contextmanager
def apply_lock(
    client: UCClient,
    *,
    timeout: float = 0.0,
    stop_requested: StopRequested = lambda: None,
    note: Callable[[str], None] = lambda _: None,
) -> Iterator[Holder]:
    """Hold the lock for the duration of the block; LockedError if another apply holds it past ``timeout``.

    A signal while taking it: LockInterrupted, the claim withdrawn. Stale claims are removed, with a note.
    An error leaving the block is never replaced by a failure to withdraw the claim: that is added to it as a note.
    """
    settle = settle_seconds()
    mine = Holder.me()
    shown: set[str] = set()
    note = _once(note, shown)  # the same stale claim is met again on every try of a --lock-timeout wait
    deadline = time.monotonic() + timeout
    while True:
        waited = _create(client, mine)
        try:
            first = _settled(client, mine, max(settle, min(4 * waited, MAX_SETTLE)), stop_requested, note)
        except BaseException as exc:
            _withdraw_after(client, mine, exc)
            raise
        if first.holder.id == mine.id:
            try:
                with _renewing(client, mine):
                    yield mine
            except BaseException as exc:
                _withdraw_after(client, mine, exc)
                raise
            _withdraw(client, mine)
            _sweep(client, note)
            return
        _withdraw(client, mine)
        if time.monotonic() >= deadline:
            raise LockedError(
                f"another apply holds the lock on {client.url}: {first.describe()}. "
                "Wait for it (--lock-timeout SECONDS), or if that apply died, run `ucgov unlock`"
            )
        _wait(min(2.0, max(0.1, deadline - time.monotonic())), stop_requested)


def claims(client: UCClient) -> list[Claim]:
    """Every claim ucgov made on the lock, the holder's first."""
    return survey(client).claims


def survey(client: UCClient) -> Claims:
    """Every catalog in the lock's namespace: ucgov's claims, oldest first, and the rest by name."""
    found, foreign = [], []
    lock_stem()  # a UCGOV_LOCK that names no catalogs is an error even where the server has none
    for body in client.iter_catalogs():
        name = body.get("name") or ""
        if not is_reserved_catalog(name):
            continue
        holder = Holder.parse(name, body.get("comment"))
        if holder is None:
            foreign.append(name)
        else:
            found.append(Claim(name, int(body.get("created_at") or 0), holder))
    return Claims(sorted(found, key=lambda c: (c.created_at, c.catalog)), sorted(foreign))


def remove(client: UCClient, found: list[Claim]) -> None:
    """Delete these claims (for `ucgov unlock`): without force, so only an empty catalog goes."""
    for claim in found:
        try:
            client.delete_securable(Kind.CATALOG, claim.catalog)
        except ApiError as exc:
            # a claim is only ever empty: one that holds something is left for a person to look at
            raise UcgovError(f"the lock claim {claim.catalog} was left in place: {exc}") from exc


def lock_settings() -> tuple[str, float]:
    """The lock's stem and settle time from the environment; UcgovError, in one sentence, if either is bad."""
    return lock_stem(), settle_seconds()


def settle_seconds() -> float:
    given = os.environ.get("UCGOV_LOCK_SETTLE")
    if not given:
        return DEFAULT_SETTLE
    try:
        seconds = float(given)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_SETTLE:  # nan fails both comparisons
        raise UcgovError(f"UCGOV_LOCK_SETTLE must be a number of seconds from 0 to {MAX_SETTLE:g}, not {given!r}")
    return seconds


def _create(client: UCClient, mine: Holder) -> float:
    """Make the claim; how long that took. Raises only when the claim certainly does not exist."""
    started = time.monotonic()
    try:
        client.create_securable(Kind.CATALOG, mine.catalog, {"comment": mine.comment()})
    except ApiError:
        # a lost answer, or a refused create: whether the claim exists decides, so read the list
        if mine.id not in {c.holder.id for c in claims(client)}:
            raise
    return time.monotonic() - started


def _settled(
    client: UCClient, mine: Holder, settle: float, stop_requested: StopRequested, note: Callable[[str], None]
) -> Claim:
    """Let any claim made at the same moment land, remove stale ones, and return the oldest claim left."""
    _wait(settle, stop_requested)
    left = []
    for claim in claims(client):
        why = None if claim.holder.id == mine.id else claim.holder.stale()
        if why and _removed(client, claim, why, note):
            continue
        left.append(claim)
    if mine.id not in {c.holder.id for c in left}:  # someone ran `ucgov unlock --force` meanwhile
        raise LockedError(f"the lock claim {mine.catalog} was deleted while it was being taken; apply again")
    return left[0]


def _removed(client: UCClient, claim: Claim, why: str, note: Callable[[str], None]) -> bool:
    """Delete a stale claim; whether it is gone. One that cannot be deleted still holds, with a note saying why."""
    try:
        client.delete_securable(Kind.CATALOG, claim.catalog)
    except UcgovError as exc:
        note(f"The lock claim of {claim.describe()} looks stale ({why}), but could not be removed: {exc}")
        return False
    note(f"Removed the stale lock claim of {claim.describe()}: {why}.")
    return True


@contextmanager
def _renewing(client: UCClient, mine: Holder) -> Iterator[None]:
    """Renews the held claim's expiry in the background while the block runs.

    Only a holder renews: before it holds, a claim lives at most MAX_SETTLE and a few requests,
    well inside HOLD_FOR, and starting a thread per try would delay every claim's listing.
    """
    done = threading.Event()

    def renew() -> None:
        while not done.wait(RENEW_EVERY):
            with suppress(UcgovError):  # a missed renewal only shortens the claim's life; the next one may work
                client.update_securable(Kind.CATALOG, mine.catalog, {"comment": mine.renewed().comment()})

    worker = threading.Thread(target=renew, name=f"renew {mine.catalog}", daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join(timeout=5)


def _sweep(client: UCClient, note: Callable[[str], None]) -> None:
    """After the lock is released, remove claims of applies that have certainly stopped: a killed
    apply's create may reach the server only after the next apply looked (the server still acts on a
    request whose sender died). Best effort: what cannot be read or removed now, the next apply does."""
    try:
        found = claims(client)
    except UcgovError:
        return
    for claim in found:
        why = claim.holder.stale()
        if why:
            _removed(client, claim, why, note)


def _withdraw(client: UCClient, mine: Holder) -> None:
    try:
        client.delete_securable(Kind.CATALOG, mine.catalog)
    except UcgovError as exc:
        raise UcgovError(
            f"the lock claim {mine.catalog} could not be withdrawn ({exc}); the next apply on this host "
            f"removes it once this one has ended, any apply once it expires, or run `ucgov unlock`"
        ) from exc


def _withdraw_after(client: UCClient, mine: Holder, failure: BaseException) -> None:
    """Withdraw the claim while ``failure`` travels; a failure to withdraw it is added to that, never in its place."""
    try:
        _withdraw(client, mine)
    except UcgovError as exc:
        # as BaseException.add_note would (Python 3.11+); the CLI shows these after the error
        failure.__notes__ = [*getattr(failure, "__notes__", []), f"Also: {exc}."]  # type: ignore[attr-defined]


def _once(note: Callable[[str], None], shown: set[str]) -> Callable[[str], None]:
    def show(line: str) -> None:
        if line not in shown:
            shown.add(line)
            note(line)

    return show


def _wait(seconds: float, stop_requested: StopRequested) -> None:
    """Sleep, but end at once with LockInterrupted when a signal arrives."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if (number := stop_requested()) is not None:
            raise LockInterrupted(number)
        time.sleep(min(_POLL, left))
    if (number := stop_requested()) is not None:
        raise LockInterrupted(number)


def _here() -> tuple[str, str]:
    """This host's name and pid namespace: a pid means the same process only where both match."""
    try:
        pidns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pidns = ""  # no way to tell containers apart here: never judge a pid
    return socket.gethostname(), pidns


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a process we can ask about: assume it runs
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # it exists, owned by someone else; or no pid this system could have: never judged
    return True


def _when(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _well_formed(holder: Holder) -> bool:
    texts = (holder.who, holder.host, holder.pidns, holder.since, holder.expires, holder.id)
    return all(isinstance(t, str) for t in texts) and isinstance(holder.pid, int) and not isinstance(holder.pid, bool)


def _fitting(holder: Holder) -> Holder:
    """The holder with who and host shortened until its comment fits the server's limit.

    A shortened host never equals this host's name, so its pid is never judged: safe.
    """
    while len(holder.comment().encode("utf-16-le")) // 2 > _COMMENT_MAX:
        longer = "who" if len(holder.who) >= len(holder.host) else "host"
        holder = replace(holder, **{longer: getattr(holder, longer)[:-1]})
    return holder
