"""Export: write specs for what exists live, so catalogs made by hand can be brought under management.

One file per catalog. The registry of kinds is walked from the catalog down: each kind inside an
object is written under its spec key (a schema's ``models:``, ``tables:``, ``volumes:``,
``functions:``, in registry order) with its comment, properties and definition as a person would
write them (``KindSpec.exported``), its grants in authoritative mode and a model's approved version
as ``approved: {version: N}``. The files are written while the server's pages are read, one page of
objects at a time, so memory stays bounded however many objects a catalog holds.

What the spec format cannot say exactly as the server holds it is left out and reported as a
Note, never silently dropped or changed: a name the spec name rule refuses (with everything
inside it; its parent then shows it as unmanaged), grants with a privilege or principal the loader
would refuse (the object's grants are then left unmanaged), a model comment the approval line
cannot sit under, an approval naming a version that is missing or not READY, properties of a kind
whose properties specs do not declare, any field the loader would refuse (too long, a character
it refuses, a value outside the spec's enums), and a definition no spec can say exactly (a
MANAGED table, a column type outside the spec's types, a partitioned table, a function in
another language or whose create would differ): the object is then declared without its
definition, so it is governed as it exists, with its grants, and never created. Whatever is left
out is left out so that ``plan`` on the output reports no changes.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from ucgov.kinds import listed_whole, single, top_level
from ucgov.lock import Holder
from ucgov.reserved import is_reserved_catalog
from ucgov.spec.loader import entry_errors, refused_character
from ucgov.state import Grants, Kind, ModelVersion

_NAME = re.compile(r"[a-zA-Z0-9_@-]{1,255}")
"""The spec format's name rule (ucgov.schema.json)."""
_BAD_PRINCIPAL = re.compile(r"[\x00-\x1f\x7f]")
_PAGE = 100
CONCURRENCY = 8
(_ROOT,) = [k for k in top_level() if k.children]  # one file per top-level object holding others: a catalog
_TOP = listed_whole()
"""What ``METASTORE_FILE`` declares besides the metastore's grants: credentials, external locations."""
METASTORE_FILE = "_metastore.yaml"
"""The metastore's grants, credentials and external locations: one file (no catalog's name holds a
dot, but ``_`` starts none ucgov exports beside it: a catalog ``_metastore`` is refused)."""


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
    """One spec file and how many objects of each kind inside its catalog it declares."""

    path: Path
    catalog: str
    counts: Mapping[Kind, int] = field(default_factory=dict)
    top: bool = False
    """The file of the objects above catalogs (``METASTORE_FILE``), not a catalog's."""

    @property
    def described(self) -> str:
        """``catalog ml`` or ``the metastore``: what the file declares."""
        return "the metastore" if self.top else f"catalog {self.catalog}"

    @property
    def summary(self) -> str:
        """``1 schema, 230 models, 2 tables``: the kinds directly inside a catalog always, the others
        where there are any, in registry order."""
        kinds = _TOP if self.top else _ROOT.descendants
        shown = [k for k in kinds if k in _ROOT.children or self.top or self.counts.get(k)]
        return ", ".join(f"{self.counts.get(k, 0)} {k.label}{'' if self.counts.get(k) == 1 else 's'}" for k in shown)


@dataclass(frozen=True)
class Exported:
    files: tuple[Written, ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass
class _Counts:
    written: Counter[Kind] = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)


def export(
    client: UCClient,
    out: Path,
    *,
    catalogs: Iterable[str] = (),
    overwrite: bool = False,
    concurrency: int = CONCURRENCY,
    metastore: bool | None = None,
) -> Exported:
    """Write one spec file per catalog (the named ones, else every catalog but ucgov's own) into ``out``,
    and (``metastore``; by default when no catalog is named) ``METASTORE_FILE``: the metastore's grants,
    every credential (its role_arn, never what the server makes or keeps secret) and external location."""
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
    bodies = {name: client.get_securable(_ROOT, name) for name in names} if catalogs else {}
    missing = [name for name, body in bodies.items() if body is None]
    if missing:
        raise ExportError(f"catalog {', '.join(missing)} does not exist on {client.url}; nothing was written")
    top = not asked if metastore is None else metastore
    if top and (out / METASTORE_FILE).exists() and not overwrite:
        raise ExportError(f"{out / METASTORE_FILE} already exists: move it away, or pass --force to overwrite it")
    if top and METASTORE_FILE.removesuffix(".yaml") in names:
        raise ExportError(
            f"catalog {METASTORE_FILE.removesuffix('.yaml')} would be written over {METASTORE_FILE}: export it alone"
        )
    reader = _Reader(client, _known_users(client))
    files = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        reader.pool = pool
        if top:
            counts = _Counts()
            _write_atomically(out / METASTORE_FILE, partial(reader.write_top, counts=counts))
            files.append(Written(out / METASTORE_FILE, "metastore", dict(counts.written), top=True))
            notes += counts.notes
        for name in names:
            if not _NAME.fullmatch(name):
                notes.append(Note(name, _refused_name(name)))
                continue
            path = out / f"{name}.yaml"
            if path.exists() and not overwrite:
                raise ExportError(f"{path} already exists: move it away, or pass --force to overwrite it")
            counts = _Counts()
            _write_atomically(path, partial(reader.write_catalog, name=name, body=bodies.get(name), counts=counts))
            files.append(Written(path, name, dict(counts.written)))
            notes += counts.notes
    return Exported(tuple(files), tuple(notes))


_Facts = tuple[Grants, list[ModelVersion]]
"""What export reads of one object beyond its listing: its grants and (a model's) versions."""


class _Reader:
    """Reads one catalog page by page, kind by kind as the registry lists them, and writes its spec as it goes."""

    def __init__(self, client: UCClient, users: frozenset[str] | None) -> None:
        self.client = client
        self.users = users
        self.pool: ThreadPoolExecutor | None = None

    def write_catalog(self, f: IO[str], name: str, body: dict | None, counts: _Counts) -> None:
        body = body or self.client.get_securable(_ROOT, name) or {}
        f.write(f"{_ROOT.spec.spec_key}:\n")
        self._write(f, _ROOT, name, body, (self.client.get_grants(_ROOT, name), []), counts, indent=2)

    def write_top(self, f: IO[str], counts: _Counts) -> None:
        """The metastore's grants, then every object of each kind read whole, under its spec key."""
        for kind in single():
            f.write(_entry(kind.spec.spec_key or "", self._top_fields(kind, kind.spec.name, {}, counts), indent=0))
        for kind in _TOP:
            listed = _checked(self.client.iter_inside(kind, ""), "", counts)
            if listed.peek():
                f.write(f"{kind.spec.spec_key}:\n")
            for page in _pages(listed):
                found = self._map(lambda body, k=kind: self._top_fields(k, body["name"], body, counts), page)
                for item, fields in zip(page, found, strict=True):
                    counts.written[kind] += 1
                    f.write(_entry(item["name"], fields, indent=2))

    def _top_fields(self, kind: Kind, name: str, body: dict, counts: _Counts) -> dict[str, Any]:
        grants = self.client.get_grants(kind, name)
        return fields_of(kind, name, body, grants, [], users=self.users, notes=counts.notes)

    def _write(
        self, f: IO[str], kind: Kind, full_name: str, body: dict, facts: _Facts, counts: _Counts, *, indent: int
    ) -> None:
        """The object's entry, then each kind inside it under its spec key, a page at a time."""
        fields = fields_of(kind, full_name, body, *facts, users=self.users, notes=counts.notes)
        inside = [
            (k, _checked(self.client.iter_inside(k, full_name), full_name, counts))
            for k in kind.children
            if k.spec.declarable
        ]
        held = self._map(lambda listed: listed[1].peek(), inside)  # the first page of each kind, together
        f.write(_entry(full_name.rsplit(".", 1)[-1], fields, indent=indent, has_children=any(held)))
        for (child, listed), there in zip(inside, held, strict=True):
            if there:
                f.write(f"{' ' * (indent + 2)}{child.spec.spec_key}:\n")
            for page in _pages(listed):
                for item, found in zip(page, self._map(partial(self._facts, child, full_name), page), strict=True):
                    counts.written[child] += 1
                    self._write(f, child, f"{full_name}.{item['name']}", item, found, counts, indent=indent + 4)

    def _facts(self, kind: Kind, parent: str, body: dict) -> _Facts:
        """The object's grants and, when a model's comment names an approved version, its versions."""
        full_name = f"{parent}.{body['name']}"
        approved = kind.spec.versioned and approval.read(body.get("comment"))[1] is not None
        return self.client.get_grants(kind, full_name), self.client.list_versions(full_name) if approved else []

    def _map(self, fn: Callable[[Any], Any], page: Iterable[Any]) -> list[Any]:
        return list(self.pool.map(fn, page)) if self.pool else [fn(item) for item in page]


def fields_of(
    kind: Kind,
    full_name: str,
    body: Mapping[str, Any],
    grants: Grants,
    versions: list[ModelVersion],
    *,
    users: frozenset[str] | None,
    notes: list[Note],
) -> dict[str, Any]:
    """One object's entry as a spec writes it: comment, properties, definition, grants, approval.
    What no spec can say exactly is left out and noted in ``notes``; strings are written literally."""
    fields: dict[str, Any] = {}
    comment = body.get("comment")
    if kind.spec.versioned:  # the approval line is ucgov's, not part of the comment a spec writes
        comment, version = approval.read(comment)
        problem = approval.comment_problem(comment, approved=version is not None) if comment else None
        if problem:
            notes.append(Note(full_name, f"comment left unmanaged: it {problem}"))
            comment = None
    if comment is not None:
        fields["comment"] = comment
    if body.get("properties") and kind.spec.manages("properties"):
        fields["properties"] = {str(k): str(v) for k, v in sorted(body["properties"].items())}
    elif body.get("properties"):  # a function's, which the 0.6.0 server never even returns
        notes.append(Note(full_name, f"properties left out: specs cannot declare a {kind.label}'s properties"))
    problem = grants_problem(kind, grants, users)
    if kind.spec.definition_fields:
        fields |= _definition(kind, full_name, body, notes, grants_kept=problem is None)
    if problem:
        notes.append(Note(full_name, f"grants left unmanaged (no `grants:` key): {problem}"))
    else:
        fields["grants"] = {p: list(privileges.in_reading_order(privs)) for p, privs in sorted(grants.items())}
    if kind.spec.versioned:
        fields |= _approved(full_name, body, versions, notes)
    return _escaped(_loadable(kind, full_name, fields, notes))


def _definition(
    kind: Kind, full_name: str, body: Mapping[str, Any], notes: list[Note], *, grants_kept: bool
) -> dict[str, Any]:
    """The definition as a spec writes it, if it reads back as exactly what the server holds."""
    written, reason = kind.spec.exported(body)
    live = kind.spec.definition(body)
    if reason is None:  # what the kind leaves out must be what its shape fills in again
        off = [k for k, v in written.items() if kind.spec.written(k, v) != live.get(k)]
        reason = f"{' and '.join(off)} would not read back as the server holds it" if off else None
    reason = reason or _repeated_name(written)
    if reason:
        notes.append(Note(full_name, _without_definition(kind, reason, grants_kept=grants_kept)))
        return {}
    return written


def _repeated_name(written: Mapping[str, Any]) -> str | None:
    """Why the loader would refuse a definition's list: two items of one name (names ignore case)."""
    for key, items in written.items():
        names = (
            [str(i.get("name")).casefold() for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
        )
        if len(names) != len(set(names)):
            return f"two of its {key} share a name (names ignore case), which a spec cannot write"
    return None


def _without_definition(kind: Kind, reason: str, *, grants_kept: bool) -> str:
    kept = " (grants kept)" if grants_kept else ""
    created = ", never created" if kind.spec.needed_to_create else ""
    return f"definition left out: {reason}; declared without one, it is governed as it exists{kept}{created}"


def _loadable(kind: Kind, full_name: str, fields: dict[str, Any], notes: list[Note]) -> dict[str, Any]:
    """The fields without what the spec loader would refuse (each left out with a note): a comment
    too long, a character it refuses, a value outside the spec's enums."""
    definition = {f.name for f in kind.spec.definition_fields}
    for _ in range(len(fields) + 1):  # each round leaves out one field (or the definition)
        refused = _refused(kind, fields)
        if refused is None:
            return fields
        key, why = refused
        if key in definition or not key:  # a definition is written whole or not at all
            fields = {k: v for k, v in fields.items() if k not in definition}
            notes.append(Note(full_name, _without_definition(kind, why, grants_kept="grants" in fields)))
        else:
            fields = {k: v for k, v in fields.items() if k != key}
            notes.append(Note(full_name, f"{key} left unmanaged (no `{key}:` key): {why}"))
    return fields


def _refused(kind: Kind, fields: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first field the loader would refuse and why, or None; the entry as a whole is ``""``."""
    for key, value in fields.items():
        found = refused_character({key: value})
        if found:
            return key, f"{key} holds the character {found!r}, which specs cannot hold"
    error = next(iter(entry_errors(kind, fields)), None)
    if error is None:
        return None
    path = list(error.absolute_path)
    where = ".".join(str(p) for p in path) or "the entry"
    if error.validator == "enum":
        why = f"{where} is {_short(error.instance)}, which a spec cannot write"
    elif error.validator == "maxLength":
        why = f"{where} is longer than the {error.validator_value} characters a spec may write"
    else:
        why = f"{where}: {_short(error.message)}"
    return (str(path[0]) if path else ""), why


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) or len(value) < 80 else repr(value[:77] + "...")
    return text


def _escaped(value: Any) -> Any:
    """Every string as the loader reads it back: ``${`` would be a variable reference, so ``$${``."""
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return _literal(value) if isinstance(value, str) else value


def grants_problem(kind: Kind, grants: Grants, users: frozenset[str] | None) -> str | None:
    """Why a spec cannot declare these grants as they are, if so (the loader would refuse them)."""
    for principal, privs in sorted(grants.items()):
        if _BAD_PRINCIPAL.search(principal):
            return f"principal {principal!r} contains control characters"
        if users is not None and principal not in users:
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
                counts.notes.append(Note(f"{parent}.{name}" if parent else name, _refused_name(name)))

    return _Peekable(kept())


def _pages(items: Iterable[dict]) -> Iterator[list[dict]]:
    iterator = iter(items)
    while page := list(islice(iterator, _PAGE)):
        yield page


def _approved(name: str, body: Mapping[str, Any], versions: list[ModelVersion], notes: list[Note]) -> dict[str, Any]:
    version = approval.read(body.get("comment"))[1]
    if version is None:
        return {}
    found = {v.version: v for v in versions}.get(version)
    if found is None or not found.ready:
        state = "does not exist" if found is None else f"is {found.status}, not READY"
        notes.append(Note(name, f"approval left out: the approved version {version} {state}"))
        return {}
    return {"approved": {"version": version}}


def _entry(name: str, fields: dict[str, Any], *, indent: int, has_children: bool = False) -> str:
    """``name:`` and its fields as YAML at ``indent`` (``{}`` if nothing, not even children, follows)."""
    pad = " " * indent
    key = _dump({name: 0}).rsplit(":", 1)[0]  # the name, quoted where YAML would misread it (true, @x, 1e3)
    lines = [f"{pad}{key}:" + ("" if fields or has_children else " {}")]
    if fields:
        lines += [pad + "  " + line for line in _dump(fields).splitlines()]
    return "\n".join(lines) + "\n"


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=10_000, Dumper=_Dumper)


class _Dumper(yaml.SafeDumper):
    """Block style for objects, flow style for privilege lists, the approval and each column or
    parameter: as a person writes them."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = set(data) == {"version"}
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    if not any(isinstance(item, dict) for item in data):
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
    # columns and parameters: one per line, each on its line as `- {name: id, type: LONG}`
    items = [_Row(item) if isinstance(item, dict) else item for item in data]
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=False)


class _Row(dict):
    """A mapping inside a list, written in flow style on its own line."""


def _represent_row(dumper: yaml.SafeDumper, data: _Row) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # a comment of several lines reads best as a literal block; the emitter falls back to quotes where it must
    style = "|" if "\n" in data and not any(line != line.rstrip() for line in data.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Row, _represent_row)


def _literal(text: str) -> str:
    """Text that reads back as itself: ``${`` would be a variable reference, so it is written ``$${``."""
    return text.replace("${", "$${")


def _refused_name(name: str) -> str:
    rule = "letters, digits, _, @ and -; at most 255"
    return (
        f"not exported: the name {name!r} breaks the spec name rule ({rule}); plan --show-unmanaged lists it undeclared"
    )


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
