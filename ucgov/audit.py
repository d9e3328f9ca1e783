"""The glue of ``ucgov access``: which state to read (the server's, or the specs' at a revision) and
the rows ``ucgov.access`` computes from it. Reads go through ``ucgov.live`` and ``ucgov.gitspecs``."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ucgov.access import Row, Scope, rows
from ucgov.errors import UcgovError
from ucgov.render import escape
from ucgov.state import State


def access_rows(
    name: str | None,
    principal: str | None,
    catalogs: Sequence[str],
    *,
    spec_paths: Sequence[str],
    rev: str | None,
    url: str,
    token: str | None,
    variables: dict[str, str],
    parallelism: int,
) -> tuple[list[Row], str]:
    """(the rows asked for, a title saying where they came from)."""
    if rev is not None and not spec_paths:
        raise UcgovError("--rev reads specs at a git revision: give the spec paths with --specs")
    scope = Scope(principal=principal, object=name, catalogs=tuple(catalogs))
    if spec_paths:
        state: State = _from_specs(list(spec_paths), rev, variables)
        source = f"specs {', '.join(spec_paths)}" + (f" at {rev}" if rev else "")
    else:
        state = _from_server(url, token, scope, parallelism)
        source = url
    found = rows(state, scope)
    if name and not any(r.object.full_name == name for r in found) and not _named(state, name):
        raise UcgovError(f"no object named {escape.text(name)} in {escape.text(source)}")
    return found, f"ucgov access: {_what(scope)} ({source})"


def _from_specs(paths: list[str], rev: str | None, variables: dict[str, str]) -> State:
    from ucgov.gitspecs import spec_texts
    from ucgov.spec import load_texts, variables_from

    return load_texts(spec_texts(rev, paths), variables=variables_from(os.environ, variables), check_policies=False)


def _from_server(url: str, token: str | None, scope: Scope, parallelism: int) -> State:
    """What the server holds in scope: the catalogs named (or every one), and, unless catalogs were
    named, what sits beside them (the metastore, credentials, external locations). An object named
    without a dot may be a catalog or one of those."""
    from ucgov.client import UCClient
    from ucgov.live import read_catalog_names, read_grants_inside
    from ucgov.reserved import is_reserved_catalog

    with UCClient(url, token=token) as client:
        if scope.catalogs:
            return read_grants_inside(client, scope.catalogs, concurrency=parallelism)
        live = [c for c in read_catalog_names(client) if not is_reserved_catalog(c)]
        if scope.object is not None:
            first = scope.object.split(".")[0]
            live = [first] if first in live else []
        standalone = scope.object is None or "." not in scope.object
        return read_grants_inside(client, live, standalone=standalone, concurrency=parallelism)


def _named(state: State, name: str) -> bool:
    return any(r.full_name == name for r in state.objects)


def _what(scope: Scope) -> str:
    parts = [f"principal {scope.principal}"] if scope.principal else []
    parts += [scope.object] if scope.object else []
    parts += [f"catalog {', '.join(scope.catalogs)}"] if scope.catalogs else []
    return ", ".join(parts) or "everything"
