"""Sending one request to Unity Catalog: what repeating it means, how long to keep trying, and
keeping secrets out of every message (through ``ucgov.redact``).

Each request says what repeating it would do (``Repeat``):

- SAFE: reads and writes that leave the same state however often they run (GET, a grants
  PATCH, a comment PATCH, a DELETE). Repeated on any transport failure and on 429/5xx.
- CREATE: a POST that makes something. Repeated only when the server certainly did not act:
  the connection was never made, or it answered 429 or 503. Otherwise (a reset after the
  request went out, a 500/502/504) ``OutcomeUnknown`` is raised: the caller re-reads the
  object to learn what happened.
- TRANSITION: a state change such as finalizing a version. Never repeated blindly: any doubt
  raises ``OutcomeUnknown`` and the caller re-reads before deciding anything.

Retries share one budget of wall time (UCGOV_RETRY_SECONDS, default 60), wait with jittered
exponential back-off, and honour ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import math
import os
import re
import time
from enum import Enum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_before_delay, wait_random_exponential

from ucgov import redact
from ucgov.errors import ApiError, UcgovError

DEFAULT_RETRY_SECONDS = 60.0
MAX_RETRY_SECONDS = 86400.0
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_NOT_ACTED_STATUSES = {429, 503}
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_backoff = wait_random_exponential(multiplier=0.25, max=10)


class Repeat(str, Enum):
    SAFE = "safe"
    CREATE = "create"
    TRANSITION = "transition"


class OutcomeUnknown(ApiError):
    """The request may or may not have taken effect; re-read before deciding anything."""


class _Again(Exception):
    """An answer worth waiting for and asking again."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


def retry_seconds() -> float:
    """The retry budget: UCGOV_RETRY_SECONDS, or 60 s; never endless (inf or a day and more would hang on a dead server)."""
    given = os.environ.get("UCGOV_RETRY_SECONDS")
    if not given:
        return DEFAULT_RETRY_SECONDS
    try:
        seconds = float(given)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_RETRY_SECONDS:  # also false for nan
        raise UcgovError(
            f"UCGOV_RETRY_SECONDS must be a number of seconds from 0 to {MAX_RETRY_SECONDS:.0f}, not {given!r}"
        )
    return seconds


def checked_token(token: str | None) -> str | None:
    """The token without the whitespace `$(cat file)` or a CI secret leaves around it; refused, never shown, if a header cannot hold it."""
    if token is None:
        return None
    token = token.strip()
    if token and not _HEADER_SAFE.fullmatch(token):
        bad = next(i for i, c in enumerate(token) if not _HEADER_SAFE.fullmatch(c))
        raise UcgovError(
            f"UCGOV_TOKEN holds a character an HTTP header cannot carry (at position {bad + 1} of {len(token)}); "
            "set it to the token alone"
        )
    return token or None


def checked_url(url: str, *, named: str = "--url / UCGOV_URL") -> str:
    """The server URL without surrounding whitespace; refused in one sentence (password masked) unless
    http(s)://host[:port]. ``named`` says where the URL was given."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it (a word, or past 65535, raises)
        httpx.URL(url)
        problem = _url_problem(parts.scheme, parts.hostname)
    except (ValueError, httpx.InvalidURL) as exc:
        problem = _masked(str(exc).rstrip("."))  # httpx's words may quote the user:password@ back
    if problem:
        shown = _masked(url)
        raise UcgovError(f"{named} {shown!r} is not a server URL ({problem}); give one like http://127.0.0.1:8080")
    return url


_USER_PASSWORD = re.compile(r"[^\s/?#@]*:[^\s/?#@]*@")  # user:password@, wherever a broken URL has it


def _url_problem(scheme: str, host: str | None) -> str | None:
    if scheme not in ("http", "https"):
        return "it does not start with http:// or https://"
    if not host:
        return "it names no host"
    if re.search(r"[\s\x00-\x1f\x7f]", host):
        return "its host has a space or a control character in it"
    return None


def without_userinfo(url: str) -> str:
    """The URL with any user and password taken out, for messages and plan files; masked, never raising, if it will not parse."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _masked(url)
    if not (parts.username or parts.password):
        return _masked(url)  # a user:password@ that did not parse as one
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = f"{host}:{port}" if port else host
    return _masked(urlunsplit(parts._replace(netloc=netloc)))


def _masked(url: str) -> str:
    """``url`` with every user:password@ in it masked, parsed as userinfo or not, and every known secret."""
    return redact.redact(_USER_PASSWORD.sub("***@", url))


def masked_userinfo(text: str) -> str:
    """``text`` with the user and password of every URL in it (and every secret ucgov knows) replaced by ***."""
    return redact.redact(text)


class Transport:
    """An httpx client that retries as each request's ``Repeat`` allows and masks secrets in errors."""

    def __init__(self, http: httpx.Client, *, url: str, budget: float) -> None:
        self.http = http
        self.url = without_userinfo(url)
        self._budget = budget

    def send(self, method: str, path: str, *, what: str, repeat: Repeat, **kwargs: Any) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: self._worth_repeating(exc, repeat)),
            stop=stop_before_delay(self._budget),
            wait=_wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self.http.request(method, path, **kwargs)
                    if response.status_code in _RETRY_STATUSES:
                        raise _Again(response)
        except _Again as again:
            response = again.response
            if repeat is not Repeat.SAFE and response.status_code not in _NOT_ACTED_STATUSES:
                raise self._unknown(method, path, what, f"HTTP {response.status_code}", response.status_code) from None
        except httpx.TransportError as exc:
            if repeat is not Repeat.SAFE and not isinstance(exc, _NEVER_SENT):
                raise self._unknown(method, path, what, type(exc).__name__) from exc
            raise ApiError(
                self.mask(
                    f"cannot reach Unity Catalog at {self.url} ({type(exc).__name__}: {exc}) while trying to {what}; "
                    "check --url / UCGOV_URL (or the url of the --target), or start a local server with `ucgov sandbox start`"
                ),
                method=method,
                path=path,
            ) from exc
        return response

    def json(self, response: httpx.Response, *, what: str) -> dict:
        """A successful answer's JSON object; anything else (a proxy's login page) is an error naming the URL."""
        if not response.content or response.request.method == "DELETE":  # DELETE answers 200 with a non-JSON body
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            kind = self.mask(response.headers.get("content-type", "unknown content type"))
            raise ApiError(
                f"cannot {what}: {self.url}{response.request.url.path} answered HTTP {response.status_code} with "
                f"{kind}, not a JSON object; is --url / UCGOV_URL the Unity Catalog server itself?",
                method=response.request.method,
                path=response.request.url.path,
                status=response.status_code,
            )
        return body

    def mask(self, text: str) -> str:
        """``text`` with the token, any URL password and anything shaped like a credential replaced by ***."""
        return redact.redact(text)

    def _worth_repeating(self, exc: BaseException, repeat: Repeat) -> bool:
        if isinstance(exc, _Again):
            return repeat is Repeat.SAFE or exc.response.status_code in _NOT_ACTED_STATUSES
        if isinstance(exc, _NEVER_SENT):
            return True  # nothing reached the server, so any request is safe to repeat
        return repeat is Repeat.SAFE and isinstance(exc, httpx.TransportError)

    def _unknown(self, method: str, path: str, what: str, cause: str, status: int | None = None) -> OutcomeUnknown:
        return OutcomeUnknown(
            f"the answer to the request to {what} was lost ({cause}); it may or may not have taken effect",
            method=method,
            path=path,
            status=status,
        )


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server gave one, else jittered exponential back-off."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Again):
        asked = retry_after(exc.response)
        if asked is not None:
            return asked
    return _backoff(state)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked to wait (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
