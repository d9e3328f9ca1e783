"""A security team writes policies next to the specs; validate and plan refuse any grant that breaks one.

Policies apply to effective access: a grant on a catalog or schema reaches what is inside it, so
a catalog-level EXECUTE breaks "no EXECUTE on prod models" even when no model is declared.
"""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.errors import Location, SpecError
from ucgov.policies import Policy, violations
from ucgov.spec import load_texts
from ucgov.state import DesiredState, Kind, Ref, Securable

PATH = "specs/prod.yaml"


def problems(*files: tuple[str, str], check_policies: bool = True) -> list[str]:
    """Every problem in the given (path, YAML) files as path:line:col: message; [] when they load."""
    texts = [(path, textwrap.dedent(text)) for path, text in files]
    try:
        load_texts(texts, variables={}, check_policies=check_policies)
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    return []


# -- which grants break a policy ---------------------------------------------------------------

BROKEN = [
    pytest.param(
        """\
        policies:
          - name: no-contractor-execute
            deny:
              principal: "*@contractors.example.com"
              privileges: [EXECUTE]
              on: "prod_*.*.*"
        catalogs:
          prod_a:
            schemas:
              s:
                models:
                  m:
                    grants:
                      bob@contractors.example.com: [EXECUTE]
        """,
        [
            f"{PATH}:14:45: policy 'no-contractor-execute' denies EXECUTE to bob@contractors.example.com "
            "on prod_a.s.m (model)"
        ],
        id="direct-on-a-model",
    ),
    pytest.param(
        """\
        policies:
          - name: no-contractors-in-prod
            deny:
              principal: "*@contractors.example.com"
              on: "prod_*"
        catalogs:
          prod_a:
            grants:
              bob@contractors.example.com: [USE CATALOG]
        """,
        [
            f"{PATH}:9:37: policy 'no-contractors-in-prod' denies USE CATALOG to bob@contractors.example.com "
            "on prod_a (catalog)"
        ],
        id="direct-on-a-catalog-any-privilege",
    ),
    pytest.param(
        """\
        policies:
          - name: no-contractor-execute
            deny:
              principal: "*@contractors.example.com"
              privileges: [EXECUTE]
              on: "prod_*.*.*"
        catalogs:
          prod_a:
            grants:
              bob@contractors.example.com: [USE CATALOG, EXECUTE]
        """,
        [
            f"{PATH}:10:50: policy 'no-contractor-execute' denies EXECUTE to bob@contractors.example.com "
            "on prod_a.*.* (granted on catalog prod_a, which reaches it)"
        ],
        id="catalog-execute-reaches-every-model-declared-or-not",
    ),
    pytest.param(
        """\
        policies:
          - name: no-contractor-execute
            deny:
              principal: "*@contractors.example.com"
              privileges: [execute]
              on: "prod_a.s.*"
        catalogs:
          prod_a:
            schemas:
              s:
                grants:
                  bob@contractors.example.com: [USE SCHEMA, EXECUTE]
                models:
                  m: {}
        """,
        [
            f"{PATH}:12:53: policy 'no-contractor-execute' denies EXECUTE to bob@contractors.example.com "
            "on prod_a.s.* (granted on schema prod_a.s, which reaches it)"
        ],
        id="schema-execute-reaches-its-models",
    ),
    pytest.param(
        """\
        policies:
          - name: models-only-by-the-platform-team
            deny:
              privileges: [CREATE MODEL]
              on: "prod_*.*"
        catalogs:
          prod_a:
            grants:
              alice@example.com: [CREATE MODEL]
        """,
        [
            f"{PATH}:9:27: policy 'models-only-by-the-platform-team' denies CREATE MODEL to alice@example.com "
            "on prod_a.* (granted on catalog prod_a, which reaches it)"
        ],
        id="catalog-create-model-reaches-every-schema",
    ),
    pytest.param(
        """\
        policies:
          - name: read-only-everywhere
            deny:
              privileges: [modify]
        catalogs:
          dev:
            schemas:
              features:
                grants:
                  alice@example.com: [USE SCHEMA, MODIFY]
        """,
        [f"{PATH}:10:43: policy 'read-only-everywhere' denies MODIFY to alice@example.com on dev.features (schema)"],
        id="no-principal-and-no-on-mean-anyone-anywhere",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), BROKEN)
def test_a_grant_that_breaks_a_policy_is_an_error_at_the_privilege(spec, expected):
    assert problems((PATH, spec)) == expected


ALLOWED = [
    pytest.param(
        """\
        policies:
          - name: no-contractors-on-prod-models
            deny:
              principal: "*@contractors.example.com"
              on: "prod_*.*.*"
        catalogs:
          prod_a:
            grants:
              bob@contractors.example.com: [USE CATALOG]
            schemas:
              s:
                grants:
                  bob@contractors.example.com: [USE SCHEMA, CREATE MODEL]
        """,
        id="use-catalog-use-schema-and-create-model-do-not-reach-models",
    ),
    pytest.param(
        """\
        policies:
          - name: no-contractor-execute
            deny:
              principal: "*@contractors.example.com"
              privileges: [EXECUTE]
        catalogs:
          prod_a:
            grants:
              alice@example.com: [EXECUTE]
              bob@contractors.example.com.evil.example: [EXECUTE]
              carol@Contractors.example.com: [EXECUTE]
        """,
        id="principal-glob-must-match-the-whole-name-case-sensitively",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute-on-the-prod-catalog
            deny:
              privileges: [EXECUTE]
              on: "prod_a"
        catalogs:
          prod_a:
            schemas:
              s:
                grants:
                  alice@example.com: [EXECUTE]
        """,
        id="on-a-catalog-does-not-match-its-schemas",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute-on-prod-models
            deny:
              privileges: [EXECUTE]
              on: "prod_*.*.*"
        catalogs:
          dev_prod_a:
            grants:
              alice@example.com: [EXECUTE]
            schemas:
              prod_s:
                models:
                  prod_m:
                    grants:
                      alice@example.com: [EXECUTE]
        """,
        id="each-part-of-on-matches-one-part-of-the-name",
    ),
]


@pytest.mark.parametrize("spec", ALLOWED)
def test_a_grant_outside_every_policy_loads(spec):
    assert problems((PATH, spec)) == []


@pytest.mark.parametrize(
    "deny",
    ['on: "prod_*"', "'on': prod_*", '{on: "prod_*", privileges: [EXECUTE]}'],
    ids=["plain", "quoted", "flow-mapping"],
)
def test_the_on_key_survives_yaml_reading_it_as_true(deny):
    # YAML 1.1 reads an unquoted `on` key as the boolean true; the policy must still see its `on`.
    spec = f"policies:\n  - name: no-prod\n    deny:\n      {deny}\ncatalogs:\n  prod_a:\n    grants:\n      alice@example.com: [EXECUTE]\n"

    assert problems((PATH, spec)) == [
        f"{PATH}:8:27: policy 'no-prod' denies EXECUTE to alice@example.com on prod_a (catalog)"
    ]


def test_a_true_key_in_deny_is_not_taken_for_on():
    spec = "policies:\n  - name: no-prod\n    deny:\n      true: prod_*\n"

    assert problems((PATH, spec)) == [
        f"{PATH}:4:7: unknown key 'true' (expected one of: principal, privileges, on, kind)"
    ]


# -- policies across files ---------------------------------------------------------------------

SECURITY = """\
policies:
  - name: no-contractor-execute
    deny:
      principal: "*@contractors.example.com"
      privileges: [EXECUTE]
"""

PLATFORM = """\
policies:
  - name: no-create-schema-in-prod
    deny:
      privileges: [CREATE SCHEMA]
      on: "prod_*"
catalogs:
  prod_a:
    grants:
      alice@example.com: [USE CATALOG, CREATE SCHEMA]
      bob@contractors.example.com: [USE CATALOG]
"""

FRAUD_TEAM = """\
catalogs:
  prod_a:
    grants:
      bob@contractors.example.com: [EXECUTE]
"""


def test_policies_from_several_files_all_apply_to_grants_from_every_file():
    found = problems(
        ("specs/security.yaml", SECURITY), ("specs/platform.yaml", PLATFORM), ("specs/fraud.yaml", FRAUD_TEAM)
    )

    assert found == [
        "specs/fraud.yaml:4:37: policy 'no-contractor-execute' denies EXECUTE to bob@contractors.example.com "
        "on prod_a (catalog)",
        "specs/platform.yaml:9:40: policy 'no-create-schema-in-prod' denies CREATE SCHEMA to alice@example.com "
        "on prod_a (catalog)",
    ]


def test_a_policy_is_kept_on_the_desired_state_once_even_when_two_files_repeat_it():
    desired = load_texts([("specs/security.yaml", SECURITY), ("specs/copy.yaml", SECURITY)], variables={})

    assert desired.policies == (
        Policy("no-contractor-execute", principal="*@contractors.example.com", privileges=frozenset({"EXECUTE"})),
    )
    assert desired.policies[0].where == Location("specs/security.yaml", 2, 5)


def test_a_grant_written_in_two_files_is_reported_where_it_is_first_written():
    again = FRAUD_TEAM.replace("[EXECUTE]", "[USE CATALOG, EXECUTE]")

    found = problems(("specs/a-security.yaml", SECURITY), ("specs/b.yaml", FRAUD_TEAM), ("specs/c.yaml", again))

    assert found == [
        "specs/b.yaml:4:37: policy 'no-contractor-execute' denies EXECUTE to bob@contractors.example.com "
        "on prod_a (catalog)"
    ]


def test_the_same_policy_name_with_different_rules_is_an_error_naming_both_places():
    weaker = SECURITY.replace("[EXECUTE]", "[MODIFY]")

    found = problems(("specs/security.yaml", SECURITY), ("specs/team.yaml", weaker))

    assert found == [
        "specs/team.yaml:2:5: policy 'no-contractor-execute' is defined differently here than at "
        "specs/security.yaml:2:5 (rename one, or make them the same)"
    ]


def test_grants_that_break_policies_can_still_be_loaded_for_a_git_revision_a_change_fixes():
    assert problems(("specs/security.yaml", SECURITY), ("specs/fraud.yaml", FRAUD_TEAM), check_policies=False) == []


# -- policies written wrong --------------------------------------------------------------------

BAD_POLICIES = [
    pytest.param(
        """\
        policies:
          - deny: {privileges: [EXECUTE]}
        """,
        "2:5: policies/0 is missing the required key 'name'",
        id="no-name",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
        """,
        "2:5: policies/0 is missing the required key 'deny'",
        id="no-deny",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
            deny: {privileges: [EXECUTE]}
            reason: contractors must not serve models
        """,
        "4:5: unknown key 'reason' (expected one of: name, deny)",
        id="unknown-key-in-a-policy",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
            deny:
              principals: "*@contractors.example.com"
        """,
        "4:7: unknown key 'principals' (expected one of: principal, privileges, on, kind)",
        id="unknown-key-in-deny",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
            deny:
              privileges: [EXECUTE, EXECUTE_MODEL]
        """,
        "4:29: unknown privilege 'EXECUTE MODEL' (known: ",
        id="unknown-privilege",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
            deny: {}
        """,
        "3:11: policies/0/deny needs at least one of: principal, privileges, on",
        id="empty-deny",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
            deny:
              privileges: []
        """,
        "4:19: policies/0/deny/privileges must not be empty",
        id="empty-privileges",
    ),
    pytest.param(
        """\
        policies:
          - name: no-execute
            deny:
              on: "prod.*.*.*"
        """,
        "4:11: policies/0/deny/on 'prod.*.*.*' must be 1 to 3 non-empty parts joined by dots "
        "(catalog, catalog.schema or catalog.schema.model)",
        id="on-deeper-than-a-model",
    ),
    pytest.param(
        """\
        policies:
          no-execute:
            deny: {privileges: [EXECUTE]}
        """,
        "2:3: policies must be a list, not a mapping",
        id="policies-as-a-mapping",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), BAD_POLICIES)
def test_a_badly_written_policy_is_an_error_at_its_line(spec, expected):
    [problem] = problems((PATH, spec))

    assert problem.startswith(f"{PATH}:{expected}")


# -- checking needs no loader and no server ----------------------------------------------------


def test_violations_is_a_pure_function_of_the_desired_state():
    desired = DesiredState(
        objects={
            Ref(Kind.CATALOG, "prod_a"): Securable(
                Kind.CATALOG, "prod_a", grants={"bob@contractors.example.com": frozenset({"EXECUTE"})}
            )
        },
        policies=(Policy("no-contractor-execute", principal="*@contractors.example.com", on="prod_*.*.*"),),
        grant_locations={
            (Ref(Kind.CATALOG, "prod_a"), "bob@contractors.example.com", "EXECUTE"): Location("specs/prod.yaml", 4, 37)
        },
    )

    assert [str(p) for p in violations(desired)] == [
        "specs/prod.yaml:4:37: policy 'no-contractor-execute' denies EXECUTE to bob@contractors.example.com "
        "on prod_a.*.* (granted on catalog prod_a, which reaches it)"
    ]


# -- the command line --------------------------------------------------------------------------


def test_validate_exits_1_naming_the_policy_and_where_the_grant_is_written(write_specs):
    specs = write_specs({"security.yaml": SECURITY, "teams/fraud.yaml": FRAUD_TEAM})

    result = CliRunner().invoke(cli, ["validate", str(specs)], prog_name="ucgov")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        f"{specs}/teams/fraud.yaml:4:37: policy 'no-contractor-execute' denies EXECUTE "
        "to bob@contractors.example.com on prod_a (catalog)"
    ) in result.output


# -- patterns at a depth that models, tables, volumes and functions share ------------------------


def test_denying_select_on_a_catalogs_tables_stops_a_catalog_level_select():
    found = problems(
        (
            PATH,
            """\
            policies:
              - name: no-select
                deny: {privileges: [SELECT], on: "prod.*.*"}
            catalogs:
              prod:
                grants: {bob@example.com: [SELECT]}
            """,
        )
    )

    assert found == [
        f"{PATH}:6:32: policy 'no-select' denies SELECT to bob@example.com on prod.*.* "
        "(granted on catalog prod, which reaches it)"
    ]


def test_denying_select_on_a_catalogs_tables_stops_a_schema_level_select_and_one_on_a_table():
    found = problems(
        (
            PATH,
            """\
            policies:
              - name: no-select
                deny: {privileges: [SELECT], on: "prod.*.*"}
            catalogs:
              prod:
                schemas:
                  fraud:
                    grants: {bob@example.com: [USE SCHEMA, SELECT]}
                    tables:
                      events:
                        grants: {carol@example.com: [SELECT]}
            """,
        )
    )

    assert found == [
        f"{PATH}:8:48: policy 'no-select' denies SELECT to bob@example.com on prod.fraud.* "
        "(granted on schema prod.fraud, which reaches it)",
        f"{PATH}:11:42: policy 'no-select' denies SELECT to carol@example.com on prod.fraud.events (table)",
    ]


def test_a_policy_on_what_is_inside_a_schema_matches_volume_and_function_grants_on_the_catalog():
    found = problems(
        (
            PATH,
            """\
            policies:
              - name: no-files-or-code
                deny: {principal: "*@contractors.example.com", privileges: [READ VOLUME, EXECUTE], on: "prod.*.*"}
            catalogs:
              prod:
                grants: {bob@contractors.example.com: [USE CATALOG, READ VOLUME, EXECUTE]}
            """,
        )
    )

    assert found == [
        f"{PATH}:6:57: policy 'no-files-or-code' denies READ VOLUME to bob@contractors.example.com on prod.*.* "
        "(granted on catalog prod, which reaches it)",
        f"{PATH}:6:70: policy 'no-files-or-code' denies EXECUTE to bob@contractors.example.com on prod.*.* "
        "(granted on catalog prod, which reaches it)",
    ]


def test_a_select_deny_on_tables_lets_execute_and_use_schema_on_the_schema_through():
    found = problems(
        (
            PATH,
            """\
            policies:
              - name: no-select
                deny: {privileges: [SELECT], on: "prod.*.*"}
            catalogs:
              prod:
                schemas:
                  fraud:
                    grants: {bob@example.com: [USE SCHEMA, EXECUTE, READ VOLUME]}
            """,
        )
    )

    assert found == []


def test_a_denial_that_could_never_match_is_an_error_where_the_privilege_is_written():
    found = problems(
        (
            PATH,
            """\
            policies:
              - name: looks-safe
                deny: {privileges: [EXECUTE, USE CATALOG], on: "prod.*.*"}
              - name: on-the-catalog
                deny: {privileges: [EXECUTE, USE CATALOG], on: "prod"}
            """,
        )
    )

    assert found == [
        f"{PATH}:3:34: 'prod.*.*' names models, tables, volumes and functions, where USE CATALOG can never be "
        "granted: this denial could never match, in policy 'looks-safe'"
    ]
