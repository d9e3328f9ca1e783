"""A small Unity Catalog REST client on httpx: the endpoints ucgov uses, pagination and readable errors.

How each request is sent and repeated lives in ``ucgov.transport``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ucgov.errors import ApiError, AuthError
from ucgov.redact import redact, remember
from ucgov.render.escape import text as one_line
from ucgov.state import Grants, Kind, ModelVersion
from ucgov.transport import (
    OutcomeUnknown,
    Repeat,
    Transport,
    checked_token,
    checked_url,
    retry_seconds,
    without_userinfo,
)

API = "/api/2.1/unity-catalog"
SCIM = "/api/1.0/unity-control/scim2/Users"
DEFAULT_URL = "http://127.0.0.1:8080"
_PAGE = 100  # the server never returns more per page, whatever max_results asks
_VERSION_PAGE = 50  # the API's maximum for model versions
_QUOTED = 200  # characters of a server's answer an error quotes


class UCClient:
    """Talks to one Unity Catalog server; safe to share across threads."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retry_budget: float | None = None,
        max_connections: int = 16,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        token = checked_token(token)
        remember(token, url=url)  # where secrets enter ucgov: from here on, no message shows them
        url = checked_url(url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        parts = urlsplit(url)
        # httpx would send a URL's user and password as Basic auth in place of the token
        basic = httpx.BasicAuth(parts.username or "", parts.password or "") if parts.username and not token else None
        self._http = httpx.Client(
            base_url=without_userinfo(url).rstrip("/"),
            headers=headers,
            auth=basic,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )
        budget = retry_seconds() if retry_budget is None else retry_budget
        self._transport = Transport(self._http, url=url.rstrip("/"), budget=budget)
        self.url = self._transport.url
        """The server's URL without any user or password in it: safe to show."""

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> UCClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    def get_securable(self, kind: Kind, full_name: str) -> dict | None:
        """The object as the server describes it, or None if it (or its parent) does not exist."""
        if kind.spec.read_by_listing:
            return self._listed(kind, full_name)
        path = kind.spec.read_path or f"{kind.spec.collection}/{quote(full_name)}"  # the metastore: its summary
        try:
            return self._json("GET", f"{API}/{path}", what=f"read {kind.label} {full_name}")
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    def get_grants(self, kind: Kind, full_name: str) -> Grants:
        """Privileges granted directly on the object, per principal (never inherited ones)."""
        path = f"{API}/permissions/{kind.value}/{quote(full_name)}"
        return _grants(self._about(kind, full_name, "GET", path, what=f"read grants on {full_name}"))

    def list_users(self) -> set[str]:
        """Email addresses of every active user (needs the metastore owner's token).

        The server's SCIM DELETE only deactivates a user, and still accepts grants to it.
        """
        emails: set[str] = set()
        start = 1
        while True:
            params = {"startIndex": start, "count": _PAGE}
            body = self._json("GET", SCIM, params=params, what="list users")
            page = body.get("Resources") or []
            for user in (u for u in page if u.get("active", True)):
                emails.add(user.get("userName") or "")
                emails.update(e.get("value", "") for e in user.get("emails") or ())
            if len(page) < _PAGE:
                return emails - {""}
            start += len(page)

    def iter_catalogs(self) -> Iterator[dict]:
        """Every catalog, a page at a time, sorted by name as the server lists them."""
        return self._pages(f"{API}/catalogs", "catalogs", {})

    def list_inside(self, kind: Kind, parent: str) -> list[dict]:
        """Every object of ``kind`` inside the object named ``parent``, as the server lists it."""
        return list(self.iter_inside(kind, parent))

    def iter_inside(self, kind: Kind, parent: str) -> Iterator[dict]:
        """The same, a page at a time: for callers that must not hold them all at once."""
        params = {outer.name_key: part for outer, part in zip(kind.spec.ancestors, parent.split("."), strict=False)}
        return self._pages(f"{API}/{kind.spec.collection}", kind.spec.listing_key, params)

    def _listed(self, kind: Kind, full_name: str) -> dict | None:
        """The object as its parent's listing shows it, for a kind whose GET cannot say it is missing;
        None if it is not listed, or its parent is missing (SCHEMA_NOT_FOUND, CATALOG_NOT_FOUND)."""
        parent, name = full_name.rsplit(".", 1)
        try:
            return next((item for item in self.iter_inside(kind, parent) if item.get("name") == name), None)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    def list_versions(self, full_name: str) -> list[ModelVersion]:
        """Every version of a registered model, oldest first."""
        path = f"{API}/models/{quote(full_name)}/versions"
        found = [_version(v) for v in self._pages(path, "model_versions", {}, page_size=_VERSION_PAGE)]
        return sorted(found, key=lambda v: v.version)

    def get_version(self, full_name: str, version: int) -> dict:
        path = f"{API}/models/{quote(full_name)}/versions/{version}"
        return self._json("GET", path, what=f"read version {version} of model {full_name}")

    def model_version_credentials(self, full_name: str, version: int, *, write: bool) -> dict:
        """Short-lived credentials for the version's storage location, as the server vends them.

        Asking creates nothing, so it is safe to repeat. The server refuses write credentials once
        the version is finalized.
        """
        catalog, schema, model = full_name.split(".")
        operation = "READ_WRITE_MODEL_VERSION" if write else "READ_MODEL_VERSION"
        body = {
            "catalog_name": catalog,
            "schema_name": schema,
            "model_name": model,
            "version": version,
            "operation": operation,
        }
        what = f"get {'write' if write else 'read'} credentials for version {version} of model {full_name}"
        return self._json("POST", f"{API}/temporary-model-version-credentials", json=body, what=what)

    # -- writing -------------------------------------------------------------------------

    def create_securable(self, kind: Kind, full_name: str, fields: dict) -> dict:
        body = kind.spec.create_body(full_name, fields)
        what = f"create {kind.label} {full_name}"
        try:
            return self._json("POST", f"{API}/{kind.spec.collection}", json=body, what=what, repeat=Repeat.CREATE)
        except AuthError as exc:
            located = [f"{name} {fields[name]}" for name in kind.spec.location_fields if fields.get(name)]
            if exc.status != 403 or not located:
                raise
            # the server's "Access denied." says nothing of the location, which is the cause as often as a privilege
            hint = (
                f"{exc}; the server also answers so when {' and '.join(located)} overlaps the location of "
                "another table or volume, or lies outside every external location"
            )
            raise AuthError(hint, method=exc.method, path=exc.path, status=403, error_code=exc.error_code) from exc

    def update_securable(self, kind: Kind, full_name: str, fields: dict) -> dict:
        path = f"{API}/{kind.spec.collection}/{quote(full_name)}"
        return self._about(kind, full_name, "PATCH", path, json=fields, what=f"update {kind.label} {full_name}")

    def update_grants(self, kind: Kind, full_name: str, changes: list[dict]) -> Grants:
        """One PATCH with every principal's additions and removals; the grants it leaves, as the server answers.

        Re-applying it changes nothing.
        """
        path = f"{API}/permissions/{kind.value}/{quote(full_name)}"
        what = f"change grants on {kind.label} {full_name}"
        return _grants(self._about(kind, full_name, "PATCH", path, json={"changes": changes}, what=what))

    def create_version(self, full_name: str, *, source: str, run_id: str | None, comment: str | None = None) -> dict:
        """A new version, PENDING_REGISTRATION, with the storage_location to copy artifacts to."""
        catalog, schema, model = full_name.split(".")
        body = {"model_name": model, "catalog_name": catalog, "schema_name": schema, "source": source, "run_id": run_id}
        if comment:
            body["comment"] = comment
        path = f"{API}/models/versions"
        return self._json("POST", path, json=body, what=f"create a version of model {full_name}", repeat=Repeat.CREATE)

    def update_version_comment(self, full_name: str, version: int, comment: str) -> dict:
        """PATCH a version's comment (the only field of a version the 0.6.0 server lets change)."""
        path = f"{API}/models/{quote(full_name)}/versions/{version}"
        what = f"update the comment of version {version} of model {full_name}"
        return self._json("PATCH", path, json={"comment": comment}, what=what)

    def finalize_version(self, full_name: str, version: int) -> dict:
        path = f"{API}/models/{quote(full_name)}/versions/{version}/finalize"
        body = {"full_name": full_name, "version": version}
        what = f"finalize version {version} of model {full_name}"
        return self._json("PATCH", path, json=body, what=what, repeat=Repeat.TRANSITION)

    def delete_securable(self, kind: Kind, full_name: str, *, force: bool = False) -> None:
        """Delete the object; the server refuses a non-empty one unless ``force`` (a model's versions go with it).

        One already gone counts as deleted: a repeated DELETE whose first answer was lost.
        """
        path = f"{API}/{kind.spec.collection}/{quote(full_name)}"
        params = {"force": "true"} if force else {}
        try:
            self._about(kind, full_name, "DELETE", path, params=params, what=f"delete {kind.label} {full_name}")
        except ApiError as exc:
            if not exc.not_found:  # gone already (a repeated DELETE whose first answer was lost): done
                raise

    def delete_version(self, full_name: str, version: int) -> None:
        path = f"{API}/models/{quote(full_name)}/versions/{version}"
        self._json("DELETE", path, what=f"delete version {version} of model {full_name}")

    def create_user(self, email: str, display_name: str | None = None) -> None:
        body = {
            "displayName": display_name or email.split("@")[0],
            "emails": [{"value": email, "primary": True}],
        }
        self._json("POST", SCIM, json=body, what=f"create user {email}", repeat=Repeat.CREATE)

    # -- plumbing ------------------------------------------------------------------------

    def _pages(self, path: str, key: str, params: dict, *, page_size: int = _PAGE) -> Iterator[dict]:
        token = None
        while True:
            query = {**params, "max_results": page_size, **({"page_token": token} if token else {})}
            body = self._json("GET", path, params=query, what=f"list {key.replace('_', ' ')}")
            yield from body.get(key) or ()
            token = body.get("next_page_token")
            if not token:  # a full last page still carries a token, then comes an empty page
                return

    def _about(self, kind: Kind, full_name: str, method: str, path: str, *, what: str, **kwargs: Any) -> dict:
        """A request about one existing object (never its create).

        Where the server answers HTTP 500 for a missing one (``read_by_listing``), a 500 says nothing:
        the request is repeated only where the server surely did not act, and a doubtful answer is
        settled by the parent's listing: an object not there is a 404 (a DELETE of one gone is done),
        one still there is asked again, repeated as any request. Else a minute of retries would
        stand where a 404 belongs.
        """
        if not kind.spec.read_by_listing:
            return self._json(method, path, what=what, **kwargs)
        try:
            return self._json(method, path, what=what, repeat=Repeat.CREATE, **kwargs)
        except OutcomeUnknown as exc:
            if self._listed(kind, full_name) is None:
                message = f"cannot {what}: there is no {kind.label} {full_name} on the server"
                raise ApiError(message, method=method, path=path, status=404) from exc
            return self._json(method, path, what=what, **kwargs)

    def _json(self, method: str, path: str, *, what: str, repeat: Repeat = Repeat.SAFE, **kwargs: Any) -> dict:
        response = self._transport.send(method, path, what=what, repeat=repeat, **kwargs)
        if not response.is_success:
            raise _error_for(response, what=what, method=method, path=path)
        return self._transport.json(response, what=what)


def _grants(body: dict) -> Grants:
    return {
        a["principal"]: frozenset(a.get("privileges") or ())
        for a in body.get("privilege_assignments") or ()
        if a.get("privileges")
    }


def _version(body: dict) -> ModelVersion:
    return ModelVersion(
        version=int(body["version"]),
        run_id=body.get("run_id") or None,
        status=body.get("status") or "MODEL_VERSION_STATUS_UNKNOWN",
        source=body.get("source"),
        storage_location=body.get("storage_location") or None,
        comment=body.get("comment") or None,
    )


def _error_for(response: httpx.Response, *, what: str, method: str, path: str) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = body.get("error_code") or body.get("scimType")
    detail = quoted(str(body.get("message") or body.get("detail") or response.text or response.reason_phrase))
    detail = one_line(detail)  # the server's words, quoted in ucgov's sentence: they cannot start a line
    status = response.status_code
    context = dict(method=method, path=path, status=status, error_code=code)
    if status == 401:
        return AuthError(_unauthorized(response.request, what, detail), **context)
    if status == 403:
        return AuthError(_forbidden(response.request, what, detail), **context)
    label = f"{status} {quoted(str(code))}" if code else str(status)
    return ApiError(f"cannot {what}: {detail} (HTTP {label})", **context)


def _unauthorized(request: httpx.Request, what: str, detail: str) -> str:
    """401, saying what was sent: nothing at all, the URL's user and password, or the token."""
    sent = request.headers.get("authorization", "")
    if not sent:
        return (
            f"the server requires a token to {what}, and UCGOV_TOKEN is not set (HTTP 401: {detail}); "
            "set it to a token for this server"
        )
    who = "the user and password in --url / UCGOV_URL" if sent.lower().startswith("basic ") else "the token"
    return (
        f"the server rejected {who} while trying to {what} (HTTP 401: {detail}); "
        "set UCGOV_TOKEN to a valid token for this server"
    )


def _forbidden(request: httpx.Request, what: str, detail: str) -> str:
    if "authorization" not in request.headers:
        return (
            f"not allowed to {what} without a token, and UCGOV_TOKEN is not set (HTTP 403: {detail}); "
            "set it to a token for this server"
        )
    return (
        f"not allowed to {what} (HTTP 403: {detail}); the token's user lacks a privilege on it "
        "or on its parent: ask an owner to grant it, or use an owner's token"
    )


def quoted(text: str) -> str:
    """A server's answer as one short line fit to quote, secrets out before it is cut (so no fragment of one shows)."""
    text = redact(text)
    if text.lstrip().startswith("<"):  # an HTML page: its words, not its markup
        text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    text = redact(" ".join(text.split()))
    return text if len(text) <= _QUOTED else text[: _QUOTED - 3] + "..."
