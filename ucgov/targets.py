"""Targets: one spec repository, several servers. ``targets:`` in a spec names each server's URL,
the environment variable holding its token, and the variables its specs are loaded with.

Targets are read before the specs are loaded (their variables are what loading needs), from the
YAML as written: their values take no ``${var.…}`` of their own. A promotion ``from: {target, model}``
names another target whose server holds its source: ``promotion_sources`` finds those for the CLI,
which reads each source with a client of that server.
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
from ucgov.state import DesiredState, Server
from ucgov.transport import checked_url, without_userinfo

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


def promotion_sources(
    paths: Iterable[str | Path], desired: DesiredState, planned: str | None, *, tokens: bool = True
) -> dict[Server, Target]:
    """The other targets' servers that the promotions in ``desired`` copy from, each with its target
    (whose URL and token reach it), looked up in the specs' ``targets:`` whether or not one is
    ``planned``; SpecError at each promotion's line that names an unknown target, the target being
    planned, or (``tokens``: not for validate, which reads no server) a target whose token is not set."""
    named = [o.approved for o in desired.ordered() if o.approved and o.approved.from_target]
    if not named:
        return {}
    texts, problems = read_spec_files(list(paths))
    found, declared_problems = _declared(texts)
    problems += declared_problems
    chosen_sources: dict[Server, Target] = {}
    for approval in named:
        problem, target = _source_problem(approval.from_target or "", found, planned, tokens=tokens)
        if problem:
            problems.append(SpecProblem(approval.where or Location("<specs>", 1, 1), problem))
        elif target is not None:
            chosen_sources[Server(target.name, without_userinfo(target.url), target.token_env)] = target
    if problems:
        raise SpecError(problems)
    return chosen_sources


def _source_problem(
    name: str, found: dict[str, tuple[object, Location]], planned: str | None, *, tokens: bool
) -> tuple[str | None, Target | None]:
    """(why the target ``name`` cannot be a promotion's source, or None; the target)."""
    if name == planned:
        return f"target {name} is the target being planned: promote from a model on it without 'target'", None
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        return f"no target '{name}' to promote from in the specs (targets declared: {known})", None
    body, where = found[name]
    declared = _problems(name, body, where)
    if declared:
        return f"target {name}, to promote from, is malformed at {where}: {declared[0].message}", None
    assert isinstance(body, dict)
    target = Target(name, body["url"], body.get("token_env"), {}, where)
    try:
        checked_url(target.url, named=f"the url of target {name}, to promote from,")
    except UcgovError as exc:
        return str(exc), None
    try:
        if tokens:
            target.token()
    except UcgovError as exc:
        return f"{exc}, so the model to promote from cannot be read", None
    return None, target


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
