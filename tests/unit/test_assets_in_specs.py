"""Tables, volumes and functions in specs, beside models: governed if they exist, created from a full
definition, never changed in silence where the server cannot change them, pruned only where specs
could make them again, and kept apart from a model of the same name."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ucgov.errors import SpecError
from ucgov.kinds.table import SPARK_TYPES
from ucgov.plan import Action
from ucgov.planfile import SavedPlan, dumps, loads
from ucgov.planner import diff
from ucgov.render import render
from ucgov.spec import load_texts
from ucgov.state import DesiredState, Kind, LiveState, Ref, Securable

ALICE, BOB = "alice@example.com", "bob@example.com"
# the catalog has a storage_root, so managed volumes can be made inside it
ROOTED = {"storage_root": "file:///srv/uc/ml"}
BASE = (
    Securable(Kind.CATALOG, "ml", properties={}, definition=ROOTED),
    Securable(Kind.SCHEMA, "ml.fraud", properties={}),
)


def server(*objects: Securable, undeclared: tuple[Securable, ...] = (), holding: tuple[Ref, ...] = ()) -> LiveState:
    """The server holding ``BASE`` and ``objects``, ``undeclared`` (what no spec declares, read where prune
    deletes) and ``holding`` (other undeclared objects), each listed in its parent as the live reader lists them."""
    children: dict[str, list[Ref]] = {}
    for ref in [o.ref for o in (*BASE, *objects, *undeclared)] + list(holding):
        if "." in ref.full_name:
            children.setdefault(ref.full_name.rsplit(".", 1)[0], []).append(ref)
    return LiveState(
        objects={o.ref: o for o in (*BASE, *objects)},
        children={parent: tuple(sorted(refs, key=lambda r: r.full_name)) for parent, refs in children.items()},
        undeclared={o.ref: o for o in undeclared},
    )


def problems(raised: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return [str(p) for p in raised.value.problems]


def table(name: str, *, comment: str | None = None, **fields) -> Securable:
    body = {"table_type": "EXTERNAL", "data_source_format": "DELTA", "storage_location": f"s3://b/{name}"} | fields
    definition = Kind.TABLE.spec.definition(body)
    return Securable(Kind.TABLE, f"ml.fraud.{name}", comment=comment, properties={}, definition=definition)


def volume(name: str, *, comment: str | None = None, managed: bool = False, at: str = "") -> Securable:
    """A live volume: an EXTERNAL one's files where it was registered from, a MANAGED one's where the server chose."""
    at = at or (f"file:///srv/uc/__unitystorage/volumes/{name}" if managed else f"s3://b/{name}")
    body = {"volume_type": "MANAGED" if managed else "EXTERNAL", "storage_location": at}
    return Securable(
        Kind.VOLUME,
        f"ml.fraud.{name}",
        comment=comment,
        definition=Kind.VOLUME.spec.definition(body),
        storage_location=Kind.VOLUME.spec.files_at(body),
    )


# -- declared under a schema -------------------------------------------------------------------

ISSUE_EXAMPLE = """
catalogs:
  ml:
    schemas:
      fraud:
        tables:
          transactions:            # an existing table: governed, not created
            grants: {etl-bot@example.com: [SELECT, MODIFY]}
          events:
            storage_location: s3://bucket/events
            columns:
              - {name: id, type: long, nullable: false}
              - {name: what, type: string, comment: what happened}
        volumes:
          raw_files:               # created if missing
            volume_type: EXTERNAL  # or MANAGED (default)
            storage_location: s3://bucket/raw   # EXTERNAL only
            comment: Raw files
            grants: {alice@example.com: [READ VOLUME]}
        functions:
          risk_bucket:             # an existing function: governed
            grants: {serving-app@example.com: [EXECUTE]}
"""


def test_a_schema_declares_tables_volumes_and_functions_each_of_its_kind(load_spec):
    desired = load_spec(ISSUE_EXAMPLE)

    transactions = desired.get(Ref(Kind.TABLE, "ml.fraud.transactions"))
    assert transactions.definition is None  # governed as it is
    assert transactions.grants == {"etl-bot@example.com": {"SELECT", "MODIFY"}}
    raw = desired.get(Ref(Kind.VOLUME, "ml.fraud.raw_files"))
    assert raw.definition == {"volume_type": "EXTERNAL", "storage_location": "s3://bucket/raw"}
    assert raw.comment == "Raw files" and raw.grants == {ALICE: {"READ VOLUME"}}
    assert desired.get(Ref(Kind.FUNCTION, "ml.fraud.risk_bucket")).grants == {"serving-app@example.com": {"EXECUTE"}}


def test_a_tables_columns_are_held_in_the_specs_shape_with_the_defaults_filled_in(load_spec):
    events = load_spec(ISSUE_EXAMPLE).get(Ref(Kind.TABLE, "ml.fraud.events"))

    assert events.definition == {
        "storage_location": "s3://bucket/events",
        "columns": [
            {"name": "id", "type": "LONG", "nullable": False, "comment": None},
            {"name": "what", "type": "STRING", "nullable": True, "comment": "what happened"},
        ],
    }


# -- created only from a full definition -------------------------------------------------------


def test_a_declared_table_or_function_that_does_not_exist_and_has_no_definition_is_an_error_at_its_name(
    load_spec,
):
    live = server(volume("raw_files", comment="Raw files", at="s3://bucket/raw"))  # events would be created

    with pytest.raises(SpecError) as raised:
        diff(load_spec(ISSUE_EXAMPLE), live)

    assert problems(raised) == [
        "specs/team.yaml:7:11: table ml.fraud.transactions does not exist on the server; to have ucgov create it, "
        "give its columns (or create it another way and declare it to govern it)",
        "specs/team.yaml:21:11: function ml.fraud.risk_bucket does not exist on the server; to have ucgov create it, "
        "give its returns and body (or create it another way and declare it to govern it)",
    ]


RISK_BUCKET = Securable(
    Kind.FUNCTION,
    "ml.fraud.risk_bucket",
    definition={"parameters": [], "returns": "STRING", "language": "SQL", "body": "'low'"},
)


def created(desired: DesiredState, ref: Ref, live: LiveState | None = None) -> dict:
    """The POST body apply sends to create ``ref``, from the plan's create."""
    [change] = [c for c in diff(desired, live or server()).changes if c.address.ref == ref]
    assert change.action is Action.CREATE
    return ref.kind.spec.create_body(ref.full_name, change.payload.after.as_dict())


def test_a_table_with_columns_is_created_as_the_server_takes_it(load_spec):
    desired = load_spec(ISSUE_EXAMPLE)
    live = server(table("transactions"), volume("raw_files", comment="Raw files", at="s3://bucket/raw"), RISK_BUCKET)
    body = created(desired, Ref(Kind.TABLE, "ml.fraud.events"), live)

    assert {k: v for k, v in body.items() if k != "columns"} == {
        "name": "events",
        "catalog_name": "ml",
        "schema_name": "fraud",
        "table_type": "EXTERNAL",
        "data_source_format": "DELTA",
        "storage_location": "s3://bucket/events",
    }
    assert body["columns"] == [
        {
            "name": "id",
            "type_name": "LONG",
            "type_text": "long",
            "position": 0,
            "nullable": False,
            "type_json": '{"name":"id","type":"long","nullable":false,"metadata":{}}',
        },
        {
            "name": "what",
            "type_name": "STRING",
            "type_text": "string",
            "position": 1,
            "nullable": True,
            "type_json": '{"name":"what","type":"string","nullable":true,"metadata":{}}',
            "comment": "what happened",
        },
    ]


FUNCTION = """
catalogs:
  ml:
    schemas:
      fraud:
        functions:
          risk_bucket:
            comment: Buckets a score
            parameters: [{name: score, type: double}, {name: at, type: TIMESTAMP}]
            returns: string
            body: CASE WHEN score > 0.9 THEN 'high' ELSE 'low' END
"""


def test_a_function_with_returns_and_body_is_created_nested_under_function_info(load_spec):
    body = created(load_spec(FUNCTION), Ref(Kind.FUNCTION, "ml.fraud.risk_bucket"))

    info = body.pop("function_info")
    assert body == {}
    assert (info["name"], info["catalog_name"], info["schema_name"]) == ("risk_bucket", "ml", "fraud")
    assert (info["comment"], info["data_type"], info["routine_body"]) == ("Buckets a score", "STRING", "SQL")
    assert info["routine_definition"] == "CASE WHEN score > 0.9 THEN 'high' ELSE 'low' END"
    assert [(p["name"], p["type_name"], p["type_text"], p["position"]) for p in info["input_params"]["parameters"]] == [
        ("score", "DOUBLE", "double", 0),
        ("at", "TIMESTAMP", "timestamp", 1),
    ]


MANAGED_TABLE = """
catalogs:
  ml:
    schemas:
      fraud:
        tables:
          events:
            table_type: MANAGED
            columns: [{name: id, type: LONG}]
"""


def test_a_managed_table_is_governed_if_it_exists_and_never_planned_for_a_create_that_would_fail(load_spec):
    live = table("events", table_type="MANAGED", columns=[{"name": "id", "type_name": "LONG", "position": 0}])

    with pytest.raises(SpecError) as raised:
        diff(load_spec(MANAGED_TABLE), server())

    assert problems(raised) == [
        "specs/team.yaml:8:25: table ml.fraud.events is MANAGED: ucgov cannot create a managed table (the 0.6.0 "
        "server makes one only from a staging table an engine writes); create it with your engine and declare it "
        "to govern it, or declare an EXTERNAL table with a storage_location"
    ]
    assert diff(load_spec(MANAGED_TABLE), server(live)).empty


# -- create-only fields are never changed in silence -------------------------------------------

VOLUME = """
catalogs:
  ml:
    schemas:
      fraud:
        volumes:
          raw:
            volume_type: EXTERNAL
            storage_location: s3://b/raw
            comment: Raw files
"""
TABLE = """
catalogs:
  ml:
    schemas:
      fraud:
        tables:
          events:
            comment: Events
            storage_location: s3://b/events
            columns:
              - {name: id, type: LONG}
"""
LIVE_EVENTS = table(
    "events", comment="Events", columns=[{"name": "id", "type_name": "LONG", "position": 0, "nullable": True}]
)


@pytest.mark.parametrize(
    ("spec", "live", "where", "said"),
    [
        pytest.param(
            VOLUME.replace("s3://b/raw", "s3://b/moved"),
            volume("raw", comment="Raw files"),
            "9:31",
            'volume ml.fraud.raw: storage_location cannot change once it is created (the server has "s3://b/raw", '
            'the spec says "s3://b/moved")',
            id="volume-location",
        ),
        pytest.param(
            VOLUME.replace("EXTERNAL", "MANAGED").replace("            storage_location: s3://b/raw\n", ""),
            volume("raw", comment="Raw files"),
            "8:26",
            'volume ml.fraud.raw: volume_type cannot change once it is created (the server has "EXTERNAL", '
            'the spec says "MANAGED")',
            id="volume-type",
        ),
        pytest.param(
            TABLE.replace("type: LONG", "type: INT"),
            LIVE_EVENTS,
            "11:15",
            "table ml.fraud.events: columns cannot change once it is created (the server has "
            '[{"name": "id", "type": "LONG", "nullable": true, "comment": null}], the spec says '
            '[{"name": "id", "type": "INT", "nullable": true, "comment": null}])',
            id="table-columns",
        ),
        pytest.param(
            TABLE,
            replace(LIVE_EVENTS, comment=None),
            "8:22",
            'table ml.fraud.events: comment cannot change once it is created (the server has none, the spec says "Events")',
            id="table-comment",
        ),
        pytest.param(
            FUNCTION,
            Securable(
                Kind.FUNCTION,
                "ml.fraud.risk_bucket",
                comment="Buckets a score",
                definition={
                    "parameters": [{"name": "score", "type": "DOUBLE"}, {"name": "at", "type": "TIMESTAMP"}],
                    "returns": "STRING",
                    "language": "SQL",
                    "body": "CASE WHEN score > 0.5 THEN 'high' ELSE 'low' END",
                },
            ),
            "11:19",
            "function ml.fraud.risk_bucket: body cannot change once it is created (the server has "
            "\"CASE WHEN score > 0.5 THEN 'high' ELSE 'low' END\", the spec says "
            "\"CASE WHEN score > 0.9 THEN 'high' ELSE 'low' END\")",
            id="function-body",
        ),
    ],
)
def test_a_create_only_field_that_differs_from_live_is_refused_in_one_sentence_at_its_line(
    load_spec, spec, live, where, said
):
    with pytest.raises(SpecError) as raised:
        diff(load_spec(spec), server(live))

    [problem] = problems(raised)
    assert problem == (
        f"specs/team.yaml:{where}: {said}; write the live value, or delete it and let ucgov create it anew"
    )


def test_a_volumes_comment_is_changed_in_place(load_spec):
    plan = diff(load_spec(VOLUME), server(volume("raw", comment="Old files")))

    [change] = plan.changes
    assert (change.action, change.address.ref) == (Action.UPDATE, Ref(Kind.VOLUME, "ml.fraud.raw"))
    assert change.payload.before.as_dict() == {"comment": "Old files"}
    assert change.payload.after.as_dict() == {"comment": "Raw files"}


# -- a model and a volume of one name are two objects ------------------------------------------

TWINS = """
catalogs:
  ml:
    schemas:
      fraud:
        models:
          scores:
            grants: {alice@example.com: [EXECUTE]}
        volumes:
          scores:
            grants: {alice@example.com: [READ VOLUME]}
"""
MODEL_SCORES, VOLUME_SCORES = Ref(Kind.MODEL, "ml.fraud.scores"), Ref(Kind.VOLUME, "ml.fraud.scores")


def twins_live() -> LiveState:
    model = Securable(Kind.MODEL, "ml.fraud.scores", grants={BOB: frozenset({"EXECUTE"})})
    files = volume("scores", managed=True)
    return server(model, replace(files, grants={ALICE: frozenset({"READ VOLUME"})}))


def test_a_model_and_a_volume_of_the_same_name_keep_separate_grants(load_spec):
    desired = load_spec(TWINS)
    plan = diff(desired, twins_live())

    with pytest.raises(LookupError, match="ml.fraud.scores names 2 objects"):
        desired.named("ml.fraud.scores")
    assert [(c.action, c.address.ref, c.address.principal) for c in plan.changes] == [
        (Action.GRANT, MODEL_SCORES, ALICE),
        (Action.REVOKE, MODEL_SCORES, BOB),
    ]  # the volume already grants alice READ VOLUME: nothing to do there
    assert set(plan.objects) >= {MODEL_SCORES, VOLUME_SCORES}


def test_plans_grants_modes_and_plan_files_keep_a_model_and_a_volume_of_one_name_apart(load_spec):
    plan = diff(load_spec(TWINS), server())

    assert [(c.action, c.address.ref) for c in plan.changes if c.action is Action.CREATE] == [
        (Action.CREATE, MODEL_SCORES),
        (Action.CREATE, VOLUME_SCORES),
    ]
    granted = {c.address.ref: c.payload.privileges for c in plan.changes if c.action is Action.GRANT}
    assert granted == {MODEL_SCORES: ("EXECUTE",), VOLUME_SCORES: ("READ VOLUME",)}
    modes = json.loads(render(plan, "json"))["grants_modes"]
    assert {"address": "ml.fraud.scores", "kind": "model", "mode": "authoritative"} in modes
    assert {"address": "ml.fraud.scores", "kind": "volume", "mode": "authoritative"} in modes
    back = loads(dumps(SavedPlan(plan=plan, url="http://uc.example.com")), source="plan.json").plan
    assert (back.changes, back.objects, back.grants_modes) == (plan.changes, plan.objects, plan.grants_modes)


# -- bad definitions are errors at file:line --------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        pytest.param(
            "volumes:\n  raw: {volume_type: EXTERNAL}\n",
            "7:11: volume ml.fraud.raw is EXTERNAL, so it needs a storage_location: where its files are",
            id="external-volume-without-location",
        ),
        pytest.param(
            "volumes:\n  raw: {comment: Raw, storage_location: s3://b/raw}\n",
            "7:31: volume ml.fraud.raw is MANAGED (unless volume_type says EXTERNAL), so it takes no storage_location: "
            "the server puts its files under the schema's or catalog's storage_root",
            id="managed-volume-with-location",
        ),
        pytest.param(
            "tables:\n  events:\n    columns: [{name: id, type: LONG}]\n",
            "7:11: table ml.fraud.events is EXTERNAL (table_type's default), so creating it from columns "
            "needs a storage_location: where its data is",
            id="external-table-without-location",
        ),
        pytest.param(
            "tables:\n  events:\n    storage_location: s3://b/e\n    columns: [{name: id, type: VARCHAR}]\n",
            "9:40: catalogs/ml/schemas/fraud/tables/events/columns/0/type must be one of: BOOLEAN, BYTE, SHORT, "
            "INT, LONG, FLOAT, DOUBLE, DATE, TIMESTAMP, TIMESTAMP_NTZ, STRING, BINARY (in upper or lower case), "
            "not 'VARCHAR'",
            id="unknown-column-type",
        ),
        pytest.param(
            "tables:\n  events:\n    storage_location: s3://b/e\n    columns: [{type: INT}]\n",
            "9:23: catalogs/ml/schemas/fraud/tables/events/columns/0 is missing the required key 'name'",
            id="column-without-a-name",
        ),
        pytest.param(
            "tables:\n  events:\n    storage_location: s3://b/e\n    columns: [{name: id, type: INT}, {name: ID, type: LONG}]\n",
            "9:53: table ml.fraud.events has two columns named 'ID' (names ignore case)",
            id="two-columns-of-one-name",
        ),
        pytest.param(
            "functions:\n  f: {returns: INT, body: x, parameters: [{name: x, type: INT}, {name: x, type: INT}]}\n",
            "7:80: function ml.fraud.f has two parameters named 'x' (names ignore case)",
            id="two-parameters-of-one-name",
        ),
        pytest.param(
            "volumes:\n  raw: {volume_type: EXTERNAL, storage_location: ''}\n",
            "7:58: catalogs/ml/schemas/fraud/volumes/raw/storage_location must not be empty",
            id="empty-location",
        ),
    ],
)
def test_a_bad_definition_is_one_clear_sentence_at_its_line(spec, said):
    text = "\ncatalogs:\n  ml:\n    schemas:\n      fraud:\n" + "".join(
        f"        {line}\n" for line in spec.splitlines()
    )

    with pytest.raises(SpecError) as raised:
        load_texts([("specs/team.yaml", text)], variables={})

    assert problems(raised) == [f"specs/team.yaml:{said}"]


# -- each kind takes its own privileges; a parent grants them by inheritance ------------------


def test_a_privilege_of_another_kind_is_a_spec_error_at_its_line(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(
            """
            catalogs:
              ml:
                schemas:
                  fraud:
                    tables:
                      events: {grants: {alice@example.com: [SELECT, READ VOLUME]}}
                    volumes:
                      raw: {grants: {alice@example.com: [READ VOLUME, SELECT]}}
            """
        )

    assert problems(raised) == [
        "specs/team.yaml:7:57: privilege 'READ VOLUME' cannot be granted on a table (allowed: MODIFY, SELECT), "
        "on ml.fraud.events",
        "specs/team.yaml:9:59: privilege 'SELECT' cannot be granted on a volume (allowed: READ VOLUME), "
        "on ml.fraud.raw",
    ]


def test_select_read_volume_and_execute_on_a_schema_or_catalog_reach_what_is_inside(load_spec):
    desired = load_spec(
        """
        catalogs:
          ml:
            grants: {alice@example.com: [USE CATALOG, SELECT, READ VOLUME, EXECUTE]}
            schemas:
              fraud:
                grants: {alice@example.com: [USE SCHEMA, SELECT, READ VOLUME, EXECUTE]}
        """
    )

    inherited = {"SELECT", "READ VOLUME", "EXECUTE"}
    assert desired.get(Ref(Kind.CATALOG, "ml")).grants[ALICE] >= inherited
    assert desired.get(Ref(Kind.SCHEMA, "ml.fraud")).grants[ALICE] >= inherited


# -- prune deletes only what specs could make again --------------------------------------------

PRUNED = """
settings: {prune: true}
catalogs:
  ml:
    schemas:
      fraud: {}
"""


def deletes(plan) -> list[tuple[Ref, str]]:
    return [(c.address.ref, c.reason) for c in plan.changes if c.action is Action.DELETE]


def test_prune_deletes_an_undeclared_volume_and_says_a_managed_ones_files_go_with_it(load_spec):
    live = server(undeclared=(volume("landing", managed=True), volume("mirror")))

    gone = dict(deletes(diff(load_spec(PRUNED), live)))

    assert list(gone) == [Ref(Kind.VOLUME, "ml.fraud.landing"), Ref(Kind.VOLUME, "ml.fraud.mirror")]
    assert (
        "its files at file:///srv/uc/__unitystorage/volumes/landing go with it"
        in gone[Ref(Kind.VOLUME, "ml.fraud.landing")]
    )
    assert "files" not in gone[Ref(Kind.VOLUME, "ml.fraud.mirror")]  # an EXTERNAL volume's files stay where they are


def test_prune_never_deletes_an_undeclared_table_or_function_and_keeps_the_schema_holding_them(load_spec):
    scratch = Securable(Kind.SCHEMA, "ml.scratch", properties={})
    model = Securable(Kind.MODEL, "ml.scratch.tmp")
    kept = (Ref(Kind.TABLE, "ml.scratch.events"), Ref(Kind.FUNCTION, "ml.scratch.score"))
    # even were the undeclared table ml.fraud.trades read for prune, it is not deleted
    live = server(undeclared=(scratch, model, table("trades")), holding=kept)

    plan = diff(load_spec(PRUNED), live)

    assert [ref for ref, _ in deletes(plan)] == [model.ref]
    assert (
        "schema ml.scratch is kept: it holds table ml.scratch.events and function ml.scratch.score, "
        "which ucgov does not delete" in plan.warnings
    )


def test_a_schema_holding_only_an_undeclared_model_and_volume_goes_with_them_children_first(load_spec):
    scratch = Securable(Kind.SCHEMA, "ml.scratch", properties={})
    model = Securable(Kind.MODEL, "ml.scratch.scores")
    files = Securable(Kind.VOLUME, "ml.scratch.scores", definition={"volume_type": "EXTERNAL"})
    live = server(undeclared=(scratch, model, files))

    plan = diff(load_spec(PRUNED), live)

    assert [ref for ref, _ in deletes(plan)] == [model.ref, files.ref, scratch.ref]
    schema_delete = plan.changes[-1]
    assert schema_delete.payload.children == (model.ref, files.ref)
    assert "not empty: 1 model and 1 volume inside are deleted first" in schema_delete.reason


# -- what ucgov creates plans "No changes" afterwards ------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
TYPES = st.sampled_from(sorted(SPARK_TYPES)).flatmap(lambda t: st.sampled_from([t, t.lower()]))
# any text a spec may hold: the loader refuses control characters and those that reorder text
WORDS = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Cn", "Zl", "Zp")), max_size=20)
LOCATIONS = NAMES.map(lambda n: f"s3://bucket/{n}")


def _optional(**fields) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=fields)


COLUMNS = st.lists(
    st.fixed_dictionaries({"name": NAMES, "type": TYPES}, optional={"nullable": st.booleans(), "comment": WORDS}),
    min_size=1,
    max_size=4,
    unique_by=lambda c: c["name"],
)
TABLES = st.fixed_dictionaries(
    {"columns": COLUMNS, "storage_location": LOCATIONS},
    optional={"table_type": st.just("EXTERNAL"), "data_source_format": st.sampled_from(["DELTA", "PARQUET", "CSV"])},
).map(lambda d: ("tables", d))
VOLUMES = st.one_of(
    st.fixed_dictionaries({"volume_type": st.just("EXTERNAL"), "storage_location": LOCATIONS}),
    _optional(volume_type=st.just("MANAGED")),
).map(lambda d: ("volumes", d))
FUNCTIONS = st.fixed_dictionaries(
    {"returns": TYPES, "body": WORDS.filter(str.strip)},
    optional={
        "parameters": st.lists(
            st.fixed_dictionaries({"name": NAMES, "type": TYPES}), max_size=3, unique_by=lambda p: p["name"]
        ),
        "language": st.sampled_from(["SQL", "sql", "PYTHON", "python"]),
    },
).map(lambda d: ("functions", d))


def echoed(kind: Kind, body: dict) -> dict:
    """The create body as the server answers it: a function unwrapped, type_text lower-case, its own fields added."""
    answer = json.loads(json.dumps(body.get(kind.spec.create_wrapper) if kind.spec.create_wrapper else body))
    for column in [*answer.get("columns", ()), *answer.get("input_params", {}).get("parameters", ())]:
        column["type_text"] = column["type_text"].lower()
    if answer.get("storage_location") is None:  # managed: the server chooses where
        answer["storage_location"] = f"file:///srv/uc/__unitystorage/{kind.spec.collection}/{answer['name']}"
    return answer | {"full_name": f"ml.fraud.{answer['name']}", "created_at": 1}


@given(st.one_of(TABLES, VOLUMES, FUNCTIONS))
def test_whatever_ucgov_creates_reads_back_as_the_definition_the_spec_wrote(declared):
    key, definition = declared
    spec = {"catalogs": {"ml": {"schemas": {"fraud": {key: {"made": definition}}}}}}
    desired = load_texts([("specs/team.yaml", json.dumps(spec, ensure_ascii=False))], variables={})
    [ref] = [r for r in desired.objects if r.full_name == "ml.fraud.made"]
    spec_of = ref.kind.spec

    body = echoed(ref.kind, created(desired, ref))
    made = Securable(ref.kind, ref.full_name, comment=body.get("comment"), definition=spec_of.definition(body))

    wanted = desired.get(ref).definition or {}
    assert {k: made.definition[k] for k in wanted} == wanted
    assert diff(desired, server(made)).changes == ()
