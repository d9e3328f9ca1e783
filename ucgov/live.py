"""Reading the live state of exactly the objects the specs declare, with requests in flight together.

For specs (not for checking a saved plan) it also lists what is live inside the declared catalogs
that exist, of every kind in the registry: a grant on the parent reaches it, and prune may delete it
or must keep its schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

from ucgov import approval, prune
from ucgov.client import UCClient
from ucgov.errors import ApiError, AuthError
from ucgov.state import Approval, DesiredState, Grants, GrantsMode, Kind, LiveState, ModelVersion, Ref, Securable, State

T = TypeVar("T")
R = TypeVar("R")
CONCURRENCY = 16


def read_state(client: UCClient, desired: DesiredState, *, concurrency: int = CONCURRENCY) -> LiveState:
    """The server's state of the declared objects, plus the MLflow runs that approvals name."""
    live = read_live(client, desired, concurrency=concurrency)
    promotions = [o.approved for o in desired.ordered() if o.approved and o.approved.from_model]
    if promotions:
        live = replace(live, sources=read_sources(client, promotions, concurrency=concurrency))
    approvals = [o.approved for o in desired.ordered() if o.approved and o.approved.run]
    approvals += promoted_runs(promotions, live.sources)
    if not approvals:
        return live
    from ucgov import mlflow_bridge  # imported only when a run must be resolved

    return replace(live, runs=mlflow_bridge.read_runs(approvals), tracking_store=mlflow_bridge.tracking_store())


def read_sources(
    client: UCClient, promotions: list[Approval], *, concurrency: int = CONCURRENCY
) -> dict[str, tuple[ModelVersion, ...]]:
    """The versions of each model a promotion copies from (one listing each); a missing model is left out."""
    names = sorted({p.from_model for p in promotions if p.from_model})

    def listed(name: str) -> tuple[ModelVersion, ...] | None:
        try:
            return tuple(client.list_versions(name))
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        found = _in_parallel(pool, listed, names)
    return {name: versions for name, versions in zip(names, found, strict=True) if versions is not None}


def promoted_runs(promotions: list[Approval], sources: dict[str, tuple[ModelVersion, ...]]) -> list[Approval]:
    """For reading runs: the run of each promoted source version whose gates must be checked, as an approval of it."""
    found = []
    for p in promotions:
        version = next((v for v in sources.get(p.from_model or "", ()) if v.version == p.from_version), None)
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
            o.ref: _securable(o, bodies[o.ref], grants.get(o.ref, {}), versions.get(o.ref, ())) for o in existing
        }
        undeclared = _undeclared(pool, client, desired, children, bodies) if from_specs else {}
        known = users.result() if users else None
    return LiveState(objects=objects, known_principals=known, children=children, undeclared=undeclared)


def _grants_of(client: UCClient) -> Callable[[Securable], Grants]:
    return lambda o: client.get_grants(o.kind, o.full_name)


def _fetched(pool: ThreadPoolExecutor, client: UCClient, declared: list[Securable]) -> dict[Ref, dict]:
    """Each object read on its own (a 404 means absent)."""
    found = _in_parallel(pool, lambda o: client.get_securable(o.kind, o.full_name), declared)
    return {o.ref: body for o, body in zip(declared, found, strict=True) if body is not None}


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
) -> dict[Ref, Securable]:
    """The live objects prune would delete, with what a reviewer must see: fields, versions, approval,
    and the grants made on them, which go with them.

    Their bodies came with the listings that found them; a model's versions and each object's
    grants are read (one request each).
    """
    assert isinstance(desired, DesiredState)
    refs = prune.retired(desired, LiveState(children=children))
    found = [(r, bodies[r]) for r in refs if r in bodies]
    models = [r for r, _ in found if r.kind.spec.versioned]
    listed = _in_parallel(pool, lambda r: client.list_versions(r.full_name), models)
    versions = dict(zip(models, listed, strict=True))
    stubs = [Securable(r.kind, r.full_name) for r, _ in found]
    grants = _in_parallel(pool, _grants_of(client), stubs)
    return {
        s.ref: replace(
            _securable(s, b, g, versions.get(s.ref, ())),
            children=children.get(s.full_name, ()) if s.kind.children else None,
        )
        for s, (_, b), g in zip(stubs, found, grants, strict=True)
    }


def _known_users(client: UCClient) -> frozenset[str] | None:
    try:
        return frozenset(client.list_users())
    except AuthError:
        return None  # only the metastore owner may list users; the plan says it could not check


def _securable(declared: Securable, body: dict, grants, versions: Iterable[ModelVersion]) -> Securable:
    comment, approved_version = body.get("comment"), None
    if declared.kind.spec.versioned:  # the approval line is not part of the comment a spec manages
        comment, approved_version = approval.read(comment)
    spec = declared.kind.spec
    return Securable(
        kind=declared.kind,
        full_name=declared.full_name,
        comment=comment,
        properties=body.get("properties") or {},
        grants=grants,
        approved=Approval(version=approved_version) if approved_version else None,
        versions=tuple(versions),
        storage_location=spec.files_at(body) if spec.files_at else None,
        definition=spec.definition(body) if spec.definition_fields else None,
    )
