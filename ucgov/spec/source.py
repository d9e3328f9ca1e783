"""Reading YAML spec files into plain data that remembers where every key and value was written.

The document is built from the parser's events in one loop, not by a recursive composer, so
hostile input is bounded before it costs anything: nesting deeper than MAX_DEPTH, aliases that
expand past ALIAS_BUDGET nodes (a "billion laughs" file) and an alias to itself are each one
located error. libyaml's parser is used when PyYAML has it (several times faster); marks are
the same either way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ucgov.errors import Location, SpecProblem

JsonPath = tuple  # keys and list indices from the document root

MAX_DEPTH = 64
"""Nesting deeper than this is refused: real specs are under ten levels deep."""
ALIAS_BUDGET = 100_000
"""How many nodes aliases may add to a document beyond the ones written in it."""
SPEC_SUFFIXES = (".yaml", ".yml")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_DEFAULT_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass
class SourceDoc:
    """One spec file's data, with the location of each value and of each mapping key."""

    path: str
    data: Any
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    """(line, column), 1-based, of each value; kept as tuples since most are never shown."""
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: JsonPath) -> Location:
        """The closest known location for a path: the value, else its key, else an ancestor."""
        path = tuple(path)
        while path:
            found = self.values.get(path) or self.keys.get(path)
            if found:
                return Location(self.path, *found)
            path = path[:-1]
        return Location(self.path, *self.values.get((), (1, 1)))

    def where_key(self, path: JsonPath) -> Location:
        found = self.keys.get(tuple(path))
        return Location(self.path, *found) if found else self.where(path)


def spec_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[SpecProblem]]:
    """Every *.yaml / *.yml under the given paths, sorted; anything that cannot be read is a problem.

    A folder that cannot be listed, a symlink loop or a spec path that is not a regular file is
    never skipped quietly: with authoritative grants, a team's file left out would revoke its access.
    """
    found: list[Path] = []
    problems: list[SpecProblem] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            files, trouble = _walk_folder(p)
            found += files
            problems += trouble
        elif p.exists():
            problem = _not_a_file(p)
            if problem:
                problems.append(SpecProblem(Location.of_path(str(p)), problem))
            else:
                found.append(p)
        else:
            problems.append(SpecProblem(Location.of_path(str(p)), "does not exist"))
    unique = sorted(set(found), key=lambda f: str(f))
    if not unique and not problems:
        where = Location.of_path(str(next(iter(paths), ".")))
        problems.append(SpecProblem(where, "no *.yaml or *.yml spec files found here"))
    return unique, problems


def read_spec_files(paths: Iterable[str | Path]) -> tuple[list[tuple[str, str]], list[SpecProblem]]:
    """(path, text) of every spec file under ``paths``, and a located problem for each that cannot be read."""
    files, problems = spec_files(paths)
    texts = []
    for f in files:
        try:
            texts.append((str(f), f.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(SpecProblem(Location.of_path(str(f)), f"cannot read file: {exc}"))
    return texts, problems


def decoded(path: str, data: bytes) -> tuple[str, list[SpecProblem]]:
    """A spec file's bytes as text; bytes that are not UTF-8 (a binary file) are a located problem."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return "", [
            SpecProblem(Location.of_path(path), f"cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start})")
        ]


def _walk_folder(root: Path) -> tuple[list[Path], list[SpecProblem]]:
    files: list[Path] = []
    problems: list[SpecProblem] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(error: OSError) -> None:
        problems.append(
            SpecProblem(Location.of_path(str(error.filename or root)), f"cannot read folder: {error.strerror}")
        )

    for folder, subfolders, names in os.walk(root, onerror=unreadable, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:  # a symlink back up the tree
            problems.append(SpecProblem(Location.of_path(folder), "symlink loop: this folder is already being read"))
            subfolders[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if not name.lower().endswith(SPEC_SUFFIXES):
                continue
            problem = _not_a_file(path)
            if problem:
                problems.append(SpecProblem(Location.of_path(str(path)), problem))
            else:
                files.append(path)
    return files, problems


def _not_a_file(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read file: {exc.strerror}"
    return None if stat.S_ISREG(mode) else "not a regular file (a spec must be a plain file)"


def read_source(path: str, text: str) -> tuple[SourceDoc, list[SpecProblem]]:
    """Parse one YAML document; every syntax, duplicate-key or size problem comes back located."""
    doc = SourceDoc(path=path, data=None)
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the pure-Python reader checks characters up front
        return doc, [_yaml_problem(path, text, exc)]
    composer = _Composer(loader, doc)
    try:
        doc.data = composer.document()
        return doc, composer.problems
    except _Stop as stop:
        doc.data = None
        return doc, [stop.problem]
    except yaml.YAMLError as exc:
        doc.data = None
        return doc, [_yaml_problem(path, text, exc)]
    finally:
        loader.dispose()


class _Stop(Exception):
    """A problem after which the rest of the document cannot be trusted."""

    def __init__(self, problem: SpecProblem) -> None:
        self.problem = problem


class _MergeKey:
    """A ``<<`` key: its value's entries go into the mapping unless the mapping writes them itself."""


class _Discard:
    """A key that was already reported; its value is read and dropped."""


class _Frame:
    """A mapping or sequence being built, and where it sits in the document (slots: one per node)."""

    __slots__ = ("value", "path", "anchor", "weight_at_start", "is_key", "key", "key_pending", "written")

    def __init__(self, value: dict | list, path: JsonPath, anchor: str | None, weight: int, is_key: bool) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.weight_at_start = weight
        self.is_key = is_key
        """A mapping or list written where a key belongs: read to the end, then reported and dropped."""
        self.key: Any = None
        self.key_pending = False
        self.written: dict[str, tuple[int, int]] = {}
        """Keys written in this mapping itself, with where; keys a merge brought in may be overridden."""


class _Composer:
    """Builds plain data from parser events in one loop, with a location for every key and value."""

    def __init__(self, loader: Any, doc: SourceDoc) -> None:
        self.loader = loader
        self.doc = doc
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.written = 0
        self.weight = 0
        self.problems: list[SpecProblem] = []

    def document(self) -> Any:
        get = self.loader.get_event
        get()  # stream start
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        get()  # document start
        root = self._read()
        get()  # document end
        if not self.loader.check_event(yaml.StreamEndEvent):
            where = self._loc(get().start_mark)
            raise _Stop(SpecProblem(where, "a spec file holds one YAML document; found a second"))
        return root

    def _read(self) -> Any:
        """The root node, read event by event with an explicit stack instead of recursion."""
        get = self.loader.get_event
        stack = self.stack
        values, keys = self.doc.values, self.doc.keys
        scalar_event = yaml.ScalarEvent
        while True:
            event = get()
            kind = type(event)
            if kind is scalar_event and stack and not event.anchor:
                # The common case, inline for speed (most of a spec's events): a plain key, or a
                # scalar value under a plain key, in a mapping. Everything else takes the long way.
                top = stack[-1]
                if type(top.value) is dict and not top.is_key:
                    if not top.key_pending:
                        key = event.value
                        if event.tag is None and key != "<<" and key not in top.written:
                            mark = event.start_mark
                            top.written[key] = keys[top.path + (key,)] = (mark.line + 1, mark.column + 1)
                            top.key, top.key_pending = key, True
                            self.written += 1
                            self.weight += 1
                            continue
                    elif type(top.key) is str:
                        mark = event.start_mark
                        values[top.path + (top.key,)] = (mark.line + 1, mark.column + 1)
                        top.value[top.key] = self._scalar(event)
                        top.key_pending = False
                        self.written += 1
                        self.weight += 1
                        continue
            if kind is yaml.ScalarEvent or kind is yaml.AliasEvent:
                value = self._leaf(event)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = self._close()
            else:
                self._open(event)
                continue
            if not stack:
                return value
            self._deliver(stack[-1], value)

    # -- nodes ---------------------------------------------------------------------------------

    def _open(self, event: Any) -> None:
        self.written += 1
        self.weight += 1
        if len(self.stack) >= MAX_DEPTH:
            raise _Stop(SpecProblem(self._loc(event.start_mark), f"nested more than {MAX_DEPTH} levels deep"))
        if event.tag not in _DEFAULT_TAGS:
            raise _Stop(SpecProblem(self._loc(event.start_mark), f"unsupported YAML tag {event.tag}"))
        is_key = self._placing_key() or bool(self.stack and self.stack[-1].is_key)
        path = self._place(event.start_mark)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        container: dict | list = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(container, path, event.anchor, self.weight, is_key))

    def _close(self) -> Any:
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.value, self.weight - frame.weight_at_start)
            self.open_anchors.discard(frame.anchor)
        return frame.value

    def _leaf(self, event: Any) -> Any:
        self.written += 1
        self.weight += 1
        placing_key = self._placing_key()
        self._place(event.start_mark)
        if type(event) is yaml.AliasEvent:
            return self._alias(event)
        if placing_key and event.tag is None:
            # keys are names, kept as written: YAML 1.1 would read `on` as true
            return _MergeKey() if event.value == "<<" and event.implicit[0] else event.value
        value = self._scalar(event)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        return value

    def _alias(self, event: Any) -> Any:
        if event.anchor in self.open_anchors:
            raise _Stop(SpecProblem(self._loc(event.start_mark), f"alias *{event.anchor} refers to itself"))
        if event.anchor not in self.anchors:
            raise _Stop(SpecProblem(self._loc(event.start_mark), f"alias *{event.anchor} names no anchor before it"))
        value, size = self.anchors[event.anchor]
        self.weight += size
        if self.weight - self.written > ALIAS_BUDGET:
            message = (
                f"aliases expand this file past {ALIAS_BUDGET:,} extra values; write them out or use fewer aliases"
            )
            raise _Stop(SpecProblem(self._loc(event.start_mark), message))
        return value

    def _scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None and not event.implicit[0]:  # quoted or block text: a string as written
            return event.value
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR_TAG:
            return event.value
        if tag == _MERGE_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return self.loader.construct_object(node, deep=True)

    # -- where values go ----------------------------------------------------------------------

    def _placing_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and isinstance(top.value, dict) and not top.key_pending

    def _place(self, mark: Any) -> JsonPath:
        """The path of the node starting at ``mark``, recording where it was written."""
        top = self.stack[-1] if self.stack else None
        where = (mark.line + 1, mark.column + 1)
        if top is None:
            self.doc.values[()] = where
            return ()
        if top.is_key:
            return top.path
        if type(top.value) is list:
            path = top.path + (len(top.value),)
        elif not top.key_pending:
            self._key_mark = where
            return top.path
        else:
            path = top.path + (top.key,)
            if type(top.key) is not str:  # a merge or an already reported key: nothing to point at
                return path
        self.doc.values[path] = where
        return path

    def _deliver(self, top: _Frame, value: Any) -> None:
        if isinstance(top.value, list):
            top.value.append(value)
        elif not top.key_pending:
            self._take_key(top, value)
        else:
            self._take_value(top, value)

    def _take_key(self, top: _Frame, key: Any) -> None:
        top.key_pending = True
        mark = self._key_mark
        if top.is_key or isinstance(key, _MergeKey):
            top.key = key
        elif isinstance(key, (dict, list)):
            self.problems.append(SpecProblem(Location(self.doc.path, *mark), "a mapping key must be a plain value"))
            top.key = _Discard()
        elif str(key) in top.written:
            first_line = top.written[str(key)][0]
            message = f"duplicate key '{key}' (first written at line {first_line})"
            self.problems.append(SpecProblem(Location(self.doc.path, *mark), message))
            top.key = _Discard()
        else:
            top.key = str(key)
            top.written[top.key] = mark
            self.doc.keys[top.path + (top.key,)] = mark

    def _take_value(self, top: _Frame, value: Any) -> None:
        key, top.key_pending = top.key, False
        if top.is_key or isinstance(key, _Discard):
            return
        if isinstance(key, _MergeKey):
            self._merge(top, value)
            return
        top.value[key] = value

    def _merge(self, top: _Frame, value: Any) -> None:
        """YAML merge keys: entries the mapping writes itself win, then earlier merged mappings."""
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            where = self.doc.where(top.path)
            self.problems.append(SpecProblem(where, "a merge key (<<) takes a mapping or a list of mappings"))
            return
        for source in sources:
            for k, v in source.items():
                top.value.setdefault(k, v)

    def _loc(self, mark: Any) -> Location:
        return Location(self.doc.path, mark.line + 1, mark.column + 1)


def _yaml_problem(path: str, text: str, exc: yaml.YAMLError) -> SpecProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        where = Location(path, mark.line + 1, mark.column + 1)
    elif isinstance(getattr(exc, "position", None), int):
        where = _position(path, text, exc.position)  # type: ignore[attr-defined]
    else:
        where = Location(path, 1, 1)
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"character U+{code:04X} is not allowed in YAML ({exc.reason})"
    elif _tab_indents(text, where):
        message = "a tab indents this line: YAML indents with spaces only"
    else:
        message = " ".join(filter(None, [getattr(exc, "context", None), getattr(exc, "problem", None)])) or str(exc)
    return SpecProblem(where, f"YAML syntax: {message}")


def _tab_indents(text: str, where: Location) -> bool:
    """Whether the line the parser stopped at has a tab in its indentation: the parser only says
    that some character "cannot start any token", or that a mapping is not allowed there."""
    lines = text.splitlines()
    if not 0 < where.line <= len(lines):
        return False
    line = lines[where.line - 1]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return "\t" in indent


def _position(path: str, text: str, position: int) -> Location:
    line = text.count("\n", 0, position) + 1
    return Location(path, line, position - (text.rfind("\n", 0, position) + 1) + 1)
