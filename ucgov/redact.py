"""Keeping the secrets ucgov holds out of everything it shows.

Secrets are learnt where they enter ucgov: the CLI reads those of the environment at start
(``remember_environment``), and a client is made with a token or a URL that carries a user and
password (``remember``). From then on ``redact`` replaces it by *** in any text, in
every form it takes on the wire or in a server's echo of our request:

- as given, percent-decoded and percent-encoded, JSON- and HTML-escaped, in any letter case;
- inside base64 at any alignment (``Basic`` credentials encode ``user:password``, some clients
  send a token as ``:token``), and the whole ``user:password`` encoding;
- any run of 12 or more of its characters in a row, so a body cut short, or a secret broken
  over two lines, does not show the part that is left.

Independently of what is known, the value after an ``Authorization`` header name, a long
``Bearer`` credential and the user and password of a URL are masked too.

The CLI redacts everything it writes to stderr and every error it shows; the client redacts a
server's answer before quoting (and before cutting) it.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Mapping
from urllib.parse import quote, quote_plus, unquote, urlsplit

WINDOW = 12
"""A run this long of a secret's characters is taken to be the secret."""
MASK = "***"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_HEADER_VALUE = re.compile(
    r"""(?ix)(authorization["']?\s*[:=]\s*["']?)   # a header echoed as `name: value`, `name=value`, JSON
    (?:(bearer|basic|token|negotiate)\s+)?          # the scheme, kept
    [^\s"',;<>&|]+"""
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}")
_USERINFO = re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+@")


class Secrets:
    """The secrets to keep out of text, each with the forms it can take; safe to share across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: frozenset[str] = frozenset()  # every WINDOW-long run of every long form, lower-cased
        self._short: re.Pattern | None = None  # forms shorter than WINDOW, as whole words
        self._short_forms: frozenset[str] = frozenset()

    def add(self, secret: str | None, *, user: str | None = None) -> None:
        """Keep ``secret`` (a token, or a URL's password with its ``user``) out of all text from now on."""
        if not secret:
            return
        forms = _forms(secret, user)
        long_forms = {f for f in forms if len(f) >= WINDOW}
        runs = {f[i : i + WINDOW].translate(_ASCII_LOWER) for f in long_forms for i in range(len(f) - WINDOW + 1)}
        with self._lock:
            self._runs = self._runs | runs
            self._short_forms = self._short_forms | {f for f in forms if f and len(f) < WINDOW}
            if self._short_forms:
                words = "|".join(re.escape(f) for f in sorted(self._short_forms, key=len, reverse=True))
                self._short = re.compile(rf"(?i)(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])")

    def add_url(self, url: str) -> None:
        """Keep the password of ``url`` (if it has one) out of all text."""
        try:
            parts = urlsplit(url)
            user, password = parts.username, parts.password
        except ValueError:
            return  # not a URL; its user and password are masked by shape in redact
        self.add(password, user=user)

    def redact(self, text: str) -> str:
        """``text`` with every known secret, Authorization value and URL password replaced by ***."""
        text = self._known(text)
        text = _HEADER_VALUE.sub(lambda m: f"{m[1]}{m[2] + ' ' if m[2] else ''}{MASK}", text)
        text = _BEARER.sub(rf"\1 {MASK}", text)
        return _USERINFO.sub(f"{MASK}@", text)

    def _known(self, text: str) -> str:
        runs, short = self._runs, self._short
        if short is not None:
            text = short.sub(MASK, text)
        if not runs or len(text) < WINDOW:
            return text
        lowered = text.translate(_ASCII_LOWER)  # the same length as text, unlike str.lower
        spans: list[list[int]] = []
        for start in range(len(text) - WINDOW + 1):
            if lowered[start : start + WINDOW] in runs:
                if spans and start <= spans[-1][1]:
                    spans[-1][1] = start + WINDOW
                else:
                    spans.append([start, start + WINDOW])
        for start, end in reversed(spans):
            text = text[:start] + MASK + text[end:]
        return text


def _forms(secret: str, user: str | None) -> set[str]:
    """The ways ``secret`` can be written: escaped, encoded, inside base64 at each alignment."""
    plain = {secret, unquote(secret)}
    forms: set[str] = set()
    for s in plain:
        forms |= {s, quote(s, safe=""), quote_plus(s), json.dumps(s)[1:-1], html.escape(s)}
        forms |= {_b64(s), _b64(f":{s}"), _b64(f"{s}:")}
        forms |= _base64_cores(s)
        for name in {user, unquote(user)} if user else ():
            forms.add(_b64(f"{name}:{s}"))
    return {f for f in forms if f}


def _base64_cores(secret: str) -> set[str]:
    """The base64 characters that depend only on ``secret``, for each of the three offsets it can sit at."""
    data = secret.encode()
    cores = set()
    for offset in range(3):
        encoded = _b64("\0" * offset, data)
        head = 4 if offset else 0  # the first group mixes in the bytes before the secret
        tail = (len(data) + offset) % 3  # a last, partial group mixes in the bytes after it
        cores.add(encoded[head : len(encoded) - 4 if tail else len(encoded)])
    return cores


def _b64(text: str, data: bytes = b"") -> str:
    return base64.b64encode(text.encode() + data).decode()


KNOWN = Secrets()
"""Every secret this process has been given, for the whole run."""


def remember(token: str | None = None, *, url: str | None = None) -> None:
    """Keep a token and the password of a URL out of everything ucgov shows from now on."""
    KNOWN.add(token)
    if url:
        KNOWN.add_url(url)


SECRET_VARIABLES = (
    "UCGOV_TOKEN",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_UC_OSS_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
URL_VARIABLES = ("UCGOV_URL", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def remember_environment(environ: Mapping[str, str]) -> None:
    """The secrets ucgov (or MLflow and boto3 under it) would read from the environment, before anything fails."""
    for name in SECRET_VARIABLES:
        KNOWN.add(environ.get(name, "").strip())
    for name in URL_VARIABLES:
        KNOWN.add_url(environ.get(name, "").strip())


def redact(text: str) -> str:
    """``text`` with every secret ucgov knows (and anything shaped like a credential) replaced by ***."""
    return KNOWN.redact(text)
