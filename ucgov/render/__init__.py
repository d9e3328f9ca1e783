"""Turning a plan into text for people, markdown for pull requests, or JSON for machines."""

from __future__ import annotations

from ucgov.plan import Plan
from ucgov.render.json import render_json
from ucgov.render.markdown import render_markdown
from ucgov.render.summary import summary_line
from ucgov.render.text import render_text

FORMATS = ("text", "json", "markdown")


def render(plan: Plan, fmt: str, *, color: bool = False, title: str = "ucgov plan") -> str:
    """The plan in one of FORMATS."""
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan, title=title)
    return render_text(plan, color=color)


__all__ = ["FORMATS", "render", "render_json", "render_markdown", "render_text", "summary_line"]
