"""Plain, frozen descriptions of Unity Catalog objects: what specs want and what the server has.

Desired and live state share one shape so the planner can compare them field by field.
A field set to ``None`` in desired state means "not managed": the live value is left alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from typing import NamedTuple

from ucgov.errors import Location
from ucgov.kinds import Kind

Grants = Mapping[str, frozenset[str]]
"""Privileges per principal, as granted directly on one object."""


class Ref(NamedTuple):
    """One object by its kind and full name: names alone may repeat across kinds."""

    kind: Kind
    full_name: str


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
    where: Location | None = field(default=None, compare=False)


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

    @property
    def ready(self) -> bool:
        return self.status == "READY"

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
    """One catalog, schema or registered model and the grants made directly on it."""

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
    children: tuple[str, ...] | None = None
    """Live schemas and catalogs to delete only: the full names inside them (None: not read)."""


@dataclass(frozen=True)
class State:
    """A set of securables keyed by full name (unique across kinds, since depth differs)."""

    objects: Mapping[str, Securable] = field(default_factory=dict)

    def get(self, full_name: str) -> Securable | None:
        return self.objects.get(full_name)

    def ordered(self) -> list[Securable]:
        """Parents before children, then by name: the order in which objects can be created."""
        return sorted(self.objects.values(), key=lambda s: (s.kind.depth, s.full_name))


@dataclass(frozen=True)
class DesiredState(State):
    """What the specs declare, plus where each thing was written for error messages."""

    principals: Mapping[str, tuple] = field(default_factory=dict)
    """Each principal named in grants, with the locations that name it."""
    prune: bool = False
    prune_on: Mapping[str, bool] = field(default_factory=dict)
    """``prune:`` as written on a catalog or schema, by full name; overrides settings.prune inside it."""
    policies: tuple[Policy, ...] = ()
    """Access the specs must never grant, checked when specs are loaded (ucgov.policies)."""
    grant_locations: Mapping[tuple[str, str, str], Location] = field(default_factory=dict, compare=False)
    """Where each (full name, principal, privilege) grant was first written, for error messages."""
    field_locations: Mapping[tuple[str, str], Location] = field(default_factory=dict, compare=False)
    """Where each (full name, field) was first written, e.g. ("unity", "properties")."""
    digest: str = field(default="", compare=False)
    """A digest of everything declared, so a saved plan can be tied to the specs it came from."""

    def where(self, full_name: str, *fields: str) -> Location:
        """Where the first of ``fields`` that is written for the object was written."""
        for name in fields:
            if (full_name, name) in self.field_locations:
                return self.field_locations[(full_name, name)]
        return self.field_locations.get((full_name, ""), Location("<specs>", 1, 1))


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
    """The (kind, full name) of the live schemas inside each declared catalog that exists, and of the live
    models inside those schemas, declared or not: what a grant on the parent reaches."""
    undeclared: Mapping[str, Securable] = field(default_factory=dict)
    """Live schemas and models that no spec declares, read where prune applies (models with
    their versions): what a plan may delete."""
    catalogs: tuple[str, ...] | None = None
    """Every live catalog's name, read only for ``plan --show-unmanaged``."""
    held: Mapping[str, tuple[Ref, ...]] = field(default_factory=dict)
    """The live objects of kinds specs cannot declare yet (tables, volumes, functions) inside schemas,
    read only where needed: in the schemas prune would delete, and for ``plan --show-unmanaged``."""
