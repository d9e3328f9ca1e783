"""Creates the server would refuse are foreseen by the planner, from each kind's description:
a plan error at the object, never an apply that stops with its parents made."""

from __future__ import annotations

import pytest

from ucgov.errors import SpecError
from ucgov.kinds import Kind
from ucgov.planner import diff
from ucgov.spec import load_specs
from ucgov.state import LiveState, Ref, Securable


def plan_problems(tmp_path, text: str, live: LiveState | None = None) -> list[str]:
    (tmp_path / "spec.yaml").write_text(text)
    with pytest.raises(SpecError) as raised:
        diff(load_specs([str(tmp_path)]), live or LiveState())
    return [f"{p.location.line}:{p.location.col}: {p.message}" for p in raised.value.problems]


def test_a_managed_volume_with_no_storage_root_around_it_is_refused_at_its_name(tmp_path):
    problems = plan_problems(tmp_path, "catalogs:\n  c:\n    schemas:\n      s:\n        volumes:\n          v: {}\n")
    assert problems == [
        "6:11: volume c.s.v is MANAGED, but neither schema c.s nor catalog c has a storage_root, under which the "
        "server keeps a managed volume's files; give one a storage_root when it is created, or make it EXTERNAL "
        "with a storage_location"
    ]


def test_a_storage_root_on_the_live_catalog_or_the_declared_schema_lets_it_be_created(tmp_path):
    spec = "catalogs:\n  c:\n    schemas:\n      s:\n{root}        volumes:\n          v: {{}}\n"
    (tmp_path / "spec.yaml").write_text(spec.format(root="        storage_root: file:///m/s\n"))
    assert diff(load_specs([str(tmp_path)]), LiveState()).changes
    (tmp_path / "spec.yaml").write_text(spec.format(root=""))
    catalog = Securable(Kind.CATALOG, "c", definition={"storage_root": "file:///m/c"})
    assert diff(load_specs([str(tmp_path)]), LiveState(objects={Ref(Kind.CATALOG, "c"): catalog})).changes


def test_a_managed_table_ucgov_would_create_is_refused_at_its_table_type(tmp_path):
    spec = "catalogs:\n  c:\n    schemas:\n      s:\n        tables:\n          t:\n"
    spec += "            table_type: MANAGED\n            columns: [{name: id, type: INT}]\n"
    [problem] = plan_problems(tmp_path, spec)
    assert problem.startswith("7:25: table c.s.t is MANAGED: ucgov cannot create a managed table")


@pytest.mark.parametrize(
    ("where", "written", "problem"),
    [
        ("volume", "storage_location: rel/p", "6:56: volume c.s.v has a relative storage_location ('rel/p')"),
        ("volume", 'storage_location: "/d/a b"', "6:56: volume c.s.v has a storage_location with white space"),
        ("table", "storage_location: rel/p", "6:67: table c.s.v has a relative storage_location ('rel/p')"),
    ],
)
def test_a_location_the_server_would_refuse_or_resolve_elsewhere_is_refused_before_anything_is_made(
    tmp_path, where, written, problem
):
    body = "volume_type: EXTERNAL, " if where == "volume" else "columns: [{name: id, type: INT}], "
    spec = f"catalogs:\n  c:\n    schemas:\n      s:\n        {where}s:\n          v: {{{body}{written}}}\n"
    [found] = plan_problems(tmp_path, spec)
    assert found.startswith(problem)


def test_a_relative_storage_root_is_refused_at_it(tmp_path):
    [found] = plan_problems(tmp_path, "catalogs:\n  c:\n    storage_root: managed/c\n")
    assert found.startswith("3:19: catalog c has a relative storage_root ('managed/c'), which the server would resolve")
