"""Given what the specs declare and what the server has, the plan lists exactly the changes to make, in order."""

from __future__ import annotations

from dataclasses import replace

import pytest
from unit_helpers import kind_at, refs

from ucgov.errors import Location, SpecError
from ucgov.planner import diff
from ucgov.spec import load_texts
from ucgov.state import LiveState, Securable

EVERYONE = frozenset(
    {
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "data-scientists@example.com",
        "serving-app@example.com",
    }
)


def have(full_name: str, *, comment: str | None = None, properties=None, grants=None) -> Securable:
    """A live object as the live reader builds it: properties always a mapping, grants as frozensets."""
    return Securable(
        kind=kind_at(full_name),
        full_name=full_name,
        comment=comment,
        properties=dict(properties or {}),
        grants={p: frozenset(privs) for p, privs in (grants or {}).items()},
    )


def live_state(*objects: Securable, known: frozenset[str] | None = EVERYONE) -> LiveState:
    return LiveState(objects={o.ref: o for o in objects}, known_principals=known)


def rows(plan) -> list[tuple]:
    return [(c.action.value, c.address.full_name, c.address.principal, c.before, c.after) for c in plan.changes]


UNITY = """
catalogs:
  unity:
    comment: ML assets
    properties: {cost_center: ml-platform}
    grants:
      data-scientists@example.com: [USE CATALOG]
    schemas:
      default:
        comment: Iris models
        grants:
          alice@example.com: [USE SCHEMA, CREATE MODEL]
        models:
          iris:
            grants:
              serving-app@example.com: [EXECUTE]
"""

UNITY_LIVE = (
    have(
        "unity",
        comment="ML assets",
        properties={"cost_center": "ml-platform"},
        grants={"data-scientists@example.com": {"USE CATALOG"}},
    ),
    have("unity.default", comment="Iris models", grants={"alice@example.com": {"USE SCHEMA", "CREATE MODEL"}}),
    have("unity.default.iris", grants={"serving-app@example.com": {"EXECUTE"}}),
)

ONE_CATALOG = """
catalogs:
  unity:
    grants:
      alice@example.com: [USE CATALOG]
"""

CASES = [
    pytest.param(
        UNITY,
        (),
        [
            ("create", "unity", None, None, {"comment": "ML assets", "properties": {"cost_center": "ml-platform"}}),
            ("create", "unity.default", None, None, {"comment": "Iris models"}),
            ("create", "unity.default.iris", None, None, {}),
            ("grant", "unity", "data-scientists@example.com", None, ("USE CATALOG",)),
            ("grant", "unity.default", "alice@example.com", None, ("USE SCHEMA", "CREATE MODEL")),
            ("grant", "unity.default.iris", "serving-app@example.com", None, ("EXECUTE",)),
        ],
        id="empty-live-creates-parents-first-then-grants",
    ),
    pytest.param(UNITY, UNITY_LIVE, [], id="live-matches-no-changes"),
    pytest.param(
        UNITY,
        (replace(UNITY_LIVE[0], comment="old words"), *UNITY_LIVE[1:]),
        [("update", "unity", None, {"comment": "old words"}, {"comment": "ML assets"})],
        id="comment-differs-update",
    ),
    pytest.param(
        """
        catalogs:
          unity:
            properties: {cost_center: ml-platform, tier: gold}
        """,
        (have("unity", properties={"cost_center": "finance", "tier": "gold", "legacy": "yes"}),),
        [
            (
                "update",
                "unity",
                None,
                {"properties": {"cost_center": "finance", "tier": "gold", "legacy": "yes"}},
                {"properties": {"cost_center": "ml-platform", "tier": "gold"}},
            )
        ],
        id="properties-differ-update-with-full-new-map",
    ),
    pytest.param(
        """
        catalogs:
          unity:
            properties: {}
        """,
        (have("unity", properties={}),),
        [],
        id="no-properties-wanted-none-live",
    ),
    pytest.param(
        """
        catalogs:
          unity: {}
        """,
        (have("unity", comment="written by hand in the UI", properties={"owner": "someone"}),),
        [],
        id="comment-and-properties-not-declared-are-not-managed",
    ),
    pytest.param(
        ONE_CATALOG,
        (have("unity", grants={"alice@example.com": {"USE CATALOG"}, "bob@example.com": {"USE CATALOG", "SELECT"}}),),
        [("revoke", "unity", "bob@example.com", ("USE CATALOG", "SELECT"), None)],
        id="live-grant-not-in-spec-is-revoked",
    ),
    pytest.param(
        ONE_CATALOG.replace("    grants:", "    grants_mode: additive\n    grants:"),
        (have("unity", grants={"alice@example.com": {"USE CATALOG"}, "bob@example.com": {"USE CATALOG"}}),),
        [],
        id="additive-object-keeps-live-grant",
    ),
    pytest.param(
        "settings: {grants_mode: additive}\n" + ONE_CATALOG,
        (have("unity", grants={"bob@example.com": {"USE CATALOG"}}),),
        [("grant", "unity", "alice@example.com", None, ("USE CATALOG",))],
        id="additive-setting-adds-but-keeps-live-grant",
    ),
    pytest.param(
        """
        catalogs:
          unity:
            grants:
              alice@example.com: [USE CATALOG, CREATE SCHEMA]
        """,
        (have("unity", grants={"alice@example.com": {"USE CATALOG", "SELECT", "MODIFY"}}),),
        [
            ("grant", "unity", "alice@example.com", None, ("CREATE SCHEMA",)),
            ("revoke", "unity", "alice@example.com", ("SELECT", "MODIFY"), None),
        ],
        id="principal-gains-and-loses-on-one-object",
    ),
    pytest.param(
        """
        catalogs:
          unity:
            grants:
              alice@example.com: []
        """,
        (have("unity", grants={"alice@example.com": {"USE CATALOG"}}),),
        [("revoke", "unity", "alice@example.com", ("USE CATALOG",), None)],
        id="principal-with-an-empty-list-loses-everything",
    ),
    pytest.param(
        ONE_CATALOG,
        (
            have("unity", grants={"alice@example.com": {"USE CATALOG"}}),
            have("unity.scratch", comment="nobody declared me", grants={"bob@example.com": {"USE SCHEMA"}}),
            have("other", grants={"carol@example.com": {"USE CATALOG"}}),
        ),
        [],
        id="undeclared-live-objects-are-left-alone",
    ),
    pytest.param(
        """
        catalogs:
          zeta:
            comment: Z
            schemas:
              models:
                grants:
                  bob@example.com: [USE SCHEMA]
                models:
                  m: {comment: M}
          alpha:
            grants:
              alice@example.com: [USE CATALOG]
            schemas:
              s: {comment: S}
        """,
        (have("zeta", comment="old Z"),),
        [
            ("create", "alpha", None, None, {}),
            ("update", "zeta", None, {"comment": "old Z"}, {"comment": "Z"}),
            ("create", "alpha.s", None, None, {"comment": "S"}),
            ("create", "zeta.models", None, None, {}),
            ("create", "zeta.models.m", None, None, {"comment": "M"}),
            ("grant", "alpha", "alice@example.com", None, ("USE CATALOG",)),
            ("grant", "zeta.models", "bob@example.com", None, ("USE SCHEMA",)),
        ],
        id="catalogs-then-schemas-then-models-then-grants",
    ),
]


@pytest.mark.parametrize(("spec", "live_objects", "expected"), CASES)
def test_plan_changes(load_spec, spec, live_objects, expected):
    plan = diff(load_spec(spec), live_state(*live_objects))

    assert rows(plan) == expected
    assert plan.warnings == ()


def test_plan_records_every_declared_object_parents_first(load_spec):
    plan = diff(load_spec(UNITY), live_state(*UNITY_LIVE))

    assert plan.empty
    assert plan.objects == refs("unity", "unity.default", "unity.default.iris")


def test_summary_counts_each_action(load_spec):
    plan = diff(load_spec(UNITY), live_state(have("unity", grants={"bob@example.com": {"USE CATALOG"}})))

    assert plan.summary() == {
        "create": 2,
        "update": 1,
        "delete": 0,
        "grant": 3,
        "revoke": 1,
        "register": 0,
        "promote": 0,
        "approve": 0,
    }


def test_planning_twice_gives_the_same_plan(load_spec):
    desired, live = load_spec(UNITY), live_state(have("unity", comment="x"))

    assert diff(desired, live) == diff(desired, live)


def test_clearing_all_properties_the_server_keeps_is_an_error_where_properties_are_written(load_spec):
    desired = load_spec("catalogs:\n  unity:\n    properties: {}\n")

    with pytest.raises(SpecError) as excinfo:
        diff(desired, live_state(have("unity", properties={"owner": "ml", "tier": "gold"})))

    [problem] = [str(p) for p in excinfo.value.problems]
    assert problem.startswith("specs/team.yaml:3:17: catalog unity: the server cannot clear all properties")
    assert "['owner', 'tier']" in problem


def test_unknown_principal_is_a_spec_error_at_every_place_it_is_written(load_spec):
    desired = load_spec(
        """
        catalogs:
          unity:
            grants:
              alise@example.com: [USE CATALOG]
            schemas:
              default:
                grants:
                  alise@example.com: [USE SCHEMA]
                  alice@example.com: [USE SCHEMA]
        """,
        path="specs/unity.yaml",
    )

    with pytest.raises(SpecError) as excinfo:
        diff(desired, live_state(known=frozenset({"alice@example.com"})))

    assert [str(p.location) for p in excinfo.value.problems] == ["specs/unity.yaml:5:7", "specs/unity.yaml:9:11"]
    assert all(p.message.startswith("unknown principal 'alise@example.com'") for p in excinfo.value.problems)


def test_unknown_principal_in_a_second_file_names_that_file():
    desired = load_texts(
        [
            ("specs/platform.yaml", "catalogs:\n  unity:\n    grants:\n      alice@example.com: [USE CATALOG]\n"),
            ("specs/fraud.yaml", "catalogs:\n  unity:\n    grants:\n      Bob@example.com: [USE CATALOG]\n"),
        ],
        variables={},
    )

    with pytest.raises(SpecError) as excinfo:
        diff(desired, live_state(known=frozenset({"alice@example.com", "bob@example.com"})))

    assert [p.location for p in excinfo.value.problems] == [Location("specs/fraud.yaml", 4, 7)]


def test_principals_that_could_not_be_checked_give_a_warning_not_an_error(load_spec):
    plan = diff(load_spec(ONE_CATALOG), live_state(known=None))

    assert rows(plan) == [
        ("create", "unity", None, None, {}),
        ("grant", "unity", "alice@example.com", None, ("USE CATALOG",)),
    ]
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("principals were not checked")


def test_no_warning_when_the_specs_name_no_principal(load_spec):
    plan = diff(load_spec("catalogs:\n  unity: {}\n"), live_state(known=None))

    assert plan.warnings == ()


def test_prune_with_nothing_undeclared_deletes_nothing(load_spec):
    desired = load_spec("settings: {prune: true}\ncatalogs:\n  unity: {}\n")

    plan = diff(desired, live_state())

    assert [c.action.value for c in plan.changes] == ["create"]
    assert plan.warnings == ()
