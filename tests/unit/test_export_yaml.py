"""Exported YAML reads back through ucgov's own loader as exactly what the server holds."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ucgov import planner
from ucgov.export import Note, Written, _checked, _Counts, _entry, fields_of
from ucgov.kinds import Kind
from ucgov.live import securable_of
from ucgov.spec import load_texts
from ucgov.state import GrantsMode, Ref


def exported(catalog: str, fields: dict, schema: str, schema_fields: dict, model: str, model_fields: dict) -> str:
    return (
        "catalogs:\n"
        + _entry(catalog, fields, indent=2, has_children=True)
        + "    schemas:\n"
        + _entry(schema, schema_fields, indent=6, has_children=True)
        + "        models:\n"
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


# --- tables, volumes and functions, from bodies as the 0.6.0 server answers them -------------------

NO_EXTRAS = {"type_precision": None, "type_scale": None, "type_interval_type": None}
WHERE = {"catalog_name": "c", "schema_name": "s"}


def column(name: str, type_name: str, position: int, **more) -> dict:
    spark = {"INT": "integer", "STRING": "string", "DOUBLE": "double"}.get(type_name, type_name.lower())
    nullable = more.pop("nullable", True)
    return {
        "name": name,
        "type_name": type_name,
        "type_text": type_name.lower(),
        "type_json": f'{{"name":"{name}","type":"{spark}","nullable":{str(nullable).lower()},"metadata":{{}}}}',
        "position": position,
        "nullable": nullable,
        "comment": None,
        "partition_index": None,
        **NO_EXTRAS,
        **more,
    }


def table(**more) -> dict:
    columns = [column("id", "INT", 0, nullable=False, comment="key"), column("label", "STRING", 1)]
    return {
        "name": "events",
        **WHERE,
        "table_type": "EXTERNAL",
        "data_source_format": "DELTA",
        "columns": columns,
        "storage_location": "file:///data/events",
        "comment": None,
        "properties": {},
        "table_id": "1",
        **more,
    }


def volume(volume_type: str, **more) -> dict:
    location = "file:///data/raw" if volume_type == "EXTERNAL" else "file:///managed/c/__unitystorage/volumes/9"
    return {"name": "raw", **WHERE, "volume_type": volume_type, "storage_location": location, "comment": None, **more}


def parameter(name: str, type_name: str, position: int) -> dict:
    spark = {"INT": "integer", "DOUBLE": "double"}.get(type_name, type_name.lower())
    return {
        "name": name,
        "type_name": type_name,
        "type_text": type_name.lower(),
        "type_json": f'{{"name":"{name}","type":"{spark}","nullable":true,"metadata":{{}}}}',
        "position": position,
        "parameter_mode": "IN",
        "parameter_type": "PARAM",
        "parameter_default": None,
        "comment": None,
        **NO_EXTRAS,
    }


def function(language: str = "SQL", **more) -> dict:
    python = language != "SQL"
    return {
        "name": "score",
        **WHERE,
        "input_params": {"parameters": [parameter("x", "INT", 0), parameter("w", "DOUBLE", 1)]},
        "data_type": "DOUBLE",
        "full_data_type": "DOUBLE",
        "return_params": None,
        "routine_body": "EXTERNAL" if python else "SQL",
        "routine_definition": "return x * w" if python else "x * w",
        "external_language": language.lower() if python else None,
        "parameter_style": "S",
        "is_deterministic": True,
        "sql_data_access": "NO_SQL" if python else "CONTAINS_SQL",
        "is_null_call": False,
        "security_type": "DEFINER",
        "specific_name": "score",
        "comment": None,
        "properties": None,
        **more,
    }


def own(kind: Kind) -> dict:
    """alice holds the kind's own privileges: SELECT and MODIFY on a table, READ VOLUME, EXECUTE."""
    return {"alice@example.com": frozenset(kind.spec.privileges)}


def spec_of(kind: Kind, body: dict, grants=None) -> tuple[str, dict, list[Note]]:
    """The spec export writes for one object inside schema c.s, its fields and its notes."""
    notes: list[Note] = []
    fields = fields_of(kind, f"c.s.{body['name']}", body, grants or {}, [], users=None, notes=notes)
    text = (
        "catalogs:\n"
        + _entry("c", {}, indent=2, has_children=True)
        + "    schemas:\n"
        + _entry("s", {}, indent=6, has_children=True)
        + f"        {kind.spec.spec_key}:\n"
        + _entry(body["name"], fields, indent=10)
    )
    return text, fields, notes


def changes(kind: Kind, body: dict, grants=None) -> list:
    """What plan would do with the export of this one live object: problems, field and grant changes."""
    text, _, _ = spec_of(kind, body, grants)
    desired = load_texts([("x.yaml", text)], variables={})
    want = desired.get(Ref(kind, f"c.s.{body['name']}"))
    have = securable_of(want.kind, want.full_name, body, grants)
    return [
        *planner.definition_problems(desired, want, have),
        *planner.object_changes_for(want, have),
        *planner.grant_changes_for(want, have),
    ]


EXPRESSIBLE = [
    (Kind.TABLE, table(comment="events", properties={"owner": "ml"})),
    (Kind.VOLUME, volume("EXTERNAL", comment="raw files")),
    (Kind.VOLUME, volume("MANAGED")),
    (Kind.FUNCTION, function("SQL", comment="weighted")),
    (Kind.FUNCTION, function("PYTHON")),
    (Kind.FUNCTION, function("SQL", input_params=None, routine_definition="costs ${budget}")),
]


@pytest.mark.parametrize(("kind", "body"), EXPRESSIBLE, ids=["table", "external", "managed", "sql", "python", "noargs"])
def test_an_exported_table_volume_or_function_plans_nothing_and_keeps_its_definition_and_grants(kind, body):
    text, fields, notes = spec_of(kind, body, own(kind))

    assert notes == []
    assert changes(kind, body, own(kind)) == []
    desired = load_texts([("x.yaml", text)], variables={})
    want = desired.get(Ref(kind, f"c.s.{body['name']}"))
    assert want.grants == own(kind) and want.grants_mode is GrantsMode.AUTHORITATIVE
    assert {k: want.value(k) for k in want.definition} == {k: kind.spec.definition(body)[k] for k in want.definition}
    needed = kind.spec.needed_to_create
    assert all(want.value(f) is not None for f in needed)  # were it deleted, plan could make it again


def test_a_table_is_written_as_a_person_writes_it():
    _, fields, _ = spec_of(Kind.TABLE, table())

    assert fields["table_type"] == "EXTERNAL" and fields["data_source_format"] == "DELTA"
    assert fields["storage_location"] == "file:///data/events"
    assert fields["columns"] == [
        {"name": "id", "type": "INT", "nullable": False, "comment": "key"},
        {"name": "label", "type": "STRING"},
    ]
    assert "comment" not in fields and "properties" not in fields


def test_a_managed_volume_leaves_its_location_to_the_server_an_external_one_keeps_it():
    assert spec_of(Kind.VOLUME, volume("MANAGED"))[1] == {"volume_type": "MANAGED", "grants": {}}
    written = spec_of(Kind.VOLUME, volume("EXTERNAL"))[1]
    assert (written["volume_type"], written["storage_location"]) == ("EXTERNAL", "file:///data/raw")


def test_a_function_is_written_with_parameters_returns_language_and_body():
    _, fields, _ = spec_of(Kind.FUNCTION, function("PYTHON"))

    assert fields == {
        "parameters": [{"name": "x", "type": "INT"}, {"name": "w", "type": "DOUBLE"}],
        "returns": "DOUBLE",
        "language": "PYTHON",
        "body": "return x * w",
        "grants": {},
    }


def test_catalog_and_schema_storage_roots_are_written_when_set():
    body = {"name": "c", "comment": "ml", "storage_root": "file:///managed/c", "properties": {"team": "ml"}}
    notes: list[Note] = []
    fields = fields_of(Kind.CATALOG, "c", body, {}, [], users=None, notes=notes)
    assert fields == {"comment": "ml", "properties": {"team": "ml"}, "storage_root": "file:///managed/c", "grants": {}}
    assert fields_of(Kind.SCHEMA, "c.s", {"name": "s", **WHERE}, {}, [], users=None, notes=notes) == {"grants": {}}
    assert notes == []


def broken(body: dict, path: tuple, value) -> dict:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


UNSAYABLE = [
    (Kind.TABLE, table(table_type="MANAGED"), "a MANAGED table is made through a staging table"),
    (
        Kind.TABLE,
        broken(broken(table(), ("columns", 1, "type_name"), "DECIMAL"), ("columns", 1, "type_text"), "decimal(10,2)"),
        "column 'label' is decimal(10,2), a type specs cannot write",
    ),
    (Kind.TABLE, broken(table(), ("columns", 0, "partition_index"), 0), "column 'id' partitions it"),
    (Kind.TABLE, table(columns=[]), "it has no columns"),
    (Kind.TABLE, table(table_type="VIEW"), "it is a VIEW table"),
    (
        Kind.TABLE,
        table(data_source_format="DELTASHARING"),
        "data_source_format is 'DELTASHARING', which a spec cannot write",
    ),
    (Kind.FUNCTION, function("JAVA"), "its language is java; specs write SQL or PYTHON"),
    (Kind.FUNCTION, function(data_type="DECIMAL"), "it takes or returns DECIMAL"),
    (Kind.FUNCTION, function(is_deterministic=False), "would differ in is_deterministic"),
    (
        Kind.FUNCTION,
        broken(function(), ("input_params", "parameters", 1, "parameter_default"), "1.0"),
        "parameter 'w' parameter_default",
    ),
    (Kind.FUNCTION, function(return_params={"parameters": [parameter("y", "INT", 0)]}), "it returns a table"),
    (Kind.FUNCTION, function("PYTHON", routine_definition="return 1\r\n"), "holds the character '\\r'"),
]


@pytest.mark.parametrize(("kind", "body", "why"), UNSAYABLE, ids=lambda v: v if isinstance(v, str) else None)
def test_a_definition_no_spec_can_say_is_left_out_noted_and_the_object_stays_governed(kind, body, why):
    text, fields, notes = spec_of(kind, body, own(kind))

    assert not set(fields) & {f.name for f in kind.spec.definition_fields}
    [note] = notes
    assert note.full_name == f"c.s.{body['name']}"
    assert note.reason.startswith("definition left out: ") and why in note.reason, note.reason
    assert "governed as it exists (grants kept), never created" in note.reason
    assert set(fields["grants"]["alice@example.com"]) == kind.spec.privileges
    assert changes(kind, body, own(kind)) == []


def test_what_the_loader_would_refuse_is_left_unmanaged_with_a_note():
    long = "x" * 300
    _, fields, notes = spec_of(Kind.VOLUME, volume("EXTERNAL", comment=long))
    assert "comment" not in fields and fields["volume_type"] == "EXTERNAL"
    assert [n.reason for n in notes] == [
        "comment left unmanaged (no `comment:` key): comment is longer than the 255 characters a spec may write"
    ]
    _, fields, notes = spec_of(Kind.TABLE, table(properties={"k": "bell\x07"}))
    assert "properties" not in fields and fields["columns"]
    assert "properties holds the character '\\x07'" in notes[0].reason


def test_a_functions_properties_are_noted_as_left_out():
    _, fields, notes = spec_of(Kind.FUNCTION, function(properties='{"team":"ml"}'))
    assert "properties" not in fields and fields["body"] == "x * w"
    assert [n.reason for n in notes] == ["properties left out: specs cannot declare a function's properties"]


def test_written_counts_every_kind_inside_the_catalog():
    counts = {Kind.SCHEMA: 1, Kind.MODEL: 230, Kind.TABLE: 2, Kind.FUNCTION: 1}
    assert Written(None, "c", counts).summary == "1 schema, 230 models, 2 tables, 1 function"
    assert Written(None, "c", {}).summary == "0 schemas"


def test_a_comment_counted_in_utf16_units_as_the_loader_counts_it_is_left_unmanaged_when_too_long():
    _, fields, notes = spec_of(Kind.VOLUME, volume("MANAGED", comment="𝔘" * 200))  # 400 UTF-16 units
    assert "comment" not in fields
    assert "comment is longer than the 255 characters" in notes[0].reason


# --- whatever the server holds, the export loads and plans nothing ---------------------------------

anything = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
types = st.sampled_from(["INT", "STRING", "DOUBLE", "DECIMAL", "ARRAY", "int", "", None])


@st.composite
def hostile_tables(draw) -> dict:
    columns = [
        column(
            draw(anything), draw(types) or "INT", i, comment=draw(st.none() | anything), nullable=draw(st.booleans())
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return table(
        comment=draw(st.none() | anything),
        properties=draw(st.dictionaries(anything, anything, max_size=2)),
        storage_location=draw(st.none() | anything),
        data_source_format=draw(st.sampled_from(["DELTA", "PARQUET", "delta", "UNKNOWN", None])),
        columns=columns,
    )


@st.composite
def hostile_functions(draw) -> dict:
    return function(
        draw(st.sampled_from(["SQL", "PYTHON", "python", "JAVA"])),
        routine_definition=draw(anything),
        comment=draw(st.none() | anything),
        data_type=draw(types),
    )


@st.composite
def hostile_volumes(draw) -> dict:
    kind = draw(st.sampled_from(["MANAGED", "EXTERNAL", "OTHER"]))
    return volume(kind, comment=draw(st.none() | anything), storage_location=draw(st.none() | anything))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.tuples(st.just(Kind.TABLE), hostile_tables()),
        st.tuples(st.just(Kind.FUNCTION), hostile_functions()),
        st.tuples(st.just(Kind.VOLUME), hostile_volumes()),
    )
)
def test_whatever_the_server_holds_the_export_loads_and_plans_no_changes(found):
    kind, body = found
    assert changes(kind, body, own(kind)) == []  # load_texts raises on anything the loader refuses
    _, fields, notes = spec_of(kind, body, own(kind))
    said = " | ".join(n.reason for n in notes)  # and nothing is left out in silence
    if body.get("comment") is not None and "comment" not in fields:
        assert "comment left unmanaged" in said
    if body.get("properties") and "properties" not in fields:
        assert "properties left" in said
    if not set(fields) & {f.name for f in kind.spec.definition_fields}:
        assert "definition left out" in said


def test_a_note_says_grants_are_kept_only_when_they_are():
    notes: list[Note] = []
    grants = {"ghost@example.com": frozenset({"SELECT"})}
    fields = fields_of(
        Kind.TABLE, "c.s.events", table(table_type="MANAGED"), grants, [], users=frozenset(), notes=notes
    )
    assert "grants" not in fields
    assert [n.reason.split(":")[0] for n in notes] == ["definition left out", "grants left unmanaged (no `grants"]
    assert "grants kept" not in notes[0].reason
