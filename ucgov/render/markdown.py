"""The plan for a pull-request comment: permission changes first, per principal."""

from __future__ import annotations

import json
from collections import defaultdict

from ucgov.plan import Action, Change, Plan
from ucgov.render.summary import summary_line


def render_markdown(plan: Plan) -> str:
    """Who gains and loses what, then object changes, then the summary line."""
    lines = ["## ucgov plan", ""]
    lines += [f"> **Warning:** {w}" for w in plan.warnings]
    grants = [c for c in plan.changes if c.action.is_grant]
    objects = [c for c in plan.changes if not c.action.is_grant]
    if grants:
        lines += ["### Permission changes", ""] + _permission_lines(grants)
    if objects:
        lines += ["### Object changes", "", "| | object | change |", "|---|---|---|"]
        lines += [_object_row(c) for c in objects] + [""]
    lines.append(f"**{summary_line(plan)}**")
    return "\n".join(lines) + "\n"


def _permission_lines(changes: list[Change]) -> list[str]:
    per_principal: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        per_principal[change.address.principal or ""].append(change)
    lines: list[str] = []
    for principal in sorted(per_principal):
        lines.append(f"**{principal}**")
        for change in per_principal[principal]:
            where = f"`{change.address.full_name}` ({change.address.kind.label})"
            if change.action is Action.GRANT:
                lines.append(f"- gains {', '.join(change.after)} on {where}")
            else:
                lines.append(f"- :warning: **loses** {', '.join(change.before)} on {where} — {change.reason}")
        lines.append("")
    return lines


def _object_row(change: Change) -> str:
    name = f"`{change.address.full_name}` ({change.address.kind.label})"
    if change.action is Action.UPDATE:
        detail = "; ".join(f"{k}: {_code(change.before.get(k))} → {_code(v)}" for k, v in change.after.items())
    elif change.action in (Action.REGISTER, Action.APPROVE):
        return f"| {change.action.marker} | {name} | {change.describe()} |"
    else:
        detail = ", ".join(f"{k} {_code(v)}" for k, v in (change.after or {}).items())
    return f"| {change.action.marker} | {name} | {change.action.value} {detail} |".replace("  |", " |")


def _code(value: object) -> str:
    """A value as inline code that cannot break out of a table cell."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True).replace("|", "\\|").replace("`", "'")
    return f"`{text}`"
