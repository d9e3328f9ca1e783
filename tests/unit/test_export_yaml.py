"""Exported YAML reads back through ucgov's own loader as exactly what the server holds."""

from __future__ import annotations

import pytest

from ucgov.export import _checked, _Counts, _entry
from ucgov.spec import load_texts
from ucgov.state import GrantsMode


def exported(catalog: str, fields: dict, schema: str, schema_fields: dict, model: str, model_fields: dict) -> str:
    return (
        "catalogs:\n"
        + _entry(catalog, fields, indent=2, children="schemas", has_children=True)
        + _entry(schema, schema_fields, indent=6, children="models", has_children=True)
        + _entry(model, model_fields, indent=10)
    )


@pytest.mark.parametrize(
    "name", ["true", "null", "123", "1e3", "@legacy", "-x", "yes", "on", "0x1F", "NULL", "a_b-c@d"]
)
def test_names_yaml_would_misread_come_back_as_the_same_names(name):
    text = exported(name, {}, name, {"grants": {}}, name, {})
    desired = load_texts([("x.yaml", text)], variables={})
    assert set(r.full_name for r in desired.objects) == {name, f"{name}.{name}", f"{name}.{name}.{name}"}


@pytest.mark.parametrize(
    "comment",
    [
        "plain",
        "costs ${budget}",
        "literal $${x} and $$ and $",
        "two\nlines",
        "trailing space \nline",
        "  leading",
        "'quoted' \"double\" # not a comment: colon",
        "",
        "unicode ✓ 𝔘",
        "ends with newline\n",
    ],
)
def test_comments_and_properties_come_back_exactly(comment):
    text = exported(
        "c",
        {"comment": comment.replace("${", "$${"), "properties": {"k": comment.replace("${", "$${")}},
        "s",
        {"grants": {"alice@example.com": ["USE SCHEMA"]}},
        "m",
        {"comment": comment.replace("${", "$${"), "approved": {"version": 3}},
    )
    desired = load_texts([("x.yaml", text)], variables={})
    assert desired.named("c").comment == comment
    assert desired.named("c").properties == {"k": comment}
    assert desired.named("c.s.m").comment == comment
    assert desired.named("c.s.m").approved.version == 3
    assert desired.named("c.s").grants_mode is GrantsMode.AUTHORITATIVE
    assert desired.named("c").grants_mode is GrantsMode.UNMANAGED


def test_names_the_spec_rule_refuses_are_noted_not_dropped_silently():
    counts = _Counts()
    kept = [
        b["name"] for b in _checked(iter([{"name": "ok"}, {"name": "has space"}, {"name": "x" * 256}]), "c", counts)
    ]
    assert kept == ["ok"]
    assert [n.full_name for n in counts.notes] == ["c.has space", "c." + "x" * 256]
    assert all("spec name rule" in n.reason for n in counts.notes)
