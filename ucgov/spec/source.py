"""Reading YAML spec files into plain data that remembers where every key and value was written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ucgov.errors import Location, SpecProblem

JsonPath = tuple  # keys and list indices from the document root


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
    """Every *.yaml / *.yml under the given paths, sorted; missing paths are problems."""
    found: list[Path] = []
    problems: list[SpecProblem] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file())
        elif p.is_file():
            found.append(p)
        else:
            problems.append(SpecProblem(Location(str(p), 1, 1), "no such file or directory"))
    unique = sorted(set(found), key=lambda f: str(f))
    if not unique and not problems:
        where = Location(str(next(iter(paths), ".")), 1, 1)
        problems.append(SpecProblem(where, "no *.yaml or *.yml spec files found here"))
    return unique, problems


def read_source(path: str, text: str) -> tuple[SourceDoc, list[SpecProblem]]:
    """Parse one YAML document; duplicate keys and syntax errors come back as problems."""
    doc = SourceDoc(path=path, data=None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return doc, []
        problems: list[SpecProblem] = []
        doc.data = _walk(loader, node, (), doc, problems)
        return doc, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(path, mark) if mark else Location(path, 1, 1)
        message = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        return doc, [SpecProblem(where, f"YAML syntax: {message}")]
    except yaml.YAMLError as exc:
        return doc, [SpecProblem(Location(path, 1, 1), f"YAML syntax: {exc}")]
    finally:
        loader.dispose()


def _loc(path: str, mark: yaml.Mark) -> Location:
    return Location(path, mark.line + 1, mark.column + 1)


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: JsonPath, doc: SourceDoc, problems: list) -> Any:
    doc.values[path] = _loc(doc.path, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(SpecProblem(_loc(doc.path, key_node.start_mark), "a mapping key must be a plain value"))
                continue
            # Keys are names, kept as written: YAML 1.1 would read `on`, `yes` or `0x10` as true or 16.
            key = key_node.value
            if key in result:
                first = doc.keys[path + (key,)]
                problems.append(
                    SpecProblem(
                        _loc(doc.path, key_node.start_mark),
                        f"duplicate key '{key}' (first written at line {first.line})",
                    )
                )
                continue
            doc.keys[path + (key,)] = _loc(doc.path, key_node.start_mark)
            result[key] = _walk(loader, value_node, path + (key,), doc, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), doc, problems) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
