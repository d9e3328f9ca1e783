"""Targets: one spec repository, several servers. ``targets:`` in a spec names each server's URL,
the environment variable holding its token, and the variables its specs are loaded with.

Targets are read before the specs are loaded (their variables are what loading needs), from the
YAML as written: their values take no ``${var.…}`` of their own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ucgov.errors import Location, SpecError, SpecProblem, UcgovError
from ucgov.render import escape
from ucgov.spec.source import read_source, read_spec_files

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TARGET_NAME = re.compile(r"[a-zA-Z0-9_@-]{1,255}")


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    token_env: str | None = None
    """The environment variable holding this server's token; None: UCGOV_TOKEN."""
    variables: Mapping[str, str] = field(default_factory=dict)
    where: Location | None = field(default=None, compare=False)

    def token(self) -> str | None:
        """The token from the target's variable; UcgovError naming it when that is not set."""
        if self.token_env is None:
            return os.environ.get("UCGOV_TOKEN") or None
        token = os.environ.get(self.token_env)
        if not token:
            raise UcgovError(f"target {self.name} reads its token from {self.token_env}, which is not set")
        return token


def chosen(paths: Iterable[str | Path], name: str) -> Target:
    """The target ``name`` that the specs under ``paths`` declare; SpecError if it is missing or malformed."""
    texts, problems = read_spec_files(list(paths))
    return chosen_in(texts, name, problems)


def chosen_in(texts: Iterable[tuple[str, str]], name: str, problems: Iterable[SpecProblem] = ()) -> Target:
    """The same, from (path, text) pairs: specs read from git (``ucgov diff``)."""
    found, declared_problems = _declared(texts)
    problems = list(problems) + declared_problems
    if name not in found and not problems:
        known = ", ".join(sorted(found)) or "none"
        raise UcgovError(f"no target '{name}' in the specs (targets declared: {known})")
    target, where = found.get(name, (None, None))
    problems += _problems(name, target, where) if where else []
    if problems:
        raise SpecError(problems)
    assert isinstance(target, dict) and where is not None
    variables = {str(k): _text(v) for k, v in (target.get("vars") or {}).items()}
    return Target(name, target["url"], target.get("token_env"), variables, where)


def _declared(texts: Iterable[tuple[str, str]]) -> tuple[dict[str, tuple[object, Location]], list[SpecProblem]]:
    problems: list[SpecProblem] = []
    found: dict[str, tuple[object, Location]] = {}
    for path, text in texts:
        doc, _ = read_source(path, text)  # its own problems are the loader's to report
        targets = doc.data.get("targets") if isinstance(doc.data, dict) else None
        for name, body in (targets or {}).items() if isinstance(targets, dict) else ():
            where = doc.where(("targets", name))
            if name in found:
                problems.append(SpecProblem(where, f"target {name} is declared twice (also at {found[name][1]})"))
            found.setdefault(str(name), (body, where))
    return found, problems


def _problems(name: str, target: object, where: Location) -> list[SpecProblem]:
    if not _TARGET_NAME.fullmatch(name):  # as the schema says; export writes to exported/NAME
        return [SpecProblem(where, f"bad target name '{escape.text(name)}': letters, digits, _, @ and - only")]
    if not isinstance(target, dict) or not isinstance(target.get("url"), str) or not target["url"]:
        return [SpecProblem(where, f"target {name} needs a url: the server it names")]
    unknown = sorted(set(map(str, target)) - {"url", "token_env", "vars"})
    if unknown:
        return [SpecProblem(where, f"target {name} has the unknown key '{unknown[0]}' (expected url, token_env, vars)")]
    env = target.get("token_env")
    if env is not None and not (isinstance(env, str) and _ENV_NAME.fullmatch(env)):
        return [
            SpecProblem(where, f"target {name}: token_env must name an environment variable, e.g. UCGOV_TOKEN_PROD")
        ]
    variables = target.get("vars") or {}
    if not isinstance(variables, dict) or any(
        not isinstance(v, (str, int, float, bool)) or not _ENV_NAME.fullmatch(str(k)) for k, v in variables.items()
    ):
        return [SpecProblem(where, f"target {name}: vars must map variable names to plain values")]
    if any("${" in str(v) for v in [target["url"], env, *variables.values()]):
        return [SpecProblem(where, f"target {name}: its values take no ${{var.…}}: targets give the variables")]
    return []


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
