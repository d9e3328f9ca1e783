"""Reading the live state of exactly the objects the specs declare, with requests in flight together.

For specs (not for checking a saved plan) it also lists what is live inside the declared catalogs
that exist, of every kind in the registry: a grant on the parent reaches it, and prune may delete it
or must keep its schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from ucgov import approval, prune
from ucgov.client import UCClient
from ucgov.errors import ApiError, AuthError, Location, SpecError, SpecProblem, UcgovError
from ucgov.kinds import listed_whole, location, standalone
from ucgov.state import (
    Approval,
    DesiredState,
    Grants,
    GrantsMode,
    Kind,
    LiveState,
    ModelVersion,
    Ref,
    Securable,
    Server,
    Source,
    State,
)

T = TypeVar("T")
R = TypeVar("R")
CONCURRENCY = 16


def read_state(
    client: UCClient,
    desired: DesiredState,
    *,
    others: Mapping[Server, UCClient] | None = None,
    concurrency: int = CONCURRENCY,
) -> LiveState:
    """The server's state of the declared objects, plus the MLflow runs that approvals name.

    ``others`` are the clients of the other targets' servers that promotions copy from (see
    ``targets.promotion_sources``): each source is read from the server its promotion names.
    """
    live = read_live(client, desired, concurrency=concurrency)
    promotions = [o.approved for o in desired.ordered() if o.approved and o.approved.from_model]
    if promotions:
        servers = {s.target: (s, c) for s, c in (others or {}).items()}
        sources = read_sources(client, promotions, servers, concurrency=concurrency)
        live = replace(live, sources=sources, servers={name: s for name, (s, _) in servers.items()})
    approvals = [o.approved for o in desired.ordered() if o.approved and o.approved.run]
    approvals += promoted_runs(promotions, live.sources)
    if not approvals:
        return live
    from ucgov import mlflow_bridge  # imported only when a run must be resolved

    return replace(live, runs=mlflow_bridge.read_runs(approvals), tracking_store=mlflow_bridge.tracking_store())


def read_sources(
    client: UCClient,
    promotions: list[Approval],
    servers: Mapping[str, tuple[Server, UCClient]] | None = None,
    *,
    concurrency: int = CONCURRENCY,
) -> dict[Source, tuple[ModelVersion, ...]]:
    """The versions of each model a promotion copies from (one listing each), read from ``client`` or, for
    a source on another target, from that target's client in ``servers``; a missing model is left out.

    A target's server that cannot be reached, or refuses, is an error at the promotion's line."""
    where = {p.source: p.where for p in reversed(promotions) if p.source}  # the first promotion of each source
    wanted = sorted(where, key=lambda s: (s.target or "", s.model))

    def listed(source: Source) -> tuple[ModelVersion, ...] | None:
        if source.target and source.target not in (servers or {}):
            return None  # no client for its target: the planner says so
        server, reader = (servers or {})[source.target] if source.target else (None, client)
        try:
            return tuple(reader.list_versions(source.model))
        except ApiError as exc:
            if exc.not_found:
                return None
            if server is None:
                raise
            raise SpecError(
                [SpecProblem(where[source] or Location("<specs>", 1, 1), _unread(server, source, exc))]
            ) from exc

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        found = _in_parallel(pool, listed, wanted)
    return {source: versions for source, versions in zip(wanted, found, strict=True) if versions is not None}


def _unread(server: Server, source: Source, exc: ApiError) -> str:
    """Why a source on another target could not be read, in one sentence naming the target and its URL."""
    if exc.status is None:  # nothing answered: the transport's own advice is about --url, not a target
        cause = type(exc.__cause__).__name__ if exc.__cause__ else "no answer"
        return f"cannot reach target {server.target} at {server.url} ({cause}) to read model {source.model}, to promote from"
    return f"target {server.target} at {server.url} failed to list the versions of model {source.model}, to promote from: {exc}"


def promoted_runs(promotions: list[Approval], sources: Mapping[Source, tuple[ModelVersion, ...]]) -> list[Approval]:
    """For reading runs: the run of each promoted source version whose gates must be checked, as an approval of it."""
    found = []
    for p in promotions:
        version = (
            next((v for v in sources.get(p.source, ()) if v.version == p.from_version), None) if p.source else None
        )
        if p.require and version is not None and version.run_id:
            found.append(Approval(run=version.run_id, artifact_path=_artifact_path(version), where=p.where))
    return found


def _artifact_path(version: ModelVersion) -> str:
    """The artifact path a ``runs:/RUN/PATH`` source names; "model" for any other source."""
    source = version.source or ""
    prefix = f"runs:/{version.run_id}/"
    return source[len(prefix) :].strip("/") or "model" if source.startswith(prefix) else "model"


def read_live(client: UCClient, desired: State, *, concurrency: int = CONCURRENCY) -> LiveState:
    """The live objects among those declared, with their grants (where managed) and versions.

    For specs, objects are read by listing their parents (a request per 100 objects, never the
    children of a parent that does not exist), which also gives the live schemas and models a
    grant on a declared parent reaches. For a saved plan's few objects, each is read alone.
    """
    declared = list(desired.ordered())
    from_specs = isinstance(desired, DesiredState)  # not apply's check of a few touched objects
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        users = pool.submit(_known_users, client) if from_specs else None
        if from_specs:
            bodies, children = _listed(pool, client, declared)
        else:
            bodies, children = _fetched(pool, client, declared), {}
        existing = [o for o in declared if o.ref in bodies]
        managed = [o for o in existing if o.grants_mode is not GrantsMode.UNMANAGED]
        grants = dict(zip((o.ref for o in managed), _in_parallel(pool, _grants_of(client), managed), strict=True))
        approved = [o for o in existing if o.kind.spec.versioned and o.approved]
        listed = _in_parallel(pool, lambda o: client.list_versions(o.full_name), approved)
        versions = {o.ref: v for o, v in zip(approved, listed, strict=True)}
        objects = {
            o.ref: securable_of(o.kind, o.full_name, bodies[o.ref], grants.get(o.ref), versions.get(o.ref, ()))
            for o in existing
        }
        listing = to_list(desired) if from_specs else frozenset()
        listed = _listed_whole(pool, client, listing)
        stored = _stored(bodies)
        undeclared = _undeclared(pool, client, desired, children, bodies, listed, stored) if from_specs else {}
        known = users.result() if users else None
    return LiveState(
        objects=objects, known_principals=known, children=children, undeclared=undeclared, listed=listed,
        listed_kinds=listing, stored=stored,
    )  # fmt: skip


def to_list(desired: State) -> frozenset[Kind]:
    """The kinds read whole for specs: those the metastore's prune reaches, external locations when a
    declared table or volume gives a storage_location (it should lie under one), and the kinds naming
    a listed one (an external location keeps its credential)."""
    assert isinstance(desired, DesiredState)
    wanted = set(desired.prune_top)
    if any(o.kind.spec.storage_field and o.value(o.kind.spec.storage_field) for o in desired.objects.values()):
        wanted |= {k for k in listed_whole() if k.spec.url_field}
    wanted |= {k for k in listed_whole() for _, named in k.spec.references if Kind(named.name) in wanted}
    return frozenset(wanted)


def read_listed(client: UCClient, kinds: Iterable[Kind], *, concurrency: int = CONCURRENCY) -> dict[Ref, Securable]:
    """Every live object of ``kinds`` (top-level kinds read whole), for plan --show-unmanaged."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return _listed_whole(pool, client, frozenset(kinds))


def _listed_whole(pool: ThreadPoolExecutor, client: UCClient, kinds: frozenset[Kind]) -> dict[Ref, Securable]:
    """One listing per kind; each object's fields as a spec writes them (a credential's role_arn
    only: nothing the server made or keeps secret), without grants."""
    ordered = [k for k in Kind if k in kinds]
    lists = _in_parallel(pool, lambda k: client.list_inside(k, ""), ordered)
    return {
        Ref(k, item["name"]): securable_of(k, item["name"], item)
        for k, listed in zip(ordered, lists, strict=True)
        for item in listed
    }


def _stored(bodies: dict[Ref, dict]) -> dict[Ref, str]:
    """Where the listed tables and volumes keep their files, as the server keeps URLs."""
    return {
        r: location(b[r.kind.spec.storage_field])
        for r, b in bodies.items()
        if r.kind.spec.storage_field and b.get(r.kind.spec.storage_field)
    }


def _grants_of(client: UCClient) -> Callable[[Securable], Grants]:
    return lambda o: client.get_grants(o.kind, o.full_name)


def _fetched(pool: ThreadPoolExecutor, client: UCClient, declared: list[Securable]) -> dict[Ref, dict]:
    """Each object read on its own (a 404 means absent), but those of a kind read by listing (volumes):
    one listing per parent for all of them, not one per object."""
    alone = [o for o in declared if not o.kind.spec.read_by_listing]
    found = _in_parallel(pool, lambda o: client.get_securable(o.kind, o.full_name), alone)
    bodies = {o.ref: body for o, body in zip(alone, found, strict=True) if body is not None}
    listed = [o for o in declared if o.kind.spec.read_by_listing]
    parents = sorted({(o.kind, o.full_name.rsplit(".", 1)[0]) for o in listed})
    inside = dict(zip(parents, _in_parallel(pool, lambda p: _by_name(client, *p), parents), strict=True))
    for o in listed:
        parent, name = o.full_name.rsplit(".", 1)
        if name in inside[(o.kind, parent)]:
            bodies[o.ref] = inside[(o.kind, parent)][name]
    return bodies


def _by_name(client: UCClient, kind: Kind, parent: str) -> dict[str, dict]:
    """The objects of ``kind`` listed inside ``parent``, by name; none if the parent is missing."""
    try:
        return {item["name"]: item for item in client.list_inside(kind, parent)}
    except ApiError as exc:
        if not exc.not_found:
            raise
        return {}


def _listed(
    pool: ThreadPoolExecutor, client: UCClient, declared: list[Securable]
) -> tuple[dict[Ref, dict], dict[str, tuple[Ref, ...]]]:
    """(bodies of every object found, declared or not; the live children of each existing parent, each
    with the kind the listing that found it says).

    Top-level objects are read one by one (specs declare few catalogs); what is inside them, however
    deep, comes from listings, declared or not: a catalog-level EXECUTE reaches every model in it.
    """
    bodies = _fetched(pool, client, [o for o in declared if o.kind.parent is None])
    level = sorted(o.ref for o in declared if o.ref in bodies)
    children: dict[str, tuple[Ref, ...]] = {}
    while level:
        pairs = [(parent, child) for parent in level for child in parent.kind.children]
        lists = _in_parallel(pool, lambda pair: client.list_inside(pair[1], pair[0].full_name), pairs)
        found: dict[str, list[Ref]] = {p.full_name: [] for p in level if p.kind.children}
        for (parent, child), listed in zip(pairs, lists, strict=True):
            found[parent.full_name] += _keep(child, parent.full_name, listed, bodies)
        children.update((parent, tuple(sorted(refs, key=lambda r: r.full_name))) for parent, refs in found.items())
        level = [ref for parent in found for ref in children[parent] if ref.kind.children]
    return bodies, children


def _keep(kind: Kind, parent: str, listed: list[dict], bodies: dict[Ref, dict]) -> list[Ref]:
    """The listed children; their bodies go into ``bodies`` (undeclared ones for prune)."""
    refs = []
    for item in listed:
        ref = Ref(kind, f"{parent}.{item['name']}")
        refs.append(ref)
        bodies[ref] = item
    return refs


def read_objects(
    client: UCClient,
    objects: Iterable[Ref],
    *,
    with_versions: Iterable[Ref] = (),
    concurrency: int = CONCURRENCY,
) -> LiveState:
    """The live state of the objects (and the versions of the models in ``with_versions``), for apply's checks."""
    versions_of = set(with_versions)
    # read_live lists the versions of models that declare an approval; an empty one asks for just that
    stubs = {r: Securable(r.kind, r.full_name, approved=Approval() if r in versions_of else None) for r in objects}
    return read_live(client, State(objects=stubs), concurrency=concurrency)


def read_children(client: UCClient, kind: Kind, full_name: str) -> tuple[Ref, ...]:
    """What is live inside an object (a catalog's schemas; a schema's models, tables, volumes, functions), for a delete."""
    refs = []
    for child in kind.children:
        try:
            listed = client.list_inside(child, full_name)
        except ApiError as exc:
            if not exc.not_found:
                raise
            listed = []  # the parent went meanwhile: nothing inside it goes with it
        refs += [Ref(child, f"{full_name}.{item['name']}") for item in listed]
    return tuple(sorted(refs, key=lambda r: (r.full_name, r.kind.value)))


def read_grants_inside(
    client: UCClient, catalogs: Iterable[str], *, standalone: bool = False, concurrency: int = CONCURRENCY
) -> LiveState:
    """Every object inside ``catalogs`` (and they), each with the grants made directly on it: what
    ``ucgov access`` reports; with ``standalone``, also the metastore and every object of the other
    kinds that sit beside catalogs (``kinds.standalone``). The same listings as a plan's reads, then
    one grants request per object, ``concurrency`` in flight; a catalog that does not exist is an error."""
    stubs = [Securable(Kind.CATALOG, name) for name in catalogs]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        bodies, children = _listed(pool, client, stubs)
        absent = [s.full_name for s in stubs if s.ref not in bodies]
        if absent:
            raise UcgovError(f"catalog {absent[0]} does not exist on {client.url}")
        refs = list(bodies) + (_standalone(pool, client) if standalone else [])
        grants = _in_parallel(pool, lambda r: client.get_grants(r.kind, r.full_name), refs)
    objects = {r: Securable(r.kind, r.full_name, grants=g) for r, g in zip(refs, grants, strict=True)}
    return LiveState(objects=objects, children=children)


def _standalone(pool: ThreadPoolExecutor, client: UCClient) -> list[Ref]:
    """The one-object kinds (the metastore, named after its kind) and every listed object of the others."""
    kinds = standalone()
    ones = [Ref(k, k.spec.name) for k in kinds if k.spec.single]
    return ones + list(_listed_whole(pool, client, frozenset(k for k in kinds if not k.spec.single)))


def read_catalog_names(client: UCClient) -> tuple[str, ...]:
    """Every live catalog's name, for plan --show-unmanaged."""
    return tuple(c["name"] for c in client.iter_catalogs())


def _in_parallel(pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return list(pool.map(fn, items))


def _undeclared(
    pool: ThreadPoolExecutor,
    client: UCClient,
    desired: State,
    children: dict[str, tuple[Ref, ...]],
    bodies: dict[Ref, dict],
    whole: dict[Ref, Securable],
    stored: dict[Ref, str],
) -> dict[Ref, Securable]:
    """The live objects prune would delete, with what a reviewer must see: fields, versions, approval,
    and the grants made on them, which go with them.

    Their bodies came with the listings that found them; a model's versions and each object's
    grants are read (one request each).
    """
    assert isinstance(desired, DesiredState)
    read = {r: o for r, o in whole.items() if r in desired.objects}  # declared: staying, naming what they use
    refs = prune.retired(desired, LiveState(objects=read, children=children, listed=whole, stored=stored))
    top = [r for r in refs if r in whole]
    top_grants = _in_parallel(pool, _grants_of(client), [whole[r] for r in top])
    found = [(r, bodies[r]) for r in refs if r in bodies]
    models = [r for r, _ in found if r.kind.spec.versioned]
    listed = _in_parallel(pool, lambda r: client.list_versions(r.full_name), models)
    versions = dict(zip(models, listed, strict=True))
    stubs = [Securable(r.kind, r.full_name) for r, _ in found]
    grants = _in_parallel(pool, _grants_of(client), stubs)
    return {
        s.ref: replace(
            securable_of(s.kind, s.full_name, b, g, versions.get(s.ref, ())),
            children=children.get(s.full_name, ()) if s.kind.children else None,
        )
        for s, (_, b), g in zip(stubs, found, grants, strict=True)
    } | {r: replace(whole[r], grants=g) for r, g in zip(top, top_grants, strict=True)}


def _known_users(client: UCClient) -> frozenset[str] | None:
    try:
        return frozenset(client.list_users())
    except AuthError:
        return None  # only the metastore owner may list users; the plan says it could not check


def securable_of(
    kind: Kind,
    full_name: str,
    body: Mapping[str, Any],
    grants: Grants | None = None,
    versions: Iterable[ModelVersion] = (),
) -> Securable:
    """An object as a spec writes its fields, from the server's body: a versioned kind's approval line
    read out of the comment it manages, the kind's definition in the spec's shape."""
    comment, approved_version = body.get("comment"), None
    if kind.spec.versioned:  # the approval line is not part of the comment a spec manages
        comment, approved_version = approval.read(comment)
    spec = kind.spec
    return Securable(
        kind=kind,
        full_name=full_name,
        comment=comment,
        properties=body.get("properties") or {},
        grants=grants or {},
        approved=Approval(version=approved_version) if approved_version else None,
        versions=tuple(versions),
        storage_location=spec.files_at(body) if spec.files_at else None,
        definition=spec.definition(body) if spec.definition_fields else None,
    )
