"""Export: write specs for what exists live, so catalogs made by hand can be brought under management.

One file per catalog, nested catalogs -> schemas -> models as a person would write them, grants
in authoritative mode, the approved version as ``approved: {version: N}``. The files are written
while the server's pages are read, one page of objects at a time, so memory stays bounded
however many models a catalog holds.

What the spec format cannot say exactly as the server holds it is left out and reported as a
Note, never silently dropped or changed: a name the spec name rule refuses (with everything
inside it), grants with a privilege or principal the loader would refuse (the object's grants are
then left unmanaged), a model comment the approval line cannot sit under, an approval naming a
version that is missing or not READY, and every table, volume and function (kinds specs cannot
declare yet), with their grants. Whatever is left out is left out so that ``plan`` on the
output reports no changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, Any

import yaml

from ucgov import approval, privileges
from ucgov.client import UCClient
from ucgov.errors import AuthError, UcgovError
from ucgov.lock import Holder
from ucgov.reserved import is_reserved_catalog
from ucgov.state import Grants, Kind, ModelVersion

_NAME = re.compile(r"[a-zA-Z0-9_@-]{1,255}")
"""The spec format's name rule (ucgov.schema.json)."""
_BAD_PRINCIPAL = re.compile(r"[\x00-\x1f\x7f]")
_PAGE = 100
CONCURRENCY = 8


class ExportError(UcgovError):
    """Export cannot start: a named catalog is missing, or a file would be overwritten."""


@dataclass(frozen=True)
class Note:
    """Something live that the export left out, and why."""

    full_name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.full_name}: {self.reason}"


@dataclass(frozen=True)
class Written:
    """One spec file and how many objects it declares."""

    path: Path
    catalog: str
    schemas: int = 0
    models: int = 0


@dataclass(frozen=True)
class Exported:
    files: tuple[Written, ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass
class _Counts:
    schemas: int = 0
    models: int = 0
    notes: list[Note] = field(default_factory=list)


def export(
    client: UCClient,
    out: Path,
    *,
    catalogs: Iterable[str] = (),
    overwrite: bool = False,
    concurrency: int = CONCURRENCY,
) -> Exported:
    """Write one spec file per catalog (the named ones, else every catalog but ucgov's own) into ``out``."""
    _check_folder(out)  # before any request: a wrong --out is found in a second, not after a long read
    asked = list(dict.fromkeys(catalogs))
    notes = [
        Note(name, "not exported: ucgov's own apply lock, not a catalog to govern")
        for name in asked
        if is_reserved_catalog(name)
    ]
    if asked:
        listed = [n for n in asked if not is_reserved_catalog(n)]
    else:
        bodies = list(client.iter_catalogs())
        listed = [c["name"] for c in bodies if not is_reserved_catalog(c.get("name") or "")]
        # a team's catalog named like a claim: no spec may declare it, so say so rather than hide it
        notes += [
            Note(c["name"], "not exported: named like ucgov's apply lock claims, which no spec may declare")
            for c in bodies
            if is_reserved_catalog(c.get("name") or "") and Holder.parse(c["name"], c.get("comment")) is None
        ]
    names = list(dict.fromkeys(listed))
    # the server's creates are not atomic: two at once can leave two catalogs of one name
    notes += [
        Note(name, f"the server lists {listed.count(name)} catalogs of this name; exported once")
        for name in names
        if listed.count(name) > 1
    ]
    bodies = {name: client.get_securable(Kind.CATALOG, name) for name in names} if catalogs else {}
    missing = [name for name, body in bodies.items() if body is None]
    if missing:
        raise ExportError(f"catalog {', '.join(missing)} does not exist on {client.url}; nothing was written")
    reader = _Reader(client, _known_users(client))
    files = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        reader.pool = pool
        for name in names:
            if not _NAME.fullmatch(name):
                notes.append(Note(name, _refused_name(name)))
                continue
            path = out / f"{name}.yaml"
            if path.exists() and not overwrite:
                raise ExportError(f"{path} already exists: move it away, or pass --force to overwrite it")
            counts = _Counts()
            _write_atomically(path, partial(reader.write_catalog, name=name, body=bodies.get(name), counts=counts))
            files.append(Written(path, name, counts.schemas, counts.models))
            notes += counts.notes
    return Exported(tuple(files), tuple(notes))


class _Reader:
    """Reads one catalog page by page and writes its spec as it goes."""

    def __init__(self, client: UCClient, users: frozenset[str] | None) -> None:
        self.client = client
        self.users = users
        self.pool: ThreadPoolExecutor | None = None

    def write_catalog(self, f: IO[str], name: str, body: dict | None, counts: _Counts) -> None:
        body = body or self.client.get_securable(Kind.CATALOG, name) or {}
        f.write("catalogs:\n")
        fields = self._fields(Kind.CATALOG, name, body, self.client.get_grants(Kind.CATALOG, name), counts)
        schemas = _checked(self.client.iter_schemas(name), name, counts)
        f.write(_entry(name, fields, indent=2, children="schemas", has_children=schemas.peek()))
        for page in _pages(schemas):
            for schema, grants in zip(page, self._map(lambda s: self._grants(Kind.SCHEMA, s), page), strict=True):
                self._write_schema(f, schema, grants, counts)

    def _write_schema(self, f: IO[str], body: dict, grants: Grants, counts: _Counts) -> None:
        full_name = f"{body['catalog_name']}.{body['name']}"
        counts.schemas += 1
        fields = self._fields(Kind.SCHEMA, full_name, body, grants, counts)
        models = _checked(self.client.iter_models(body["catalog_name"], body["name"]), full_name, counts)
        f.write(_entry(body["name"], fields, indent=6, children="models", has_children=models.peek()))
        for page in _pages(models):
            for model, found in zip(page, self._map(self._model_facts, page), strict=True):
                counts.models += 1
                name = _full_name(model)
                fields = self._fields(Kind.MODEL, name, model, found[0], counts)
                fields.update(_approved(name, model, found[1], counts))
                f.write(_entry(model["name"], fields, indent=10))
        counts.notes += self._held(full_name)

    def _held(self, schema: str) -> list[Note]:
        """The schema's tables, volumes and functions, which a spec cannot declare yet: each one noted."""
        kinds = tuple(k for k in Kind.SCHEMA.children if k is not Kind.MODEL)
        listed = self._map(lambda kind: self.client.list_inside(kind, schema), kinds)
        return [
            Note(
                f"{schema}.{item.get('name')}",
                f"{kind.label} left out: specs cannot declare {kind.label}s yet, nor its grants",
            )
            for kind, items in zip(kinds, listed, strict=True)
            for item in items
        ]

    def _model_facts(self, body: dict) -> tuple[Grants, list[ModelVersion]]:
        """The model's grants and, when its comment names an approved version, its versions."""
        name = _full_name(body)
        approved = approval.read(body.get("comment"))[1]
        return self._grants(Kind.MODEL, body), self.client.list_versions(name) if approved else []

    def _grants(self, kind: Kind, body: dict) -> Grants:
        return self.client.get_grants(kind, _full_name(body))

    def _map(self, fn: Callable[[Any], Any], page: Iterable[Any]) -> list[Any]:
        return list(self.pool.map(fn, page)) if self.pool else [fn(item) for item in page]

    def _fields(self, kind: Kind, full_name: str, body: dict, grants: Grants, counts: _Counts) -> dict[str, Any]:
        """comment, properties and grants as a spec writes them; what cannot be written is noted."""
        fields: dict[str, Any] = {}
        comment = body.get("comment")
        if kind.spec.versioned:  # the approval line is ucgov's, not part of the comment a spec writes
            comment, version = approval.read(comment)
            problem = approval.comment_problem(comment, approved=version is not None) if comment else None
            if problem:
                counts.notes.append(Note(full_name, f"comment left unmanaged: it {problem}"))
                comment = None
        if comment is not None:
            fields["comment"] = _literal(comment)
        if kind.spec.manages("properties") and body.get("properties"):
            fields["properties"] = {str(k): _literal(str(v)) for k, v in sorted(body["properties"].items())}
        problem = self._grants_problem(kind, grants)
        if problem:
            counts.notes.append(Note(full_name, f"grants left unmanaged (no `grants:` key): {problem}"))
        else:
            fields["grants"] = {p: list(privileges.in_reading_order(privs)) for p, privs in sorted(grants.items())}
        return fields

    def _grants_problem(self, kind: Kind, grants: Grants) -> str | None:
        for principal, privs in sorted(grants.items()):
            if _BAD_PRINCIPAL.search(principal):
                return f"principal {principal!r} contains control characters"
            if self.users is not None and principal not in self.users:
                return f"principal '{principal}' is not an active user on the server"
            for privilege in sorted(privs):
                problem = privileges.problem_with(privileges.normalise(privilege), kind)
                if problem:
                    return f"{principal} holds {privilege}, which a spec cannot declare here ({problem})"
        return None


class _Peekable:
    """An iterator that can say whether anything is left, without losing it."""

    def __init__(self, items: Iterator[dict]) -> None:
        self._items = items
        self._head: list[dict] = []

    def peek(self) -> bool:
        if not self._head:
            self._head = list(islice(self._items, 1))
        return bool(self._head)

    def __iter__(self) -> Iterator[dict]:
        yield from self._head
        self._head = []
        yield from self._items


def _checked(listed: Iterator[dict], parent: str, counts: _Counts) -> _Peekable:
    """The children whose names a spec can declare; the others are noted, with all they hold."""

    def kept() -> Iterator[dict]:
        for body in listed:
            name = body.get("name") or ""
            if _NAME.fullmatch(name):
                yield body
            else:
                counts.notes.append(Note(f"{parent}.{name}", _refused_name(name)))

    return _Peekable(kept())


def _pages(items: Iterable[dict]) -> Iterator[list[dict]]:
    iterator = iter(items)
    while page := list(islice(iterator, _PAGE)):
        yield page


def _approved(name: str, body: dict, versions: list[ModelVersion], counts: _Counts) -> dict[str, Any]:
    version = approval.read(body.get("comment"))[1]
    if version is None:
        return {}
    found = {v.version: v for v in versions}.get(version)
    if found is None or not found.ready:
        state = "does not exist" if found is None else f"is {found.status}, not READY"
        counts.notes.append(Note(name, f"approval left out: the approved version {version} {state}"))
        return {}
    return {"approved": {"version": version}}


def _entry(name: str, fields: dict[str, Any], *, indent: int, children: str = "", has_children: bool = False) -> str:
    """``name:`` and its fields as YAML at ``indent``, opening the children's mapping if any follow."""
    pad = " " * indent
    key = _dump({name: 0}).rsplit(":", 1)[0]  # the name, quoted where YAML would misread it (true, @x, 1e3)
    lines = [f"{pad}{key}:" + ("" if fields or has_children else " {}")]
    if fields:
        lines += [pad + "  " + line for line in _dump(fields).splitlines()]
    if has_children:
        lines.append(f"{pad}  {children}:")
    return "\n".join(lines) + "\n"


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=10_000, Dumper=_Dumper)


class _Dumper(yaml.SafeDumper):
    """Block style for objects, flow style for privilege lists and the approval: as a person writes them."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = set(data) == {"version"}
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # a comment of several lines reads best as a literal block; the emitter falls back to quotes where it must
    style = "|" if "\n" in data and not any(line != line.rstrip() for line in data.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def _literal(text: str) -> str:
    """Text that reads back as itself: ``${`` would be a variable reference, so it is written ``$${``."""
    return text.replace("${", "$${")


def _full_name(body: dict) -> str:
    return body.get("full_name") or ".".join(body[k] for k in ("catalog_name", "schema_name", "name") if k in body)


def _refused_name(name: str) -> str:
    return f"not exported: the name {name!r} breaks the spec name rule (letters, digits, _, @ and -; at most 255)"


def _known_users(client: UCClient) -> frozenset[str] | None:
    try:
        return frozenset(client.list_users())
    except AuthError:
        return None  # only the metastore owner may list users; grants are then exported unchecked


def _check_folder(out: Path) -> None:
    """``out`` is a folder spec files can be written in, or one that can be made there: else one
    sentence. Nothing is made yet: an export that fails on the server leaves no empty folder."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is not a folder: name a folder for the spec files")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ExportError(f"cannot make the folder {out} for the spec files: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write spec files in {out}: {existing} is not writable")


def _write_atomically(path: Path, write: Callable[[IO[str]], None]) -> None:
    """The file appears whole or not at all: a failed export leaves no half-written spec behind."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8") as f:
            write(f)
        os.replace(partial, path)
    except OSError as exc:  # a full disk, a folder removed meanwhile
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}; nothing else was written for it") from exc
    finally:
        partial.unlink(missing_ok=True)
