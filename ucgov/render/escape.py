"""One escaping function per output format, for every string that came from specs or the server.

A name, principal, comment, reason or holder can hold anything the server accepts. Printed as
it is, a newline fakes a line of the plan (``Plan: 0 to grant.``), an escape sequence moves the
cursor or erases a line at a terminal, U+202E turns the rest of the line around, and in a
pull-request comment ``<!--`` hides everything after it. So:

- ``text(s)``: one value is one line of plain characters. Control characters (C0, DEL, C1),
  line and paragraph separators and the characters that reorder text (bidi controls) are
  written as Python escapes: ``\\n``, ``\\x1b``, ``\\u202e``.
- ``markdown(s)``: ``text(s)``, then HTML and markdown syntax shown as itself: ``<`` cannot open
  a tag or a comment, ``*_[]`` and the like cannot format, ``|`` cannot end a table cell.
- ``code(s)``: the same value as inline code it cannot end early.
- ``html_text(s)``: ``text(s)`` for an HTML page, element text or quoted attribute alike.
- ``json_text(document)``: a JSON document with those characters as ``\\uXXXX`` (same data).
- ``script_json(document)``: the same, also inert inside an HTML ``<script>`` data block.
- ``lines(message)``: ucgov's own message of several lines, each through ``text``.

Renderers never build output from a raw string: every value goes through one of these.
"""

from __future__ import annotations

import html
import re

# Characters that move the cursor, end a line, or reorder the text around them.
_C0 = "\x00-\x1f"
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{_C0}{_OTHERS}]")
"""Any character that ``text`` rewrites; the spec loader refuses them too."""
_JSON_UNSAFE = re.compile(f"[{_OTHERS}]")  # json.dumps escapes C0 itself
_SCRIPT_UNSAFE = re.compile("[<>&]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_BREAKS_CODE = re.compile(r"[<`|]")


def text(value: object) -> str:
    """``value`` as one line in which no character acts: control and bidi characters as escapes."""
    return UNSAFE.sub(_visible, str(value))


def markdown(value: object) -> str:
    """``value`` as markdown that shows exactly its characters, on one line, outside a code span."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text(value), quote=False))


def code(value: object) -> str:
    """``value`` as inline code that nothing in it can end, open HTML in, or split a table cell with.

    A plain code span where that is safe; where ``value`` holds ``<``, a backtick or ``|``, an
    HTML ``<code>`` element around ``markdown(value)`` instead, which shows the same characters.
    """
    inside = text(value)
    if _BREAKS_CODE.search(inside):
        return f"<code>{markdown(value)}</code>"
    return f"`{inside}`"


def html_text(value: object) -> str:
    """``value`` as HTML text or an attribute value (quoted): ``text(value)`` with ``<>&"'`` as entities."""
    return html.escape(text(value), quote=True)


def json_text(document: str) -> str:
    """A JSON document whose unsafe characters are ``\\uXXXX`` escapes: the same strings, inert at a terminal.

    ``json.dumps`` already escapes C0; DEL, C1 and bidi characters can only be inside strings.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def script_json(document: str) -> str:
    """``json_text(document)`` that can sit inside an HTML ``<script type="application/json">``:
    ``<``, ``>`` and ``&`` as ``\\uXXXX``, so no ``</script>`` or ``<!--`` in a string ends or
    changes the block. JSON has those characters only inside strings, where the escape is the same."""
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text(document))


def lines(value: str) -> str:
    """ucgov's own multi-line message, each line passed through ``text``: its line breaks stay, nothing else acts."""
    return "\n".join(text(line) for line in value.split("\n"))


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
