"""``${var.NAME}`` in specs: filled in values, and in the keys that are names (of objects, and the
principals of grants), so one spec serves every target (``${var.env}_ml`` is dev_ml on dev).

Names are filled first, before anything is checked: a name a variable makes is then validated,
located and merged as a name written out is. The locations of everything under a renamed key
move with it, so a problem inside ``${var.env}_ml`` is still reported at its file:line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ucgov.errors import SpecProblem
from ucgov.kinds import single, top_level
from ucgov.render.escape import text as visible
from ucgov.spec.source import SourceDoc

REFERENCE = re.compile(r"\$(\$?)\{([^}]*)(\}?)")
"""``${...}`` (``$${`` is a literal ``${``); what is inside must be ``var.NAME``."""
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""What NAME in ``${var.NAME}`` may be, and so what ``--var NAME=VALUE`` may name."""
_VAR_NAME = re.compile(rf"var\.({VARIABLE_NAME.pattern})")


def filled(text: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with its variables filled in, and what is wrong with its references (unset, malformed)."""
    if "${" not in text:
        return text, []
    wrong: list[str] = []

    def replace(match: re.Match) -> str:
        if match.group(1):  # $${ stays a literal ${
            return match.group(0)[1:]
        named = _VAR_NAME.fullmatch(match.group(2))
        if named is None or not match.group(3):
            wrong.append(
                f"'{match.group(0)}' is not a variable reference: write ${{var.NAME}} with NAME made of "
                "letters, digits and _ (or $${ for a literal ${)"
            )
            return match.group(0)
        name = named.group(1)
        if name not in variables:
            wrong.append(f"variable '{name}' is not set (pass --var {name}=VALUE or set UCGOV_VAR_{name})")
            return match.group(0)
        return variables[name]

    return REFERENCE.sub(replace, text), wrong


def fill_names(doc: SourceDoc, variables: Mapping[str, str]) -> list[SpecProblem]:
    """Fill the variables in ``doc``'s names, in place; a key that cannot be filled, or that becomes
    a name its mapping already holds, is a problem at that key, and is left out."""
    problems: list[SpecProblem] = []
    renamed: dict[tuple, str | None] = {}  # a key's path as written -> its name, or None: left out
    rebuilt: list[tuple[dict, dict]] = []
    for label, mapping, path in _named_mappings(doc.data):
        if not any(isinstance(k, str) and "${" in k for k in mapping):
            continue
        kept: dict[str, Any] = {}
        written: dict[str, str] = {}  # name -> the key that wrote it
        for key, value in mapping.items():
            name, wrong = filled(key, variables) if isinstance(key, str) else (key, [])
            where = doc.where_key(path + (key,))
            if not wrong and name in kept:
                wrong = [_twice(label, key, name, written[name], doc.where_key(path + (written[name],)))]
            if wrong:
                problems += [SpecProblem(where, message) for message in wrong]
                renamed[path + (key,)] = None  # its locations must not stand in for a name it collides with
                continue
            kept[name], written[name] = value, key
            if name != key:
                renamed[path + (key,)] = name
        rebuilt.append((mapping, kept))
    for mapping, kept in rebuilt:  # after the walk, which reads the keys as written
        mapping.clear()
        mapping.update(kept)
    if renamed:
        doc.values = _moved(doc.values, renamed)
        doc.keys = _moved(doc.keys, renamed)
    return problems


def _twice(label: str, key: str, name: str, other: str, where: object) -> str:
    if key != name:
        return f"{label} '{visible(key)}' becomes {visible(name)}, which is also written at {where}"
    return f"{label} {visible(name)} is also written at {where}, as '{visible(other)}'"


def _named_mappings(data: Any) -> Iterator[tuple[str, dict, tuple]]:
    """Every mapping whose keys are names, with what they name and its path as written: the
    members of each kind, and the principals of each object's grants; parents first."""
    if not isinstance(data, dict):
        return
    for kind in single():  # the metastore is not named, but its grants' principals are
        body = data.get(kind.spec.spec_key)
        if isinstance(body, dict) and isinstance(body.get("grants"), dict):
            yield "principal", body["grants"], (kind.spec.spec_key, "grants")
    stack = [(k, data.get(k.spec.spec_key), (k.spec.spec_key,)) for k in top_level() if not k.spec.single]
    while stack:
        kind, members, path = stack.pop()
        if not isinstance(members, dict):
            continue
        yield kind.label, members, path
        for name, body in members.items():
            if not isinstance(body, dict):
                continue
            if isinstance(body.get("grants"), dict):
                yield "principal", body["grants"], path + (name, "grants")
            stack += [(c, body.get(c.spec.spec_key), path + (name, c.spec.spec_key)) for c in kind.children]


def _moved(located: dict[tuple, Any], renamed: dict[tuple, str | None]) -> dict[tuple, Any]:
    """The locations with every path under a renamed key under its new name, and none under a key left out."""
    lengths = sorted({len(p) for p in renamed})  # a few: only prefixes this long can have been renamed
    moved = {}
    for path, where in located.items():
        if any(path[:n] in renamed for n in lengths if n <= len(path)):
            names = [renamed.get(path[: i + 1], part) for i, part in enumerate(path)]
            if None in names:
                continue
            path = tuple(names)
        moved[path] = where
    return moved
