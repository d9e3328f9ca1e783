"""A small HTTP proxy that stands in front of the real server (never instead of it) and injects faults.

Rules say which requests get which fault and how many times; every request is logged with
what happened to it, so a test can assert what reached the server. With ``transparent=True``
every header goes through both ways (S3 clients sign and checksum theirs), and HEAD too.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@dataclass
class Fault:
    """What to do instead of (or around) forwarding: a status, a reset, a delay or a non-JSON page."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reset_before: bool = False
    """Close the connection without forwarding: the server never sees the request."""
    reset_after: bool = False
    """Forward, then close the connection without answering: the server acted, the client cannot know."""
    delay: float = 0.0
    html: bool = False


@dataclass
class _Rule:
    method: str
    path: re.Pattern
    fault: Fault
    times: int
    body: re.Pattern | None = None


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    at: float
    forwarded: bool
    fault: Fault | None
    body: bytes = b""


class FaultProxy:
    def __init__(self, upstream: str, *, transparent: bool = False) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=60)
        self.transparent = transparent
        self.rules: list[_Rule] = []
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def inject(self, method: str, path: str, fault: Fault, *, times: int = 1, body: str | None = None) -> None:
        """The next ``times`` requests with this method, whose path (and body, if given) match these regexes, get ``fault``."""
        with self._lock:
            self.rules.append(_Rule(method, re.compile(path), fault, times, re.compile(body) if body else None))

    def sent(self, method: str, path: str, *, body: str | None = None) -> list[Logged]:
        """Requests that reached the server."""
        pattern = re.compile(path)
        return [
            e
            for e in self.log
            if e.forwarded
            and e.method == method
            and pattern.search(e.path)
            and (body is None or re.search(body, e.body.decode(errors="replace")))
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()

    def _take(self, method: str, path: str, body: bytes) -> Fault | None:
        with self._lock:
            for rule in self.rules:
                matches_body = rule.body is None or rule.body.search(body.decode(errors="replace"))
                if rule.times > 0 and rule.method == method and rule.path.search(path) and matches_body:
                    rule.times -= 1
                    return rule.fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._take(handler.command, handler.path, body)
        forwarded = not (fault and (fault.status or fault.reset_before or fault.html))
        self.log.append(Logged(handler.command, handler.path, time.monotonic(), forwarded, fault, body))
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.reset_before:
            return _reset(handler)
        if fault and fault.status:
            return _answer(handler, fault.status, b'{"error_code": "INJECTED", "message": "injected"}', fault.headers)
        if fault and fault.html:
            return _answer(handler, 200, b"<html><body>Please sign in</body></html>", {"content-type": "text/html"})
        passed = (lambda k: k.lower() not in _HOP_BY_HOP) if self.transparent else _auth_and_type
        headers = {k: v for k, v in handler.headers.items() if passed(k)}
        response = self.upstream.request(handler.command, handler.path, content=body, headers=headers)
        if fault and fault.reset_after:
            return _reset(handler)
        kept = {"content-type": response.headers.get("content-type", "application/json")}
        if self.transparent:
            # httpx has already decoded any compressed body
            kept = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}}
        if handler.command == "HEAD":
            return _answer_head(handler, response.status_code, kept)
        _answer(handler, response.status_code, response.content, kept)


_HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}


def _auth_and_type(name: str) -> bool:
    return name.lower() in ("authorization", "content-type")


def _answer_head(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("content-length", "0")
    handler.end_headers()


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _reset(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
