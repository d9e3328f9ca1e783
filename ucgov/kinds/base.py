"""What one kind of securable is, as data: the shape every module in ``ucgov.kinds`` fills in.

A kind says where the server keeps it (its REST collection and the key its listings use), what it
sits inside (its parent kind), where specs declare it, which of its fields specs manage, and which
privileges act on it. Code that must differ per kind reads these instead of naming a kind.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?://(?P<authority>[^/?#]*))?(?P<path>[^?#]*)(?P<rest>.*)", re.S
)


def location(value: Any) -> Any:
    """A storage location or root as the 0.6.0 server keeps it, so a spec's and the server's compare:
    an absolute path becomes a ``file:`` URL (``file:/x`` and ``file://host/x`` too, as the server reads
    them), and doubled slashes, ``.``, ``..`` and a trailing slash go. Anything else is left as written
    (a relative path the server resolves against its own folder, which ucgov cannot know)."""
    if not isinstance(value, str) or not value:
        return value
    found = _URL.fullmatch(value)
    if found is None:
        return f"file://{_path(value)}" if value.startswith("/") else value
    scheme, authority, path, rest = found["scheme"], found["authority"] or "", found["path"], found["rest"]
    if scheme == "file":
        return f"file://{_path('/' + authority + path)}{rest}"
    if found["authority"] is None:  # e.g. "C:/x": no URL the server would store as such
        return value
    return f"{scheme}://{authority}{_path(path) if path.strip('/') else ''}{rest}"


Refusal = tuple[str, str]
"""Why the server would refuse a create: the field it is about, and the rest of a sentence that begins
with the object's name."""


def location_refused(definition: Mapping[str, Any], *fields: str) -> Refusal | None:
    """A location the server would refuse (white space: "Unsupported path") or keep as another place
    than the spec means (a relative path, resolved against the server's own folder)."""
    for name in fields:
        value = definition.get(name)
        if not isinstance(value, str):
            continue
        if any(c.isspace() for c in value):
            why = f"has a {name} with white space in it ({value!r}), which the server refuses; write a space as %20"
            return name, why
        if not value.startswith("/") and _URL.fullmatch(value) is None:
            return name, (
                f"has a relative {name} ({value!r}), which the server would resolve against its own folder; "
                "write an absolute path or a URL"
            )
    return None


def _path(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path.strip("/") else "/"


@dataclass(frozen=True)
class Field:
    """A field of a kind that specs manage; ``create_only`` if the server cannot change it afterwards."""

    name: str
    create_only: bool = False
    location: bool = False
    """A storage URL: compared as the server keeps it (``location``), and a plan error where the server
    would refuse it or take it for another place (``location_refused``)."""


@dataclass(frozen=True)
class KindSpec:
    """One kind of Unity Catalog securable, described; instances live one per module in ``ucgov.kinds``."""

    name: str
    """The server's securable type, as its permissions API names it, e.g. ``registered_model``."""
    label: str
    """What messages and renderings call it, e.g. ``model``."""
    collection: str
    """Its REST collection under ``/api/2.1/unity-catalog``, e.g. ``models``."""
    listing_key: str
    """The key a listing of the collection holds its objects under, e.g. ``registered_models``."""
    spec_key: str | None
    """The key under which specs declare objects of this kind inside their parent (or at the top);
    None for a kind specs cannot declare, which ucgov then never creates nor deletes."""
    parent: KindSpec | None
    """The kind it sits inside, or None for a top-level kind."""
    name_key: str
    """How a create body of a kind inside this one names this part of the full name, e.g. ``catalog_name``."""
    fields: tuple[Field, ...]
    """The fields specs manage (others, e.g. a model's properties, are left alone). Beyond comment and
    properties they form the object's definition (``Securable.definition``)."""
    privileges: frozenset[str]
    """The privileges that act on this kind itself (those of kinds inside it come from the registry)."""
    usage: str | None = None
    """The privilege a principal must hold on an object of this kind (directly, or inherited from a
    parent) to use any grant on it or inside it: USE CATALOG, USE SCHEMA. None for kinds that hold nothing."""
    versioned: bool = False
    """Whether objects have versions that specs approve, keep and prune (models)."""
    prunable: bool = True
    """Whether prune deletes a live one no spec declares. Not for kinds whose undeclared objects
    specs could not make again (a table's data, a function's code): those keep their schema."""
    needed_to_create: tuple[str, ...] = ()
    """Definition fields a spec must give for ucgov to create the object; without them a declared
    object must exist already (an existing table is governed, never made up)."""
    definition_of: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    """A server body's definition fields in the spec's shape (None: the fields as the body names them)."""
    shape: Callable[[str, Any], Any] | None = None
    """A definition field as a spec writes it, in the shape ``definition_of`` gives (defaults filled in)."""
    body_of: Callable[[Mapping[str, Any], str], dict[str, Any]] | None = None
    """The create request's fields for a definition in the spec's shape and the object's own name
    (None: the fields as they are)."""
    create_refused: Callable[[Mapping[str, Any]], Refusal | None] | None = None
    """Why the server would refuse to create one of this definition (in the spec's shape), or make
    something else of it than the spec means; None where it would not. Foreseen, it is a plan error,
    never an apply stopped halfway nor a plan that never settles."""
    managed_storage: Callable[[Mapping[str, Any]], bool] | None = None
    """Whether one of this definition keeps its files in managed storage, which the server puts under the
    nearest ``storage_root`` of what it sits inside and refuses to create without one (a MANAGED volume)."""
    files_at: Callable[[Mapping[str, Any]], str | None] | None = None
    """Where the files that go with a live object when it is deleted are, from its body (a model's
    versions, a managed volume's), or None for a kind that keeps none."""
    removes_files: frozenset[str] | None = None
    """The storage schemes (``file``, ``s3``) where the server's delete removes those files itself (a
    managed volume's, in ``file:`` storage); elsewhere they stay, and ucgov leaves them. None: the server
    always leaves them, and apply removes what it can after the delete (a model's, ``ucgov.storage``)."""
    create_wrapper: str | None = None
    """The key a create request nests its body under (a function's ``function_info``), if any."""
    as_written: Callable[[Mapping[str, Any]], tuple[dict[str, Any], str | None]] | None = None
    """A live body's definition as a person writes it in a spec (defaults and what the server makes
    left out), with the reason, if any, that no spec can say it exactly: export then declares the
    object without a definition, governed as it exists. None: the definition's fields that are set."""
    read_by_listing: bool = False
    """Whether the server answers a request about a missing one (its GET, PATCH, DELETE, grants) with
    HTTP 500 rather than 404, as 0.6.0 does for volumes: then it is read from its parent's listing,
    and a 500 to any request about it is settled by that listing, never retried blindly."""
    update_body_of: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    """The update (PATCH) request's fields for changed definition fields in the spec's shape, named as
    the server names them (an external location's ``credential`` is its ``credential_name``). None:
    the fields as they are."""
    read_path: str | None = None
    """For a kind with exactly one object, which ucgov never creates nor deletes (the metastore): the
    path under the API that reads it. Specs declare its body directly under ``spec_key`` (no names),
    and its full name is its ``name``; its grants are read at any name (the server ignores it)."""
    pruned_by: KindSpec | None = None
    """For a top-level kind: the one-object kind whose own ``prune: true`` lets apply delete undeclared
    objects of this kind (settings.prune never does: a shared server's credentials must not go by
    accident). None: undeclared top-level objects are never deleted (catalogs)."""
    references: tuple[tuple[str, KindSpec], ...] = ()
    """(definition field, kind): the field names an object of that kind, which is created before this
    one and deleted after it; the server refuses to delete it while a live object names it."""
    after: tuple[KindSpec, ...] = ()
    """Kinds at the same depth whose objects are created before this one's, though none is named (a
    catalog's storage_root must lie under an external location: the server refuses it otherwise)."""
    url_field: str | None = None
    """The definition field holding the URL under which this object governs storage (an external
    location's ``url``): the server refuses to delete it while a live table or volume lies under it."""
    storage_field: str | None = None
    """The definition field holding where an object's files are (a table's or volume's
    ``storage_location``), which should lie under some external location's ``url_field``."""
    policy_named: bool = True
    """Whether a policy's ``on`` pattern (catalog, catalog.schema, ...) names objects of this kind; the
    kinds outside the catalog tree (metastore, credential, external location) are named by a policy's
    ``kind`` instead, so that a pattern like ``*`` never reaches them by accident."""

    @property
    def single(self) -> bool:
        """Whether the kind has exactly one object, declared without a name (see ``read_path``)."""
        return self.read_path is not None

    @property
    def rank(self) -> int:
        """0 for a kind that names no other, else one more than the kinds it names or comes ``after``:
        created after them."""
        before = [kind for _, kind in self.references] + list(self.after)
        return 1 + max(kind.rank for kind in before) if before else 0

    @property
    def ancestors(self) -> tuple[KindSpec, ...]:
        """The kinds it sits inside, outermost first."""
        return (*self.parent.ancestors, self.parent) if self.parent else ()

    @property
    def depth(self) -> int:
        """1 for a top-level kind, one more per kind it sits inside: parents are created first."""
        return len(self.ancestors) + 1

    @property
    def declarable(self) -> bool:
        """Whether specs declare it, and so plans create, change and prune it; else it is only read
        to see what a parent holds (a schema holding a table is not deleted)."""
        return self.spec_key is not None

    def manages(self, field: str) -> bool:
        return any(f.name == field for f in self.fields)

    @property
    def definition_fields(self) -> tuple[Field, ...]:
        """The managed fields beyond comment and properties."""
        return tuple(f for f in self.fields if f.name not in ("comment", "properties"))

    def create_only(self, field: str) -> bool:
        return any(f.name == field and f.create_only for f in self.fields)

    def definition(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The definition a live object's body holds, in the spec's shape."""
        if self.definition_of is not None:
            return self.definition_of(body)
        return {f.name: body.get(f.name) for f in self.definition_fields}

    def exported(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The definition export writes for a live object, or why it writes none (see ``as_written``)."""
        if self.as_written is not None:
            return self.as_written(body)
        return {k: v for k, v in self.definition(body).items() if v is not None}, None

    @property
    def location_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.location)

    def written(self, field: str, value: Any) -> Any:
        """A definition field as a spec writes it, in the shape the server's compares with."""
        value = location(value) if field in self.location_fields else value
        return self.shape(field, value) if self.shape else value

    def update_body(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The body of the update request for changed fields in the spec's shape."""
        plain = {k: v for k, v in fields.items() if k in ("comment", "properties")}
        written = {k: v for k, v in fields.items() if k not in plain}
        return {**plain, **(self.update_body_of(written) if self.update_body_of else written)}

    def create_body(self, full_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The body of the create request: its own name, the fields, and the names of its parents."""
        parts = full_name.split(".")
        plain = {k: v for k, v in fields.items() if k in ("comment", "properties")}
        written = {k: v for k, v in fields.items() if k not in plain}
        body: dict[str, Any] = {
            "name": parts[-1],
            **plain,
            **(self.body_of(written, parts[-1]) if self.body_of else written),
        }
        body.update({kind.name_key: part for kind, part in zip(self.ancestors, parts, strict=False)})
        return {self.create_wrapper: body} if self.create_wrapper else body


def lies_under(path: str, url: str) -> bool:
    """Whether ``path`` is ``url`` or inside it, segment by segment (``s3://b/x-y`` is not inside ``s3://b/x``)."""
    path, url = location(path), location(url)
    return path == url or path.startswith(url.rstrip("/") + "/")
