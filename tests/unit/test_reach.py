"""What a grant reaches: the object it is made on and, inherited, what is inside it.

The review (markdown plan) and the policies ask the same question, so one pure module answers it:
by kind where the objects are known, by depth where a policy's pattern names them.
"""

from __future__ import annotations

import pytest

from ucgov.reach import acted_on, covers_pattern, reached, reaches
from ucgov.state import Kind, Ref

C, S, M, T, V, F = Kind.CATALOG, Kind.SCHEMA, Kind.MODEL, Kind.TABLE, Kind.VOLUME, Kind.FUNCTION
ESTATE = (
    Ref(C, "ml"),
    Ref(S, "ml.prod"),
    Ref(M, "ml.prod.churn"),
    Ref(T, "ml.prod.events"),
    Ref(V, "ml.prod.raw"),
    Ref(F, "ml.prod.score"),
    Ref(M, "ml.prod.raw"),  # a model and a volume may share a name
    Ref(S, "ml.dev"),
    Ref(T, "ml.dev.features"),
    Ref(C, "ml2"),
    Ref(T, "ml2.prod.events"),
)


def names(refs: tuple[Ref, ...]) -> list[str]:
    return [f"{r.kind.label} {r.full_name}" for r in refs]


@pytest.mark.parametrize(
    ("granted_on", "privilege", "expected"),
    [
        (Ref(S, "ml.prod"), "EXECUTE", ["model ml.prod.churn", "model ml.prod.raw", "function ml.prod.score"]),
        (Ref(S, "ml.prod"), "SELECT", ["table ml.prod.events"]),
        (Ref(S, "ml.prod"), "READ VOLUME", ["volume ml.prod.raw"]),
        (Ref(C, "ml"), "SELECT", ["table ml.dev.features", "table ml.prod.events"]),
        (Ref(C, "ml"), "USE SCHEMA", ["schema ml.dev", "schema ml.prod"]),
        (Ref(C, "ml"), "USE CATALOG", []),
        (Ref(S, "ml.prod"), "CREATE TABLE", []),
    ],
    ids=[
        "schema-execute-acts-on-its-models-and-functions",
        "schema-select-acts-on-its-tables",
        "schema-read-volume-acts-on-its-volumes-not-the-model-of-the-same-name",
        "catalog-select-acts-on-every-table-inside-not-another-catalog-starting-the-same",
        "catalog-use-schema-acts-on-its-schemas",
        "use-catalog-acts-on-nothing-inside",
        "create-table-acts-on-the-schema-itself-only",
    ],
)
def test_a_grant_acts_on_the_objects_inside_whose_kind_it_is_the_privilege_of(granted_on, privilege, expected):
    assert names(acted_on(granted_on, privilege, ESTATE)) == expected


def test_a_catalog_grant_holds_on_its_schemas_too_to_be_inherited_by_what_they_hold():
    assert names(reached(Ref(C, "ml"), "EXECUTE", ESTATE)) == [
        "catalog ml",
        "schema ml.dev",
        "schema ml.prod",
        "model ml.prod.churn",
        "model ml.prod.raw",
        "function ml.prod.score",
    ]


def test_a_grant_on_a_table_reaches_that_table_only():
    assert names(reached(Ref(T, "ml.prod.events"), "SELECT", ESTATE)) == ["table ml.prod.events"]
    assert not reaches(Ref(V, "ml.prod.raw"), "EXECUTE", Ref(M, "ml.prod.raw"))


def test_each_object_is_counted_once_however_often_it_is_listed():
    assert acted_on(Ref(S, "ml.prod"), "SELECT", ESTATE + ESTATE) == (Ref(T, "ml.prod.events"),)


def test_a_pattern_deeper_than_the_grant_stands_for_every_kind_at_that_depth_inside_it():
    for privilege in ("EXECUTE", "SELECT", "MODIFY", "READ VOLUME"):
        assert covers_pattern("prod_a", privilege, "prod_a.*.*")
        assert covers_pattern("prod_a.s", privilege, "prod_a.s.*")
    assert not covers_pattern("prod_a", "CREATE MODEL", "prod_a.*.*")
    assert not covers_pattern("prod", "SELECT", "prod_a.*.*")
