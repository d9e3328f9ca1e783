"""The plan for people at a terminal: grouped by object, with + ~ - markers.

For ucgov diff, policy changes and objects no longer declared (each saying whether apply deletes
it or leaves it on the server) follow the changes.
Lines are built uncoloured, each one through ``escape.text`` (a name holding a newline or an
escape sequence cannot fake or erase a line), and only then coloured by their marker.
"""

from __future__ import annotations

import json
from itertools import groupby

import click

from ucgov.plan import (
    Action,
    ApprovalChange,
    Change,
    GrantChange,
    ObjectChange,
    Plan,
    Promotion,
    Registration,
    VersionDeletion,
)
from ucgov.policies import rule
from ucgov.render import escape
from ucgov.render.summary import summary_line
from ucgov.state import GrantsMode
from ucgov.unmanaged import undeclared_children

_COLOURS = {"+": "green", "~": "yellow", "-": "red"}


class _Painted(str):
    """A line to colour by its marker once it is escaped."""

    def __new__(cls, line: str, marker: str) -> _Painted:
        painted = super().__new__(cls, line)
        painted.marker = marker
        return painted

    marker: str


def render_text(plan: Plan, *, color: bool = False) -> str:
    """Changes grouped under their object, parents first, then the summary line."""
    lines: list[str] = []
    for warning in plan.warnings:
        lines.append(_paint(f"Warning: {warning}", "~"))
    if plan.changes:
        lines.append("ucgov will make these changes:")
        lines.append("")
    for ref, group in groupby(_by_object(plan), key=lambda c: c.address.ref):
        lines += _object_block(list(group), plan.grants_modes.get(ref))
        lines.append("")
    lines += _policy_lines(plan) + _undeclared_lines(plan) + _unmanaged_lines(plan)
    lines.append(summary_line(plan))
    return "\n".join(_finished(line, color) for line in lines)


def _finished(line: str, color: bool) -> str:
    """One line of output: every character visible, coloured only after escaping."""
    shown = escape.text(line)
    if color and isinstance(line, _Painted):
        return click.style(shown, fg=_COLOURS[line.marker])
    return shown


def _by_object(plan: Plan) -> list[Change]:
    """Declared objects in the specs' order; the others (deletes) in apply's order, what is inside first."""
    order = {ref: i for i, ref in enumerate(plan.objects)}
    for change in plan.changes:
        order.setdefault(change.address.ref, len(order))
    return sorted(plan.changes, key=lambda c: order[c.address.ref])


def _object_block(changes: list[Change], mode: GrantsMode | None) -> list[str]:
    first = changes[0]
    own = [c for c in changes if not c.action.is_grant]
    # deleting some of a model's versions changes the model; it does not delete it
    marker = own[0].action.marker if own and not isinstance(own[0].payload, VersionDeletion) else "~"
    header = str(first.address.ref) + (f"  (grants: {mode.value})" if mode else "")
    lines = [_paint(f"  {marker} {header}", marker)]
    for change in own:
        field_lines = _field_lines(change)
        lines += [_paint(line, "-") for line in field_lines] if change.action is Action.DELETE else field_lines
    for change in changes:
        if change.action.is_grant:
            lines.append(_paint(f"      {_grant_line(change)}", change.action.marker))
    return lines


def _policy_lines(plan: Plan) -> list[str]:
    if not plan.policy_changes:
        return []
    lines = ["Policy changes:"]
    for change in plan.policy_changes:
        rules = " -> ".join(rule(p) for p in (change.before, change.after) if p is not None)
        lines.append(_paint(f"  {change.marker} policy {change.name}: {rules}", change.marker))
    return lines + [""]


def _undeclared_lines(plan: Plan) -> list[str]:
    """ucgov diff: objects no longer declared, each with what apply does with it (as plan would)."""
    if not plan.undeclared:
        return []
    lines = ["No longer declared (ucgov stops governing their grants):"]
    for obj in plan.undeclared:
        verb = "loses" if obj.deleted else "keeps"
        held = "; ".join(f"{p} {verb} {', '.join(privileges)}" for p, privileges in obj.grants) or "no grants declared"
        marker = "-" if obj.deleted else "~"
        lines.append(_paint(f"  {marker} {obj.kind.label} {obj.full_name}: {obj.fate}; {held}", marker))
    return lines + [""]


def _unmanaged_lines(plan: Plan) -> list[str]:
    """plan --show-unmanaged: live objects no spec declares, and declared objects with undeclared children."""
    if plan.unmanaged is None:
        return []
    if not plan.unmanaged:
        return [
            "Every live catalog, and every schema, model, table, volume and function inside the declared ones, is declared.",
            "",
        ]
    lines = ["Not declared by any spec (ucgov leaves these alone unless prune says otherwise):"]
    lines += [f"  ? {u.kind.label} {u.full_name}" for u in plan.unmanaged]
    counts = undeclared_children(plan)
    if counts:
        lines.append("Declared objects with live children no spec declares:")
        lines += [f"  {inside.kind.label} {name}: {inside.described()}" for name, inside in counts.items()]
    return lines + [""]


def _field_lines(change: Change) -> list[str]:
    p = change.payload
    if isinstance(p, Registration):
        return [f"      + register run {p.run} (artifact path '{p.artifact_path}') as a new version"]
    if isinstance(p, Promotion):
        run = f" (run {p.run_id})" if p.run_id else ""
        gates = [f"        gate {words}: the run has {value}" for words, value in p.evidence]
        server = [f"        from target {p.from_server.target} at {p.from_server.url}"] if p.from_server else []
        return [f"      + {p.describe(change.action, change.address)}{run}"] + server + gates
    if isinstance(p, ApprovalChange):
        if p.version:
            target = f"version {p.version}"
        elif p.promoted_from:
            target = f"the version {p.promoted_from}"
        else:
            target = f"the version registered from run {p.run}"
        was = p.replaces_run or ""
        now = p.replaces or ((was if was.startswith("promoted from ") else f"run {was}") if was else "none")
        return [f"      ~ approve {target} (approved now: {now})"]
    if change.action is Action.CREATE:
        return [f"      {k} = {_show(v)}" for k, v in (change.after or {}).items()]
    if change.action is Action.UPDATE:
        return [f"      {k}: {_show(change.before.get(k))} -> {_show(v)}" for k, v in change.after.items()]
    if isinstance(p, VersionDeletion):
        files = f"; {p.files.sentence()}" if p.files else ""
        return [f"      - delete version {p.version}  ({change.reason}{files})"]
    if change.action is Action.DELETE:
        return [f"      ({change.reason})"] + _goes_with(p)
    return []


def _goes_with(p: object) -> list[str]:
    """What a deleted object takes with it: its files, and the grants made on it."""
    assert isinstance(p, ObjectChange)
    lines = [f"      ({p.files.sentence()})"] if p.files else []
    lines += [f"      - {who} loses {', '.join(privileges)} (goes with the delete)" for who, privileges in p.grants]
    return lines


def _grant_line(change: Change) -> str:
    p = change.payload
    assert isinstance(p, GrantChange)
    principal = change.address.principal
    if change.action is Action.GRANT:
        return f"+ grant {', '.join(p.privileges)} to {principal}"
    flag = f"; {principal} keeps no privilege on it" if p.removes_all else ""
    return f"- revoke {', '.join(p.privileges)} from {principal}  ({change.reason}{flag})"


def _show(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _paint(line: str, marker: str) -> _Painted:
    return _Painted(line, marker)
