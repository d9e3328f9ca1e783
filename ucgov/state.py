"""Plain, frozen descriptions of Unity Catalog objects: what specs want and what the server has.

Desired and live state share one shape so the planner can compare them field by field.
A field set to ``None`` in desired state means "not managed": the live value is left alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from ucgov.errors import Location
from ucgov.kinds import Kind

Grants = Mapping[str, frozenset[str]]
"""Privileges per principal, as granted directly on one object."""


class Ref(NamedTuple):
    """One object by its kind and full name: names alone may repeat across kinds."""

    kind: Kind
    full_name: str

    def __str__(self) -> str:
        # the metastore is the only one of its kind: "metastore", not "metastore metastore"
        return self.kind.label if self.kind.spec.single else f"{self.kind.label} {self.full_name}"


class GrantsMode(str, Enum):
    """How ucgov manages an object's grants: unmanaged without a ``grants:`` key, else as the mode says."""

    AUTHORITATIVE = "authoritative"
    ADDITIVE = "additive"
    UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class Gate:
    """One condition an approved run must meet, e.g. metric accuracy >= 0.9."""

    kind: str  # "metrics", "params" or "tags"
    name: str
    op: str  # one of ucgov.gates.OPERATORS
    value: str | float
    where: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Approval:
    """Which version of a model is approved: an existing version or an MLflow run.

    Desired approvals carry where they were written; a live one only has a version.
    """

    version: int | None = None
    run: str | None = None
    artifact_path: str = "model"
    require: tuple[Gate, ...] = ()
    keep_versions: int | None = None
    """Keep this many newest versions (and the approved one); prune deletes the others."""
    from_model: str | None = None
    """A promotion: the full name of another model whose ``from_version`` is copied into this model as
    a new version and approved (``version`` and ``run`` are then None)."""
    from_version: int | None = None
    from_target: str | None = None
    """The target (``targets:``) whose server holds ``from_model``; None: the server being planned."""
    where: Location | None = field(default=None, compare=False)

    @property
    def source(self) -> Source | None:
        """The model a promotion copies from, and where; None when this is not a promotion."""
        return Source(self.from_model, self.from_target) if self.from_model else None

    @property
    def lineage(self) -> str | None:
        """The line a promoted version's comment carries, or None when this is not a promotion."""
        if not (self.from_model and self.from_version):
            return None
        return lineage(self.from_model, self.from_version, self.from_target)


class Source(NamedTuple):
    """A promotion's source model: its full name, on the server of ``target`` (None: the one planned)."""

    model: str
    target: str | None = None

    def __str__(self) -> str:
        return f"{self.target}:{self.model}" if self.target else self.model


@dataclass(frozen=True)
class Server:
    """Another target's server, as a promotion reads its source there: enough to reach it again
    (a saved plan records it), never a token."""

    target: str
    url: str
    """Without user or password (``transport.without_userinfo``)."""
    token_env: str | None = None
    """The environment variable holding its token; None: UCGOV_TOKEN."""


def lineage(model: str, version: int, target: str | None = None) -> str:
    """What a promoted version's comment says: where it came from (``TARGET:MODEL/N`` from another
    target's server), for people and for done-ness."""
    return f"promoted from {Source(model, target)}/{version}"


@dataclass(frozen=True)
class Policy:
    """Deny ``privileges`` to principals matching ``principal`` on objects matching ``on``.

    ``principal`` and ``on`` are fnmatch globs (case-sensitive); ``on`` is matched part by part,
    so ``prod_*.*`` means every schema of every catalog whose name starts with ``prod_``.
    What a grant reaches, and so breaks, is worked out in ``ucgov.policies``.
    """

    name: str
    principal: str = "*"
    privileges: frozenset[str] | None = None
    """Normalised privilege names, or None for any privilege."""
    on: str | None = None
    """A pattern over full names, or None for any object."""
    kind: Kind | None = None
    """The kind whose objects ``on`` names (the metastore, credentials, external locations), or None:
    ``on`` then names the catalog tree only (``KindSpec.policy_named``), so ``*`` is every catalog,
    never a credential."""
    where: Location | None = field(default=None, compare=False)

    def denies(self, principal: str, privilege: str) -> bool:
        """Whether this policy is about this principal and privilege, wherever granted."""
        wanted = self.privileges is None or privilege in self.privileges
        return wanted and fnmatchcase(principal, self.principal)


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model, as the server lists it."""

    version: int
    run_id: str | None
    status: str
    source: str | None = None
    storage_location: str | None = None
    """Where the server keeps the version's files; it leaves them there when the version is deleted."""
    comment: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "READY"

    def carries(self, lineage_line: str) -> bool:
        """Whether the version's comment holds the lineage line of a promotion (see ``lineage``) as a
        line of its own: the approval's provenance line may follow it (``ucgov.provenance``)."""
        return lineage_line in (self.comment or "").splitlines()

    def came_from(self, run: str, artifact_path: str, *, sources: Collection[str] = ()) -> bool:
        """Whether this version holds the model that ``run`` logged at ``artifact_path``.

        ucgov registers with source ``runs:/RUN/PATH``; MLflow 2's own registration records the
        run's artifact folder, ending in ``/artifacts/PATH``. MLflow 3 records the logged model
        (``models:/m-ID``) and, registering through ``uc:``, often no run id at all: ``sources``
        (what the tracking store says names that model, see RunInfo.sources) are matched alone.
        """
        if not self.source:
            return False
        source = self.source.rstrip("/")
        if source in {s.rstrip("/") for s in sources}:
            return True
        if self.run_id != run:
            return False
        path = artifact_path.strip("/")
        return source == f"runs:/{run}/{path}" or source.endswith(f"/artifacts/{path}")


@dataclass(frozen=True)
class RunInfo:
    """What the MLflow tracking store says about a run an approval names."""

    run_id: str
    artifact_uri: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    model_paths: frozenset[str] = frozenset()
    """Artifact paths in the run that hold an MLflow model (an MLmodel file)."""
    logged_models: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """MLflow 3: per artifact path (the logged model's name), the model's ``models:/m-ID`` URI
    and artifact location, as a registration may record them."""

    def sources(self, artifact_path: str) -> frozenset[str]:
        """Every source a version registered from this run's model at ``artifact_path`` may carry:
        each names this run's own artifacts, so it matches whatever run id the server lists."""
        path = artifact_path.strip("/")
        found = {f"runs:/{self.run_id}/{path}", f"{self.artifact_uri.rstrip('/')}/{path}"}
        return frozenset(found | self.logged_models.get(path, frozenset()))


@dataclass(frozen=True)
class Securable:
    """One object of a kind in the registry (a catalog, schema, model, table, volume or function)
    and the grants made directly on it."""

    kind: Kind
    full_name: str
    comment: str | None = None
    properties: Mapping[str, str] | None = None
    grants: Grants = field(default_factory=dict)
    grants_mode: GrantsMode = GrantsMode.AUTHORITATIVE
    """Desired objects only; a spec without ``grants:`` makes them UNMANAGED."""
    approved: Approval | None = None
    versions: tuple[ModelVersion, ...] = ()
    """Live models only, and only when an approval or a delete needs them."""
    storage_location: str | None = None
    """Live models only: the folder or prefix holding its versions' files (which outlive a delete)."""
    children: tuple[Ref, ...] | None = None
    """Live schemas and catalogs to delete only: what is inside them (None: not read)."""
    definition: Mapping[str, Any] | None = None
    """The kind's own fields beyond comment and properties (a volume's type and location, a table's
    columns, a function's signature and body), in the spec's shape. Desired: None when the spec gives
    none (an existing object is governed as it is); only the fields written are compared. Live: every
    such field the server holds."""

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.full_name)

    def value(self, name: str) -> Any:
        """The field ``name`` as a spec writes it: comment, properties, or one of the definition's."""
        if name == "comment":
            return self.comment
        if name == "properties":
            return None if self.properties is None else dict(self.properties)
        return (self.definition or {}).get(name)


@dataclass(frozen=True)
class State:
    """A set of securables keyed by kind and full name: a model and a volume may share a name."""

    objects: Mapping[Ref, Securable] = field(default_factory=dict)

    def get(self, ref: Ref) -> Securable | None:
        return self.objects.get(ref)

    def named(self, full_name: str) -> Securable | None:
        """The object of this name, for a person or a test naming one: an error if kinds share the name."""
        found = [o for r, o in self.objects.items() if r.full_name == full_name]
        if len(found) > 1:
            raise LookupError(f"{full_name} names {len(found)} objects: {', '.join(str(o.ref) for o in found)}")
        return found[0] if found else None

    @classmethod
    def of(cls, *objects: Securable, **others: Any) -> State:
        """The state holding ``objects``, each under its own ref."""
        return cls(objects={o.ref: o for o in objects}, **others)

    def ordered(self) -> list[Securable]:
        """Parents before children, a kind after those it names (a credential before its external
        locations), then by name: the order in which objects can be created."""
        return sorted(self.objects.values(), key=lambda s: (s.kind.order, s.full_name))


@dataclass(frozen=True)
class DesiredState(State):
    """What the specs declare, plus where each thing was written for error messages."""

    principals: Mapping[str, tuple] = field(default_factory=dict)
    """Each principal named in grants, with the locations that name it."""
    prune: bool = False
    prune_on: Mapping[str, bool] = field(default_factory=dict)
    """``prune:`` as written on a catalog or schema, by full name (no two such share one); overrides
    settings.prune inside it."""
    prune_top: frozenset[Kind] = frozenset()
    """The top-level kinds whose undeclared objects prune deletes: those whose ``KindSpec.pruned_by``
    object (the metastore) says ``prune: true``. settings.prune never reaches them."""
    policies: tuple[Policy, ...] = ()
    """Access the specs must never grant, checked when specs are loaded (ucgov.policies)."""
    grant_locations: Mapping[tuple[Ref, str, str], Location] = field(default_factory=dict, compare=False)
    """Where each (object, principal, privilege) grant was first written, for error messages."""
    field_locations: Mapping[tuple[Ref, str], Location] = field(default_factory=dict, compare=False)
    """Where each (object, field) was first written, e.g. (catalog unity, "properties"); "" for its name."""
    digest: str = field(default="", compare=False)
    """A digest of everything declared, so a saved plan can be tied to the specs it came from."""

    def where(self, ref: Ref, *fields: str) -> Location:
        """Where the first of ``fields`` that is written for the object was written, else its name."""
        for name in fields:
            if (ref, name) in self.field_locations:
                return self.field_locations[(ref, name)]
        return self.field_locations.get((ref, ""), Location("<specs>", 1, 1))


@dataclass(frozen=True)
class LiveState(State):
    """What the server has for the declared objects; absent objects are simply missing."""

    known_principals: frozenset[str] | None = field(default=None)
    """Users the server knows, or None when the server could not list them."""
    runs: Mapping[str, RunInfo] = field(default_factory=dict)
    """MLflow runs that approvals name, as the tracking store has them."""
    tracking_store: str = ""
    """Which MLflow tracking store the runs were looked up in, in words, for messages."""
    children: Mapping[str, tuple[Ref, ...]] = field(default_factory=dict)
    """By the full name of each live catalog or schema inside a declared catalog (no catalog and schema
    share a full name): what is live directly inside it, of every kind, declared or not. What a grant
    on the parent reaches, and what prune may delete or must keep."""
    undeclared: Mapping[Ref, Securable] = field(default_factory=dict)
    """Live objects that no spec declares, read where prune deletes them (models with their
    versions): what a plan may delete."""
    catalogs: tuple[str, ...] | None = None
    """Every live catalog's name, read only for ``plan --show-unmanaged``."""
    listed: Mapping[Ref, Securable] = field(default_factory=dict)
    """Every live object of the kinds read whole (``kinds.listed_whole``: credentials, external
    locations), without grants, for the kinds that were listed: where prune may delete them, a
    declared storage_location must lie under a location, or ``plan --show-unmanaged`` asks."""
    listed_kinds: frozenset[Kind] = frozenset()
    """The kinds ``listed`` holds every live object of."""
    stored: Mapping[Ref, str] = field(default_factory=dict)
    """Where each live table and volume ucgov listed keeps its files (its ``KindSpec.storage_field``),
    as the server keeps URLs: what keeps an external location that prune would delete."""
    sources: Mapping[Source, tuple[ModelVersion, ...]] = field(default_factory=dict)
    """The versions of each model a promotion copies from; a model missing here does not exist."""
    servers: Mapping[str, Server] = field(default_factory=dict)
    """The other targets' servers that sources were read from, by target name."""
