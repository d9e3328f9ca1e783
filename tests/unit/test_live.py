"""Reading live state: the declared objects, and the names of the live children a grant on them reaches.

A fake server (httpx.MockTransport) pages like the real one: at most 100 items per page, and a
full last page is followed by an empty page.
"""

from __future__ import annotations

import httpx
from unit_helpers import kind_at

from ucgov.client import API, SCIM, UCClient
from ucgov.live import read_live
from ucgov.state import DesiredState, Kind, Ref, Securable

PAGE = 100


class FakeServer:
    """Catalog ``ml`` with schemas ``prod`` (120 models) and ``dev`` (1 model); nothing else exists
    (no tables, volumes or functions).

    ``listed`` records each listing asked for, to show what is never read.
    """

    def __init__(self) -> None:
        self.schemas = {"ml": ["prod", "dev"]}
        self.models = {("ml", "prod"): [f"m{i:03d}" for i in range(120)], ("ml", "dev"): ["scratch"]}
        self.listed: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, query = request.url.path.removeprefix(API), request.url.params
        if path == SCIM:
            return httpx.Response(200, json={"Resources": []})
        if path == "/schemas":
            self._record(f"schemas of {query['catalog_name']}", query)
            return self._page("schemas", self.schemas.get(query["catalog_name"], []), query)
        if path == "/models":
            parent = (query["catalog_name"], query["schema_name"])
            self._record(f"models of {'.'.join(parent)}", query)
            return self._page("registered_models", self.models.get(parent, []), query)
        if path in ("/tables", "/volumes", "/functions"):  # the schemas hold nothing but models
            return self._page(path.strip("/"), [], query)
        if path.startswith("/permissions/"):
            return httpx.Response(200, json={"privilege_assignments": []})
        name = path.rsplit("/", 1)[-1]
        if self._exists(name):
            return httpx.Response(200, json={"name": name.rsplit(".", 1)[-1], "full_name": name})
        return httpx.Response(404, json={"error_code": "NOT_FOUND", "message": f"{name} not found"})

    def _record(self, listing: str, query: httpx.QueryParams) -> None:
        if "page_token" not in query:  # its first page
            self.listed.append(listing)

    def _exists(self, full_name: str) -> bool:
        parts = full_name.split(".")
        if len(parts) == 1:
            return parts[0] in self.schemas
        if len(parts) == 2:
            return parts[1] in self.schemas.get(parts[0], [])
        return parts[2] in self.models.get((parts[0], parts[1]), [])

    @staticmethod
    def _page(key: str, names: list[str], query: httpx.QueryParams) -> httpx.Response:
        start = int(query.get("page_token") or 0)
        size = min(int(query["max_results"]), PAGE)
        page = [{"name": n} for n in names[start : start + size]]
        more = start + size <= len(names) and page  # a full last page still carries a token
        return httpx.Response(200, json={key: page, **({"next_page_token": str(start + size)} if more else {})})


def declared(*names: str) -> DesiredState:
    return DesiredState(objects={Securable(kind_at(n), n).ref: Securable(kind_at(n), n) for n in names})


def test_plan_reads_the_names_of_every_live_schema_and_model_inside_a_declared_catalog_across_pages():
    server = FakeServer()
    with UCClient("http://uc.test", transport=httpx.MockTransport(server)) as client:
        live = read_live(client, declared("ml"))  # a catalog-level grant reaches all of them

    assert live.children == {
        "ml": (Ref(Kind.SCHEMA, "ml.dev"), Ref(Kind.SCHEMA, "ml.prod")),
        "ml.dev": (Ref(Kind.MODEL, "ml.dev.scratch"),),
        "ml.prod": tuple(Ref(Kind.MODEL, f"ml.prod.m{i:03d}") for i in range(120)),
    }


def test_the_children_of_an_object_that_does_not_exist_are_not_read():
    server = FakeServer()
    with UCClient("http://uc.test", transport=httpx.MockTransport(server)) as client:
        live = read_live(client, declared("ml", "ml.new", "ml.new.model", "other"))

    assert sorted(server.listed) == ["models of ml.dev", "models of ml.prod", "schemas of ml"]
    assert set(live.children) == {"ml", "ml.dev", "ml.prod"}
