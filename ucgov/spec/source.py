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
_DEFAULT_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass
class SourceDoc:
    """One spec file's data, with the location of each value and of each mapping key."""

    path: str
    data: Any
    values: dict[JsonPath, Location] = field(default_factory=dict)
    keys: dict[JsonPath, Location] = field(default_factory=dict)

    def where(self, path: JsonPath) -> Location:
        """The closest known location for a path: the value, else its key, else an ancestor."""
        path = tuple(path)
        while path:
            found = self.values.get(path) or self.keys.get(path)
            if found:
                return found
            path = path[:-1]
        return self.values.get((), Location(self.path, 1, 1))

    def where_key(self, path: JsonPath) -> Location:
        return self.keys.get(tuple(path)) or self.where(path)


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
                problems.append(SpecProblem(Location(str(p), 1, 1), problem))
            else:
                found.append(p)
        else:
            problems.append(SpecProblem(Location(str(p), 1, 1), "no such file or directory"))
    unique = sorted(set(found), key=lambda f: str(f))
    if not unique and not problems:
        where = Location(str(next(iter(paths), ".")), 1, 1)
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
            problems.append(SpecProblem(Location(str(f), 1, 1), f"cannot read file: {exc}"))
    return texts, problems


def decoded(path: str, data: bytes) -> tuple[str, list[SpecProblem]]:
    """A spec file's bytes as text; bytes that are not UTF-8 (a binary file) are a located problem."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return "", [
            SpecProblem(Location(path, 1, 1), f"cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start})")
        ]


def _walk_folder(root: Path) -> tuple[list[Path], list[SpecProblem]]:
    files: list[Path] = []
    problems: list[SpecProblem] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(error: OSError) -> None:
        problems.append(
            SpecProblem(Location(str(error.filename or root), 1, 1), f"cannot read folder: {error.strerror}")
        )

    for folder, subfolders, names in os.walk(root, onerror=unreadable, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:  # a symlink back up the tree
            problems.append(SpecProblem(Location(folder, 1, 1), "symlink loop: this folder is already being read"))
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
                problems.append(SpecProblem(Location(str(path), 1, 1), problem))
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


@dataclass
class _Frame:
    """A mapping or sequence being built, and where it sits in the document."""

    value: dict | list
    path: JsonPath
    anchor: str | None
    weight_at_start: int
    is_key: bool = False
    """A mapping or list written where a key belongs: read to the end, then reported and dropped."""
    key: Any = None
    key_pending: bool = False
    written: dict = field(default_factory=dict)
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
        while True:
            event = self.loader.get_event()
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                value = self._close()
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self._open(event)
                continue
            else:
                value = self._leaf(event)
            if not self.stack:
                return value
            self._deliver(self.stack[-1], value)

    # -- nodes ---------------------------------------------------------------------------------

    def _open(self, event: Any) -> None:
        self._count()
        if len(self.stack) >= MAX_DEPTH:
            raise _Stop(SpecProblem(self._loc(event.start_mark), f"nested more than {MAX_DEPTH} levels deep"))
        if event.tag not in _DEFAULT_TAGS:
            raise _Stop(SpecProblem(self._loc(event.start_mark), f"unsupported YAML tag {event.tag}"))
        is_key = self._placing_key() or any(f.is_key for f in self.stack)
        path = self._place(event.start_mark)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        container: dict | list = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(container, path, event.anchor, self.weight, is_key=is_key))

    def _close(self) -> Any:
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.value, self.weight - frame.weight_at_start)
            self.open_anchors.discard(frame.anchor)
        return frame.value

    def _leaf(self, event: Any) -> Any:
        self._count()
        self._place(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _MERGE_TAG and self._placing_key():
            return _MergeKey()
        if self._placing_key():
            value: Any = event.value  # keys are names, kept as written: YAML 1.1 reads `on` as true
        else:
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            value = self.loader.construct_object(node, deep=True)
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

    def _count(self) -> None:
        self.written += 1
        self.weight += 1

    # -- where values go ----------------------------------------------------------------------

    def _placing_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and isinstance(top.value, dict) and not top.key_pending

    def _place(self, mark: Any) -> JsonPath:
        """The path of the node starting at ``mark``, recording where it was written."""
        top = self.stack[-1] if self.stack else None
        if top is None:
            self.doc.values[()] = self._loc(mark)
            return ()
        if top.is_key:
            return top.path
        if isinstance(top.value, list):
            path = top.path + (len(top.value),)
        elif not top.key_pending:
            self._key_mark = self._loc(mark)
            return top.path
        else:
            path = top.path + (top.key,)
        if not isinstance(top.key, (_Discard, _MergeKey)):
            self.doc.values[path] = self._loc(mark)
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
        where = self._key_mark
        if top.is_key or isinstance(key, _MergeKey):
            top.key = key
        elif isinstance(key, (dict, list)):
            self.problems.append(SpecProblem(where, "a mapping key must be a plain value"))
            top.key = _Discard()
        elif str(key) in top.written:
            first = top.written[str(key)]
            self.problems.append(SpecProblem(where, f"duplicate key '{key}' (first written at line {first.line})"))
            top.key = _Discard()
        else:
            top.key = str(key)
            top.written[top.key] = where
            self.doc.keys[top.path + (top.key,)] = where

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
    else:
        message = " ".join(filter(None, [getattr(exc, "context", None), getattr(exc, "problem", None)])) or str(exc)
    return SpecProblem(where, f"YAML syntax: {message}")


def _position(path: str, text: str, position: int) -> Location:
    line = text.count("\n", 0, position) + 1
    return Location(path, line, position - (text.rfind("\n", 0, position) + 1) + 1)
