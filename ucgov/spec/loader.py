"""From spec files to desired state: read, substitute variables, check, merge across files."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from ucgov import approval, gates, privileges
from ucgov.errors import Location, SpecError, SpecProblem
from ucgov.kinds import by_spec_key, grantable_at, single, top_level
from ucgov.policies import MAX_DEPTH, violations
from ucgov.render.escape import UNSAFE
from ucgov.render.escape import text as escape_text
from ucgov.reserved import reserved_by
from ucgov.spec.source import SourceDoc, read_source, read_spec_files
from ucgov.spec.variables import fill_names, filled
from ucgov.state import Approval, DesiredState, Gate, GrantsMode, Kind, Policy, Ref, Securable

_NAME_RULE = "letters, digits, _, @ and - only, at most 255 characters"
_PRINCIPAL_PATTERN = "^[^\\u0000-\\u001f\\u007f]+$"


def json_schema() -> dict:
    """The JSON Schema the loader checks specs with, once variables are filled: the one shipped in the
    package for editors, whose names may also hold ``${var.NAME}`` (an editor sees specs as written)."""
    schema = json.loads(resources.files("ucgov.spec").joinpath("ucgov.schema.json").read_text())
    schema["$defs"]["name"]["pattern"] = _NAME_PATTERN
    return schema


def variables_from(environ: Mapping[str, str], given: Mapping[str, str]) -> dict[str, str]:
    """``--var`` values win over ``UCGOV_VAR_NAME`` environment variables."""
    found = {k[len("UCGOV_VAR_") :]: v for k, v in environ.items() if k.startswith("UCGOV_VAR_")}
    return {**found, **given}


def load_specs(paths: Iterable[str | Path], *, variables: Mapping[str, str] | None = None) -> DesiredState:
    """Read every spec file under ``paths`` into one desired state, or raise SpecError with all problems."""
    texts, problems = read_spec_files(list(paths))
    try:
        desired = load_texts(texts, variables=variables or {})
    except SpecError as exc:
        problems += exc.problems
    if problems:
        raise SpecError(problems)
    return desired


def load_texts(
    texts: Iterable[tuple[str, str]], *, variables: Mapping[str, str], check_policies: bool = True
) -> DesiredState:
    """The same as load_specs, for (path, text) pairs: files from git, or tests.

    ``check_policies=False`` loads specs that break their policies, e.g. a git revision a change fixes.
    """
    with _no_cycle_collection():
        return _load_texts(texts, variables=variables, check_policies=check_policies)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Loading makes hundreds of thousands of small objects and no cycles: the cycle collector
    would walk them again and again (a third of the time at 50,000 models) for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_texts(
    texts: Iterable[tuple[str, str]], *, variables: Mapping[str, str], check_policies: bool
) -> DesiredState:
    problems: list[SpecProblem] = []
    merger = _Merger()
    checks = _SchemaChecks()
    for path, text in texts:
        doc, found = read_source(path, text)
        problems += found
        if doc.data is None:  # a syntax error, or an empty file
            continue
        if "${" in text or "\\" in text:  # a reference, written out or as escapes
            problems += fill_names(doc, variables)
            doc.data = _substitute(doc, doc.data, (), variables, problems)
        schema_problems = checks.problems(doc, text)
        problems += schema_problems + _privilege_problems(doc) + _policy_privilege_problems(doc)
        problems += _repeated_name_problems(doc)
        if _may_act(text, variables):
            problems += _character_problems(doc)
        problems += _reserved_problems(doc)
        if not schema_problems:
            merger.add(doc)
    desired = merger.desired_state()
    problems += merger.problems + merger.comment_problems() + (violations(desired) if check_policies else [])
    if problems:
        raise SpecError(problems)
    return replace(desired, digest=digest(desired))


def digest(desired: DesiredState) -> str:
    """A digest of what the specs declare (objects, settings, policies), not of how files lay it out."""
    declared = {
        "objects": [_object_facts(obj) for obj in desired.ordered()],
        "prune": desired.prune,
        "prune_on": dict(sorted(desired.prune_on.items())),
        **({"prune_top": sorted(k.value for k in desired.prune_top)} if desired.prune_top else {}),
        "policies": sorted((_plain(p) for p in desired.policies), key=lambda p: json.dumps(p, sort_keys=True)),
    }
    text = json.dumps(declared, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _object_facts(obj: Securable) -> list:
    """Everything declared about one object, as JSON-ready values in a fixed order."""
    approved = obj.approved
    return [
        obj.kind.value,
        obj.full_name,
        obj.comment,
        obj.properties,
        obj.definition,
        sorted((p, sorted(privs)) for p, privs in obj.grants.items()),
        obj.grants_mode.value,
        None
        if approved is None
        else [approved.version, approved.run, approved.artifact_path, _plain(approved.require)]
        + ([approved.from_model, approved.from_version] if approved.from_model else [])
        + ([approved.from_target] if approved.from_target else []),
    ]


def _plain(value: Any) -> Any:
    """Dataclasses, enums, sets and mappings as JSON-ready values; locations left out."""
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name != "where"}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _declared(data: Any) -> Iterator[tuple[Kind, str, dict, tuple]]:
    """Every object of every kind in one document, parents first; skips what is not a mapping."""
    data = data if isinstance(data, dict) else {}
    for kind in single():  # the metastore: its body right under its key, named after its kind
        if isinstance(data.get(kind.spec.spec_key), dict):
            yield kind, kind.spec.name, data[kind.spec.spec_key], (kind.spec.spec_key,)
    named = [kind for kind in top_level() if not kind.spec.single]
    stack = [(kind, "", data.get(kind.spec.spec_key), (kind.spec.spec_key,)) for kind in named]
    while stack:
        kind, parent, members, path = stack.pop(0)
        if not isinstance(members, dict):
            continue
        for name, body in members.items():
            body = body if isinstance(body, dict) else {}
            full_name = f"{parent}.{name}" if parent else str(name)
            yield kind, full_name, body, path + (name,)
            for child in kind.children:
                key = child.spec.spec_key
                stack.append((child, full_name, body.get(key), path + (name, key)))


def _privilege_problems(doc: SourceDoc) -> list[SpecProblem]:
    """Unknown or misplaced privileges, checked wherever the grants are well-formed."""
    problems = []
    for kind, full_name, body, path in _declared(doc.data):
        grants = body.get("grants")
        for principal, written in grants.items() if isinstance(grants, dict) else ():
            for i, raw in enumerate(written if isinstance(written, list) else ()):
                problem = privileges.problem_with(privileges.normalise(raw), kind) if isinstance(raw, str) else None
                if problem:
                    where = doc.where(path + ("grants", principal, i))
                    problems.append(SpecProblem(where, f"{problem}, on {full_name}"))
    return problems


def _repeated_name_problems(doc: SourceDoc) -> list[SpecProblem]:
    """A name given twice in one list of a definition (a table's columns, a function's parameters): the
    server would make both, and no query could tell them apart (such names ignore case)."""
    problems = []
    for kind, full_name, body, path in _declared(doc.data):
        for field in kind.spec.definition_fields:
            items = body.get(field.name)
            seen: set[str] = set()
            for i, item in enumerate(items if isinstance(items, list) else ()):
                name = item.get("name") if isinstance(item, dict) else None
                if not isinstance(name, str):
                    continue
                if name.casefold() in seen:
                    message = (
                        f"{kind.label} {full_name} has two {field.name} named '{visible(name)}' (names ignore case)"
                    )
                    problems.append(SpecProblem(doc.where(path + (field.name, i, "name")), message))
                seen.add(name.casefold())
    return problems


def _reserved_problems(doc: SourceDoc) -> list[SpecProblem]:
    """Catalogs named in the apply lock's namespace: ucgov keeps those names for its own claims."""
    problems = []
    for kind, full_name, _body, path in _declared(doc.data):
        stem = reserved_by(full_name) if kind is Kind.CATALOG else None
        if stem:
            message = (
                f"catalog name '{visible(full_name)}' is kept for ucgov's apply lock "
                f"({stem} and {stem}_<12 hex digits>): choose another name"
            )
            problems.append(SpecProblem(doc.where_key(path), message))
    return problems


def _policies(data: Any) -> Iterator[tuple[int, dict]]:
    """Each policy written in one document, with its index; skips what is not a mapping."""
    written = data.get("policies") if isinstance(data, dict) else None
    for i, body in enumerate(written if isinstance(written, list) else ()):
        if isinstance(body, dict):
            yield i, body


def _policy_privilege_problems(doc: SourceDoc) -> list[SpecProblem]:
    """Unknown privileges in policies, and privileges their pattern can never meet, wherever the list is well-formed."""
    problems = []
    for i, body in _policies(doc.data):
        deny = body.get("deny")
        written = deny.get("privileges") if isinstance(deny, dict) else None
        on = deny.get("on") if isinstance(deny, dict) else None
        name = body.get("name") if isinstance(body.get("name"), str) else f"policies/{i}"
        for j, raw in enumerate(written if isinstance(written, list) else ()):
            privilege = privileges.normalise(raw) if isinstance(raw, str) else None
            problem = None
            if privilege is not None and privilege not in privileges.ALL_PRIVILEGES:
                problem = privileges.unknown(privilege)
            elif privilege is not None and isinstance(deny.get("kind"), str):
                problem = _never_met_on_kind(privilege, deny["kind"], on if isinstance(on, str) else None)
            elif privilege is not None and isinstance(on, str):
                problem = _never_met(privilege, on)
            if problem:
                where = doc.where(("policies", i, "deny", "privileges", j))
                problems.append(SpecProblem(where, f"{problem}, in policy '{name}'"))
    return problems


def _never_met_on_kind(privilege: str, kind_name: str, on: str | None) -> str | None:
    """Why denying ``privilege`` on a policy's ``kind`` could never stop a grant, or None if it can."""
    kind = next((k for k in Kind if k.value == kind_name), None)
    if kind is not None and on is not None and "." in on:
        return f"'{on}' has a dot, which no {kind.label}'s name holds: this denial could never match"
    if kind is None or privilege in kind.grantable:
        return None
    allowed = ", ".join(sorted(kind.grantable))
    return f"{privilege} can never be granted on a {kind.label} (only {allowed}): this denial could never match"


def _never_met(privilege: str, on: str) -> str | None:
    """Why denying ``privilege`` on the pattern ``on`` could never stop a grant, or None if it can.

    A policy that can never match protects nothing while it reads as if it did.
    """
    depth = on.count(".") + 1
    if depth > MAX_DEPTH or privilege in grantable_at(depth):
        return None
    kinds = [f"{k.label}s" for k in Kind if k.depth == depth and k.spec.policy_named]
    named = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
    return f"'{on}' names {named}, where {privilege} can never be granted: this denial could never match"


def _substitute(doc: SourceDoc, value: Any, path: tuple, variables: Mapping[str, str], problems: list) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(doc, v, path + (k,), variables, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(doc, v, path + (i,), variables, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    text, wrong = filled(value, variables)
    problems += [SpecProblem(doc.where(path), message) for message in wrong]
    return text


_LINE_BREAKS = frozenset("\n\t")
"""What a value may hold of the characters that act: a comment may span lines."""


def _may_act(text: str, variables: Mapping[str, str]) -> bool:
    """Whether any string can hold a character that acts: written raw (YAML turns line breaks
    into \\n itself), as a backslash escape, or from a variable. Most files need no closer look."""
    if "\\" in text or any(UNSAFE.search(v) for v in variables.values()):
        return True
    return UNSAFE.search(text.replace("\n", "").replace("\r", "")) is not None


def _character_problems(doc: SourceDoc) -> list[SpecProblem]:
    """Control characters and characters that reorder text, in any key or string, after variables.

    YAML refuses them written raw, but "\\e", "\\u202e" or a variable puts them in a string;
    shown in a review they could fake a line, erase one at a terminal, or turn text around.
    """
    problems = []
    stack: list[tuple[tuple, Any]] = [((), doc.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                found = UNSAFE.search(str(key))
                if found:
                    problems.append(SpecProblem(doc.where_key(path + (key,)), _character_message(found.group())))
                stack.append((path + (key,), child))
        elif isinstance(value, list):
            stack += [(path + (i,), child) for i, child in enumerate(value)]
        elif isinstance(value, str):
            found = next((c for c in UNSAFE.findall(value) if c not in _LINE_BREAKS), None)
            if found:
                problems.append(SpecProblem(doc.where(path), _character_message(found)))
    return problems


def _character_message(char: str) -> str:
    name = unicodedata.name(char, "a control character")
    return (
        f"character U+{ord(char):04X} ({name}) is not allowed: control characters and characters "
        "that reorder text could fake or hide lines of a review"
    )


def _schema_problem(doc: SourceDoc, error: jsonschema.ValidationError) -> SpecProblem:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known and not any(p.search(k) for p in patterns))
        allowed = ", ".join(error.schema.get("properties", {}))
        where = doc.where_key(path + (extra[0],)) if extra else doc.where(path)
        return SpecProblem(where, f"unknown key '{extra[0] if extra else '?'}' (expected one of: {allowed})")
    if _is_name(error):
        # propertyNames errors carry the parent's path and the offending key as instance
        key_path = path + (error.instance,)
        where = doc.where_key(key_path) if key_path in doc.keys else doc.where(path)
        return SpecProblem(where, _name_message(error.instance))
    if error.validator == "pattern" and error.schema.get("pattern") == _PRINCIPAL_PATTERN:
        key_path = path + (error.instance,)
        where = doc.where_key(key_path) if key_path in doc.keys else doc.where(path)
        if error.instance == "":  # the pattern refuses it too: one message, not two
            return SpecProblem(where, "a principal must not be empty (is a variable in it set to nothing?)")
        return SpecProblem(
            where, f"bad principal '{visible(error.instance)}': control characters (newlines, tabs) are not allowed"
        )
    if error.validator == "oneOf" and path[-1:] == ("approved",):
        if isinstance(error.instance, dict) and "from" in error.instance:
            message = "approved with 'from' takes the 'version' of that model to promote, and no 'run'"
            return SpecProblem(doc.where(path), message)
        return SpecProblem(doc.where(path), "approved needs exactly one of 'run' or 'version'")
    if error.validator == "pattern" and ("approved", "from") in (path[-2:], path[-3:-1]):  # from, or from/model
        message = f"approved from '{visible(error.instance)}' is not a model's full name (catalog.schema.model)"
        return SpecProblem(doc.where(path), message)
    if {"then", "else"} & set(error.relative_schema_path) and "description" in error.schema:
        # a key needed, or refused, because of another's value (if/then/else): the schema says why, of the object
        refused = [k for k in _refused_keys(error.schema.get("not", {})) if k in error.instance]
        where = doc.where_key(path + (refused[0],)) if refused else _where_object(doc, path)
        return SpecProblem(where, f"{_object_at(path)} {error.schema['description']}")
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return SpecProblem(doc.where(path), f"{_describe(path)} is missing the required key '{missing[0]}'")
    if error.validator == "minProperties":
        wanted = ", ".join(error.schema.get("properties", {}))
        return SpecProblem(doc.where(path), f"{_describe(path)} needs at least one of: {wanted}")
    if error.validator == "minLength" and error.validator_value == 1 and error.instance == "":
        return SpecProblem(doc.where(path), f"{_describe(path)} must not be empty")
    if error.validator == "minItems":
        return SpecProblem(doc.where(path), f"{_describe(path)} must not be empty")
    if error.validator == "pattern" and path[-2:] == ("deny", "on"):
        return SpecProblem(
            doc.where(path),
            f"{_describe(path)} '{error.instance}' must be 1 to 3 non-empty parts joined by dots "
            "(catalog, catalog.schema or catalog.schema.model)",
        )
    if error.validator == "type" and len(path) >= 2 and path[-2] == "grants" and path[-1] in _OBJECT_KEYS:
        owner = ".".join(str(p) for p in path[1:-2:2])
        return SpecProblem(
            doc.where_key(path),
            f"'{path[-1]}' is inside grants: of {owner}, where it would be a principal; "
            "it looks like a misplaced key: indent it as deep as grants:",
        )
    if error.validator == "type":
        wanted = error.validator_value
        got = _kind_of(error.instance) if not isinstance(error.instance, float) else repr(error.instance)
        return SpecProblem(doc.where(path), f"{_describe(path)} must be {_article(wanted)}, not {got}")
    if error.validator == "maxLength":
        return SpecProblem(
            doc.where(path),
            f"{_describe(path)} is {utf16_length(error.instance)} characters long as the server counts them "
            f"(UTF-16 units: an emoji counts 2); the server's limit is {error.validator_value}",
        )
    if error.validator == "enum":
        written = f", not {error.instance!r}" if len(repr(error.instance)) <= 40 else ""
        return SpecProblem(
            doc.where(path), f"{_describe(path)} must be one of: {_options(error.validator_value)}{written}"
        )
    return SpecProblem(doc.where(path), f"{_describe(path)}: {error.message}")


_OBJECT_KEYS = frozenset(
    {"comment", "properties", "grants", "grants_mode", "prune", "approved"}
    | {k.spec.spec_key for k in Kind if k.spec.spec_key}
    | {f.name for k in Kind for f in k.spec.fields}
)
"""Keys of an object of some kind: written under grants: by an indentation slip."""


def _is_name(error: jsonschema.ValidationError) -> bool:
    return error.validator in ("pattern", "maxLength") and error.schema.get("pattern") == _NAME_PATTERN


_NAME_PATTERN = "^[a-zA-Z0-9_@-]+(?!\\n)$"


def utf16_length(text: Any) -> int:
    """A string's length as the server (Java) counts it: UTF-16 code units."""
    return len(str(text).encode("utf-16-le")) // 2


def _utf16_max_length(validator: Any, limit: int, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and utf16_length(instance) > limit:
        yield jsonschema.ValidationError(f"{instance!r} is longer than {limit} UTF-16 units")


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"maxLength": _utf16_max_length})
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


class _SchemaChecks:
    """The JSON Schema, checked fast where a document passes and thoroughly where it does not.

    fastjsonschema compiles the schema to Python and stops at the first error: 40 times faster
    than jsonschema on a 10,000-model file. A document it refuses, or that holds characters
    beyond the BMP (which count twice against the server's limits), goes through jsonschema,
    which finds every problem and says where.
    """

    def problems(self, doc: SourceDoc, text: str) -> list[SpecProblem]:
        if not _BEYOND_BMP.search(text) and _passes_fast(doc.data):
            return []
        return [_schema_problem(doc, e) for e in _thorough_validator().iter_errors(doc.data)]


@functools.cache
def _fast_validator() -> Callable[[Any], Any]:
    import fastjsonschema  # compiled once per process, when the first spec is read

    return fastjsonschema.compile(json_schema())


@functools.cache
def _thorough_validator() -> jsonschema.protocols.Validator:
    return _Validator(json_schema())


def _passes_fast(data: Any) -> bool:
    import fastjsonschema

    try:
        _fast_validator()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _name_message(name: Any) -> str:
    return f"bad name '{visible(str(name))}': {_NAME_RULE}"


def visible(text: str) -> str:
    """Control and bidi characters written as escapes, so a message cannot fake a line of output."""
    return escape_text(text)


def _options(allowed: list) -> str:
    """The values an enum allows, each once: types written in either case are listed upper-case."""
    upper = [v for v in allowed if not (isinstance(v, str) and v != v.upper() and v.upper() in allowed)]
    listed = ", ".join(map(str, upper))
    return listed if len(upper) == len(allowed) else f"{listed} (in upper or lower case)"


def _refused_keys(refused: dict) -> list[str]:
    """The keys a ``not`` refuses: its own ``required``, or those of each ``anyOf`` branch."""
    return list(refused.get("required", ())) + [
        k for branch in refused.get("anyOf", ()) for k in branch.get("required", ())
    ]


def _object_at(path: tuple) -> str:
    """'volume ml.fraud.raw' for the path of an object's body, else the path itself."""
    kind, names = None, []
    for key, name in zip(path[::2], path[1::2], strict=False):
        kind = by_spec_key(kind, key)
        if kind is None:
            return _describe(path)
        names.append(str(name))
    return f"{kind.label} {'.'.join(names)}" if kind and len(path) % 2 == 0 else _describe(path)


def _where_object(doc: SourceDoc, path: tuple) -> Location:
    """Where an object's name is written (its body may be empty or flow), else its body."""
    return doc.where_key(path) if path in doc.keys else doc.where(path)


def _describe(path: tuple) -> str:
    return "/".join(str(p) for p in path) or "the document"


def _article(wanted: Any) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "a whole number",
        "boolean": "true or false",
    }
    if isinstance(wanted, list):
        return " or ".join(words.get(w, w) for w in wanted)
    return words.get(wanted, wanted)


def _kind_of(value: Any) -> str:
    for kind, word in (
        (bool, "true/false"),
        (dict, "a mapping"),
        (list, "a list"),
        (str, "a string"),
        (int, "a number"),
        (float, "a number"),
    ):
        if isinstance(value, kind):
            return word
    return "empty" if value is None else type(value).__name__


_LOCATED_FIELDS = frozenset(
    {"properties", "grants", "approved", "prune"} | {f.name for k in Kind for f in k.spec.fields}
)


class _Merger:
    """Merges declarations from many files; the same scalar set twice differently is a problem."""

    def __init__(self) -> None:
        self.declared: dict[Ref, None] = {}
        self.scalars: dict[tuple, tuple[Any, Location]] = {}
        self.grants: dict[Ref, dict[str, set[str]]] = {}
        self.principals: dict[str, list[Location]] = {}
        self.grant_locations: dict[tuple[Ref, str, str], Location] = {}
        self.field_locations: dict[tuple[Ref, str], Location] = {}
        self.grants_declared: set[Ref] = set()
        self.policies: dict[str, Policy] = {}
        self.problems: list[SpecProblem] = []

    def add(self, doc: SourceDoc) -> None:
        for key, value in (doc.data.get("settings") or {}).items():
            self._set((None, key), value, doc.where(("settings", key)))
        for kind, full_name, body, path in _declared(doc.data):
            self._add_object(doc, kind, full_name, body, path)
        for i, body in _policies(doc.data):
            self._add_policy(_policy(doc, body, ("policies", i)))

    def _add_object(self, doc: SourceDoc, kind: Kind, full_name: str, body: dict, path: tuple) -> None:
        ref = Ref(kind, full_name)
        self.declared[ref] = None
        self.grants.setdefault(ref, {})
        self.field_locations.setdefault((ref, ""), doc.where_key(path))
        for field in _LOCATED_FIELDS.intersection(body):  # the fields planning may have to point at
            self.field_locations.setdefault((ref, field), doc.where(path + (field,)))
        if "grants" in body:
            self.grants_declared.add(ref)
        for field in ("comment", "grants_mode", "prune"):
            if field in body:
                self._set((ref, field), body[field], doc.where(path + (field,)))
        for field in kind.spec.definition_fields:
            if field.name in body:
                value = _definition_value(kind, field.name, body[field.name])
                self._set((ref, "definition", field.name), value, doc.where(path + (field.name,)))
        if body.get("approved"):
            approved = _approval(doc, body["approved"], path + ("approved",))
            self._set((ref, "approved"), approved, doc.where(path + ("approved",)))
        if "properties" in body:
            self._set((ref, "properties"), True, doc.where(path + ("properties",)), quiet=True)
            for key, value in (body["properties"] or {}).items():
                self._set((ref, "properties", key), value, doc.where(path + ("properties", key)))
        for principal, written in (body.get("grants") or {}).items():
            where = doc.where_key(path + ("grants", principal))
            self.principals.setdefault(principal, []).append(where)
            normalised = [privileges.normalise(raw) for raw in written]
            valid = {p for p in normalised if privileges.problem_with(p, kind) is None}  # the rest are reported
            self.grants[ref].setdefault(principal, set()).update(valid)
            for i, privilege in enumerate(normalised):
                if privilege in valid:
                    where = doc.where(path + ("grants", principal, i))
                    self.grant_locations.setdefault((ref, principal, privilege), where)

    def _add_policy(self, policy: Policy) -> None:
        """Policies from all files are concatenated; one name must mean one policy."""
        first = self.policies.setdefault(policy.name, policy)
        if first != policy:
            self.problems.append(
                SpecProblem(
                    policy.where,
                    f"policy '{policy.name}' is defined differently here than at {first.where} "
                    "(rename one, or make them the same)",
                )
            )

    def _set(self, key: tuple, value: Any, where: Location, *, quiet: bool = False) -> None:
        if key not in self.scalars:
            self.scalars[key] = (value, where)
            return
        first, first_where = self.scalars[key]
        if first != value and not quiet:
            what = ".".join(
                "settings" if k is None else k.full_name if isinstance(k, Ref) else str(k)
                for k in key
                if k != "definition"
            )
            self.problems.append(
                SpecProblem(where, f"{what} is set to {value!r} here but to {first!r} at {first_where}")
            )

    def _value(self, *key: Ref | str | None) -> Any:
        found = self.scalars.get(key)
        return found[0] if found else None

    def desired_state(self) -> DesiredState:
        default_mode = self._value(None, "grants_mode") or GrantsMode.AUTHORITATIVE.value
        properties: dict[Ref, dict[str, Any]] = {}
        definitions: dict[Ref, dict[str, Any]] = {}
        for key, (value, _) in self.scalars.items():
            if len(key) == 3 and key[1] in ("properties", "definition"):
                (properties if key[1] == "properties" else definitions).setdefault(key[0], {})[key[2]] = value
        objects = {}
        for ref in self.declared:
            has_properties = (ref, "properties") in self.scalars
            objects[ref] = Securable(
                kind=ref.kind,
                full_name=ref.full_name,
                comment=self._value(ref, "comment"),
                properties=properties.get(ref, {}) if has_properties else None,
                grants={p: frozenset(privs) for p, privs in self.grants[ref].items()},
                grants_mode=self._grants_mode(ref, default_mode),
                approved=self._value(ref, "approved"),
                definition=definitions.get(ref),
            )
        return DesiredState(
            objects=objects,
            principals={p: tuple(sorted(set(locs))) for p, locs in self.principals.items()},
            prune=bool(self._value(None, "prune")),
            prune_on={
                k[0].full_name: bool(v)
                for k, (v, _) in self.scalars.items()
                if len(k) == 2 and k[1] == "prune" and k[0] and not k[0].kind.spec.single
            },
            prune_top=frozenset(
                kind
                for kind in Kind
                if kind.spec.pruned_by
                and self._value(Ref(Kind(kind.spec.pruned_by.name), kind.spec.pruned_by.name), "prune")
            ),
            policies=tuple(self.policies.values()),
            grant_locations=dict(self.grant_locations),
            field_locations=dict(self.field_locations),
        )

    def _grants_mode(self, ref: Ref, default_mode: str) -> GrantsMode:
        if ref not in self.grants_declared:
            return GrantsMode.UNMANAGED  # no `grants:` anywhere: what the server has stays as it is
        return GrantsMode(self._value(ref, "grants_mode") or default_mode)

    def comment_problems(self) -> list[SpecProblem]:
        """A model's comment must leave room for the approval line and must not imitate it."""
        problems = []
        for key, (comment, where) in self.scalars.items():
            ref = key[0]  # the approval line lives in the comment of a versioned kind
            if key[1:] != ("comment",) or not isinstance(ref, Ref) or not ref.kind.spec.versioned:
                continue
            if not isinstance(comment, str):
                continue
            approved = (ref, "approved") in self.scalars
            problem = approval.comment_problem(comment, approved=approved)
            if problem:
                problems.append(SpecProblem(where, f"the comment of model {ref.full_name} {problem}"))
        return problems


def _definition_value(kind: Kind, field: str, value: Any) -> Any:
    """A definition field as the planner compares it: in the kind's shape, with its defaults (a
    column is nullable unless it says not), so a spec's value and the server's compare as equals."""
    return kind.spec.written(field, value)


def _policy(doc: SourceDoc, body: dict, path: tuple) -> Policy:
    deny = body["deny"]
    written = deny.get("privileges")
    normalised = None if written is None else {privileges.normalise(raw) for raw in written}
    return Policy(
        name=body["name"],
        principal=deny.get("principal", "*"),
        privileges=None if normalised is None else frozenset(normalised & privileges.ALL_PRIVILEGES),
        on=deny.get("on"),
        kind=Kind(deny["kind"]) if deny.get("kind") else None,
        where=doc.where(path),
    )


def _approval(doc: SourceDoc, body: dict, path: tuple) -> Approval:
    version = body.get("version")
    key = "run" if "run" in body else "from" if "from" in body else "version"
    promoted = "from" in body  # then version is the source's, and this model's version is the one made from it
    source = body.get("from")
    elsewhere = isinstance(source, dict)  # {target, model}: a model on another target's server
    return Approval(
        version=None if promoted else _whole(version),
        from_model=source["model"] if elsewhere else source,
        from_version=_whole(version) if promoted else None,
        from_target=source["target"] if elsewhere else None,
        run=body.get("run"),
        artifact_path=body.get("artifact_path", "model"),
        require=tuple(_gates(doc, body.get("require") or {}, path + ("require",))),
        keep_versions=_whole(body.get("keep_versions")),
        where=doc.where(path + (key,)),
    )


def _whole(value: Any) -> int | None:
    """A whole number the schema let through as written: ``2.0`` is one (JSON Schema's integer), and "3" for a version."""
    return None if value is None else int(value)


def _gates(doc: SourceDoc, require: dict, path: tuple) -> Iterator[Gate]:
    for name, written in (require.get("metrics") or {}).items():
        op, value = gates.parse_metric_condition(written) or ("==", float("nan"))  # the schema let only numbers through
        yield Gate("metrics", name, op, value, doc.where(path + ("metrics", name)))
    for kind in ("params", "tags"):
        for name, written in (require.get(kind) or {}).items():
            yield Gate(kind, name, "==", _as_mlflow_string(written), doc.where(path + (kind, name)))


def _as_mlflow_string(value: Any) -> str:
    """MLflow stores params and tags as strings: 100 is "100", True is "True"."""
    return str(value)


def entry_errors(kind: Kind, entry: Mapping[str, Any]) -> Iterator[jsonschema.ValidationError]:
    """What the JSON Schema refuses in one object's entry (its own keys, not what is inside it), as
    the loader counts it: for export, which must write nothing the loader would refuse. Checked
    fast first, as documents are (``_SchemaChecks``): most entries pass."""
    import fastjsonschema

    if not _BEYOND_BMP.search(json.dumps(entry, ensure_ascii=False, default=str)):
        try:
            _fast_entry_validator(kind.spec.label)(entry)
            return iter(())
        except fastjsonschema.JsonSchemaException:
            pass
    return _entry_validator(kind.spec.label).iter_errors(entry)


def _entry_schema(label: str) -> dict:
    return {"$defs": json_schema()["$defs"], "$ref": f"#/$defs/{label.replace(' ', '_')}"}


@functools.cache
def _fast_entry_validator(label: str) -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(_entry_schema(label))


@functools.cache
def _entry_validator(label: str) -> jsonschema.protocols.Validator:
    return _Validator(_entry_schema(label))


def refused_character(value: Any) -> str | None:
    """The first character in the keys and strings of ``value`` that the loader refuses, if any."""
    if isinstance(value, Mapping):  # a key may hold no line break either
        found = (c for k, v in value.items() for c in (_in_key(k), refused_character(v)) if c)
        return next(found, None)
    if isinstance(value, list):
        return next((c for c in map(refused_character, value) if c), None)
    if isinstance(value, str):
        return next((c for c in UNSAFE.findall(value) if c not in _LINE_BREAKS), None)
    return None


def _in_key(key: Any) -> str | None:
    found = UNSAFE.search(str(key))
    return found.group() if found else None
