"""Access rows (``ucgov.access``) as text, JSON, CSV, markdown, or one self-contained HTML page.

Every string from the server or specs goes through ``ucgov.render.escape``. The HTML page loads
nothing: its CSS, script and data are inline, and its Content-Security-Policy lets only that CSS
and script act (by their hashes), so it shows the same offline, attached to an audit ticket, as
when it was made. Its script draws a page of the matrix at a time from the data, so an estate of
10,000 objects is a page of a few megabytes that opens in seconds.
"""

from __future__ import annotations

import base64
import csv
import hashlib
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
.filters{margin:1em 0}.filters label{margin-right:1.5em}.pages button{margin-left:.5em}
"""

# Draws the rows of one page from the data block, with DOM text nodes only (never markup), so no
# name can become an element; the filters run over every object, the page shows PAGE of them.
_SCRIPT = """
(function(){
  var d=JSON.parse(document.getElementById('access-data').textContent),PAGE=200,start=0;
  function $(id){return document.getElementById(id);}
  var p=$('principal'),k=$('kind'),q=$('name'),prev=$('prev'),next=$('next'),shown=$('showing');
  var head=document.querySelector('#matrix thead tr'),body=document.querySelector('#matrix tbody');
  var held=d.objects.map(function(){return {};}),lower=d.objects.map(function(o){return o[1].toLowerCase();});
  d.grants.forEach(function(g){(held[g[0]][g[1]]=held[g[0]][g[1]]||[]).push(g);});
  function el(tag,text,attrs){
    var e=document.createElement(tag);if(text!==null)e.textContent=text;
    for(var a in attrs)e.setAttribute(a,attrs[a]);return e;
  }
  function count(n){return String(n).replace(/\\B(?=(\\d{3})+(?!\\d))/g,',');}
  function matching(who){
    var part=q.value.toLowerCase(),found=[];
    for(var i=0;i<d.objects.length;i++){
      if(k.value&&d.kinds[d.objects[i][0]]!==k.value)continue;
      if(part&&lower[i].indexOf(part)<0)continue;
      if(who.length===1&&!held[i][who[0]])continue;
      found.push(i);
    }
    return found;
  }
  function cell(grants,who){
    var td=el('td',null,{'data-principal':who});
    if(!grants)return td;
    td.className=grants.every(function(g){return g[4];})?'usable':'unusable';
    grants.forEach(function(g){
      var why=d.texts[g[3]],s=el('span',g[2],{'class':'grant','title':why});
      s.appendChild(el('span',why,{'class':'why'}));td.appendChild(s);
    });
    return td;
  }
  function draw(){
    var who=p.value?[d.principals.indexOf(p.value)]:d.principals.map(function(_,i){return i;});
    var found=matching(who),end=Math.min(start+PAGE,found.length),rows=document.createDocumentFragment();
    head.replaceChildren(el('th','object',{}));
    who.forEach(function(w){head.appendChild(el('th',d.principals[w],{'class':'who','data-principal':d.principals[w]}));});
    found.slice(start,end).forEach(function(i){
      var o=d.objects[i],kind=d.kinds[o[0]],tr=el('tr',null,{'data-object':o[1],'data-kind':kind});
      var th=el('th',o[1],{'class':'obj'});th.appendChild(el('span',kind,{}));tr.appendChild(th);
      who.forEach(function(w){tr.appendChild(cell(held[i][w],d.principals[w]));});
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    var all=found.length===d.objects.length?'':' ('+count(d.objects.length)+' in all)';
    shown.textContent=found.length?'Showing '+count(start+1)+'\\u2013'+count(end)+' of '+count(found.length)+' objects'+all:'No object matches'+all+'.';
    prev.disabled=start===0;next.disabled=end>=found.length;
  }
  function refilter(){start=0;draw();}
  p.addEventListener('change',refilter);k.addEventListener('change',refilter);q.addEventListener('input',refilter);
  prev.addEventListener('click',function(){start=Math.max(0,start-PAGE);draw();});
  next.addEventListener('click',function(){start+=PAGE;draw();});
  draw();
})();
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# Only this page's own style and script run (by their hashes): a name that escaped the escaping
# still could not run a script or load anything.
_CSP = (
    f"default-src 'none'; style-src {_hash(_CSS)}; script-src {_hash(_SCRIPT)}; img-src 'none'; "
    "connect-src 'none'; base-uri 'none'; form-action 'none'"
)


def _html(found: Sequence[Row], title: str) -> str:
    """The page: the rows as one JSON data block, and the script that draws a page of the matrix from it.

    The matrix has one row per object (an estate has far more objects than principals) and one
    column per principal; the data holds only the cells that hold something, so its size grows with
    the rows, not with objects × principals.
    """
    who, what = principals(found), objects(found)
    h = escape.html_text
    kinds = sorted({o.kind.label for o in what})
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
        f'{kind_options}</select></label><label>Object name contains <input id="name" type="search"></label></div>'
        '<p class="pages"><span id="showing"></span><button id="prev" type="button">previous</button>'
        '<button id="next" type="button">next</button></p>'
        "<noscript><p>This page draws its table with its own inline script, which is off here; "
        "the csv and json formats hold the same rows.</p></noscript>"
        '<table id="matrix"><thead><tr></tr></thead><tbody></tbody></table>'
        f'<script type="application/json" id="access-data">{_data(found, who, what, kinds)}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def _data(found: Sequence[Row], who: list[str], what: list[Ref], kinds: list[str]) -> str:
    """The data block: principals, kinds, objects, and one [object, principal, privilege, why, usable]
    per row, each distinct explanation once in ``texts`` (thousands of rows share a few)."""
    t = escape.text
    principal_at = {p: i for i, p in enumerate(who)}
    object_at = {o: i for i, o in enumerate(what)}
    texts: dict[str, int] = {}
    grants = []
    for r in found:
        why = t(r.via_text() + ("" if r.usable else f"; unusable: lacks {r.missing_text()}"))
        at = (object_at[r.object], principal_at[r.principal])
        grants.append([*at, t(r.privilege), texts.setdefault(why, len(texts)), int(r.usable)])
    document = {
        "principals": [t(p) for p in who],
        "kinds": kinds,
        "objects": [[kinds.index(o.kind.label), t(o.full_name)] for o in what],
        "texts": list(texts),
        "grants": grants,
    }
    return escape.script_json(json.dumps(document, separators=(",", ":")))


__all__ = ["COLUMNS", "FORMATS", "render_access"]
