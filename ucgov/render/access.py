"""Access rows (``ucgov.access``) as text, JSON, CSV, markdown, or one self-contained HTML page.

Every string from the server or specs goes through ``ucgov.render.escape``. The HTML page loads
nothing: its CSS and script are inline, and its Content-Security-Policy forbids anything else, so
it shows the same offline, attached to an audit ticket, as when it was made.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from ucgov.access import Row, objects, principals
from ucgov.render import escape
from ucgov.state import Ref

FORMATS = ("text", "json", "csv", "markdown", "html")
COLUMNS = ("principal", "kind", "object", "privilege", "via", "usable", "missing")


def render_access(found: Sequence[Row], fmt: str, *, title: str = "ucgov access") -> str:
    """The rows in one of FORMATS."""
    return {"json": _json, "csv": _csv, "markdown": _markdown, "html": _html}.get(fmt, _text)(found, title)


def _fields(row: Row) -> dict[str, str]:
    return {
        "principal": row.principal,
        "kind": row.object.kind.label,
        "object": row.object.full_name,
        "privilege": row.privilege,
        "via": row.via_text(),
        "usable": "yes" if row.usable else "no",
        "missing": row.missing_text(),
    }


def _text(found: Sequence[Row], title: str) -> str:
    if not found:
        return "No access found."
    lines = []
    for row in found:
        usable = "" if row.usable else f"  UNUSABLE: lacks {row.missing_text()}"
        lines.append(
            f"{escape.text(row.principal)}  {escape.text(row.privilege)}  on {row.object.kind.label} {escape.text(row.object.full_name)}"
            f"  ({escape.text(row.via_text())}){escape.text(usable)}"
        )
    unusable = sum(not r.usable for r in found)
    lines.append(f"\n{len(found)} privileges, {unusable} unusable, {len(principals(found))} principals.")
    return "\n".join(lines)


def _json(found: Sequence[Row], title: str) -> str:
    document = {
        "format_version": 1,
        "rows": [
            {
                "principal": r.principal,
                "kind": r.object.kind.label,
                "object": r.object.full_name,
                "privilege": r.privilege,
                "via": [{"kind": v.kind.label, "object": v.full_name, "inherited": v != r.object} for v in r.via],
                "usable": r.usable,
                "missing": [
                    {"kind": m.kind.label, "object": m.full_name, "privilege": m.kind.spec.usage} for m in r.missing
                ],
            }
            for r in found
        ],
    }
    return escape.json_text(json.dumps(document, indent=2))


def _csv(found: Sequence[Row], title: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in found:
        # a spreadsheet runs a cell starting with = + - @ as a formula: quote it as text
        writer.writerow({k: _inert(v) for k, v in _fields(row).items()})
    return out.getvalue().rstrip("\n")


def _inert(value: str) -> str:
    value = escape.text(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _markdown(found: Sequence[Row], title: str) -> str:
    lines = [f"## {escape.markdown(title)}", ""]
    if not found:
        return "\n".join([*lines, "No access found."])
    lines += ["| Principal | Object | Privilege | Via | Usable |", "|---|---|---|---|---|"]
    for r in found:
        usable = "yes" if r.usable else f"**no**: lacks {escape.markdown(r.missing_text())}"
        lines.append(
            f"| {escape.code(r.principal)} | {r.object.kind.label} {escape.code(r.object.full_name)} | {escape.markdown(r.privilege)} "
            f"| {escape.markdown(r.via_text())} | {usable} |"
        )
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
thead th{background:#f3f3f3;position:sticky;top:0}
th.obj span{display:block;font-weight:normal;color:#666;font-size:11px}
td.usable{background:#e8f5e9}td.unusable{background:#fdecea}
.why{display:block;color:#555;font-size:11px}
.filters{margin:1em 0}.filters label{margin-right:1.5em}
"""

_SCRIPT = """
(function(){
  var p=document.getElementById('principal'),k=document.getElementById('kind');
  function apply(){
    var rows=document.querySelectorAll('tbody tr');
    for(var i=0;i<rows.length;i++){rows[i].hidden=!!p.value&&rows[i].getAttribute('data-principal')!==p.value;}
    var cells=document.querySelectorAll('[data-kind]');
    for(var j=0;j<cells.length;j++){cells[j].hidden=!!k.value&&cells[j].getAttribute('data-kind')!==k.value;}
  }
  p.addEventListener('change',apply);k.addEventListener('change',apply);apply();
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'; connect-src 'none'"


def _html(found: Sequence[Row], title: str) -> str:
    who, what = principals(found), objects(found)
    cells = {(r.principal, r.object): [] for r in found}
    for r in found:
        cells[(r.principal, r.object)].append(r)
    h = escape.html_text
    kinds = sorted({o.kind.label for o in what})
    head = "".join(
        f'<th class="obj" data-kind="{h(o.kind.label)}">{h(o.full_name)}<span>{h(o.kind.label)}</span></th>'
        for o in what
    )
    body = "".join(
        f'<tr data-principal="{h(p)}"><th>{h(p)}</th>'
        + "".join(_cell(cells.get((p, o), []), o) for o in what)
        + "</tr>"
        for p in who
    )
    options = "".join(f'<option value="{h(p)}">{h(p)}</option>' for p in who)
    kind_options = "".join(f'<option value="{h(k)}">{h(k)}</option>' for k in kinds)
    unusable = sum(not r.usable for r in found)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{h(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{h(title)}</h1>"
        f"<p>{len(found)} privileges, {unusable} unusable, {len(who)} principals, {len(what)} objects.</p>"
        '<div class="filters"><label>Principal <select id="principal"><option value="">all</option>'
        f'{options}</select></label><label>Object kind <select id="kind"><option value="">all</option>'
        f"{kind_options}</select></label></div>"
        f'<table id="matrix"><thead><tr><th>principal</th>{head}</tr></thead><tbody>{body}</tbody></table>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def _cell(held: list[Row], on: Ref) -> str:
    h = escape.html_text
    kind = h(on.kind.label)
    if not held:
        return f'<td data-kind="{kind}"></td>'
    usable = all(r.usable for r in held)
    parts = []
    for r in held:
        why = r.via_text() + ("" if r.usable else f"; unusable: lacks {r.missing_text()}")
        parts.append(f'<span class="grant" title="{h(why)}">{h(r.privilege)}<span class="why">{h(why)}</span></span>')
    return f'<td data-kind="{kind}" class="{"usable" if usable else "unusable"}">{"".join(parts)}</td>'


__all__ = ["COLUMNS", "FORMATS", "render_access"]
