"""A team writes YAML specs; ucgov turns them into desired state, or tells them every mistake as path:line:col."""

from __future__ import annotations

import json
import textwrap
from importlib import resources

import jsonschema
import pytest
import yaml

from ucgov.errors import Location, SpecError
from ucgov.spec import json_schema, load_specs, load_texts, variables_from
from ucgov.state import Approval, GrantsMode, Kind, Securable

PATH = "specs/team.yaml"

DESIGN_EXAMPLE = """\
catalogs:
  unity:
    comment: ML assets for production
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
            comment: Iris species classifier
            grants:
              serving-app@example.com: [EXECUTE]
            approved:
              run: 5f1c0e2a8b7d4c3e9f6a1b2c3d4e5f60   # MLflow run id
              artifact_path: model                   # optional, default "model"
          churn:
            approved:
              version: 4                              # an existing version
"""


def problems_of(excinfo: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# -- the spec from the design page -------------------------------------------------------------


def test_design_example_loads_into_the_declared_objects(load_spec):
    desired = load_spec(DESIGN_EXAMPLE, path=PATH)

    assert [o.full_name for o in desired.ordered()] == [
        "unity",
        "unity.default",
        "unity.default.churn",
        "unity.default.iris",
    ]
    assert desired.named("unity") == Securable(
        kind=Kind.CATALOG,
        full_name="unity",
        comment="ML assets for production",
        properties={"cost_center": "ml-platform"},
        grants={"data-scientists@example.com": frozenset({"USE CATALOG"})},
        grants_mode=GrantsMode.AUTHORITATIVE,
    )
    assert desired.named("unity.default") == Securable(
        kind=Kind.SCHEMA,
        full_name="unity.default",
        comment="Iris models",
        properties=None,  # not written, so not managed
        grants={"alice@example.com": frozenset({"USE SCHEMA", "CREATE MODEL"})},
    )
    assert desired.named("unity.default.iris") == Securable(
        kind=Kind.MODEL,
        full_name="unity.default.iris",
        comment="Iris species classifier",
        grants={"serving-app@example.com": frozenset({"EXECUTE"})},
        approved=Approval(run="5f1c0e2a8b7d4c3e9f6a1b2c3d4e5f60", artifact_path="model"),
    )
    assert desired.named("unity.default.churn") == Securable(
        kind=Kind.MODEL,
        full_name="unity.default.churn",
        comment=None,
        grants={},
        grants_mode=GrantsMode.UNMANAGED,  # no `grants:` key: the server's grants stay as they are
        approved=Approval(version=4),
    )
    assert desired.prune is False


def test_design_example_without_approved_blocks_loads_the_same_objects(load_spec):
    without = DESIGN_EXAMPLE.split("            approved:")[0] + "          churn: {}\n"

    desired = load_spec(without)

    assert sorted(r.full_name for r in desired.objects) == [
        "unity",
        "unity.default",
        "unity.default.churn",
        "unity.default.iris",
    ]
    assert all(o.approved is None for o in desired.objects.values())
    assert desired.named("unity.default.iris").grants == {"serving-app@example.com": frozenset({"EXECUTE"})}
    assert desired.named("unity.default.churn") == Securable(
        Kind.MODEL, "unity.default.churn", grants_mode=GrantsMode.UNMANAGED
    )


def test_an_object_written_with_no_body_is_declared_with_nothing_managed(load_spec):
    desired = load_spec(
        """
        catalogs:
          unity:
            schemas:
              default:
                models:
                  churn:
        """
    )

    assert desired.named("unity.default.churn") == Securable(
        Kind.MODEL, "unity.default.churn", grants_mode=GrantsMode.UNMANAGED
    )


def test_each_principal_remembers_where_it_is_written(load_spec):
    desired = load_spec(DESIGN_EXAMPLE, path=PATH)

    assert desired.principals == {
        "data-scientists@example.com": (Location(PATH, 6, 7),),
        "alice@example.com": (Location(PATH, 11, 11),),
        "serving-app@example.com": (Location(PATH, 16, 15),),
    }


def test_approved_run_without_artifact_path_defaults_to_model(load_spec):
    desired = load_spec(
        """
        catalogs:
          unity:
            schemas:
              default:
                models:
                  iris:
                    approved: {run: 5f1c0e2a}
                  churn:
                    approved: {version: "7"}
        """
    )

    assert desired.named("unity.default.iris").approved == Approval(run="5f1c0e2a", artifact_path="model")
    assert desired.named("unity.default.churn").approved == Approval(version=7)


# -- grants mode -------------------------------------------------------------------------------


def test_grants_are_unmanaged_without_a_grants_key_and_authoritative_with_one(load_spec):
    desired = load_spec(
        """
        catalogs:
          unity:
            schemas:
              default: {}
              locked:
                grants: {}
              shared:
                grants:
                  alice@example.com: [USE SCHEMA]
        """
    )

    assert desired.named("unity").grants_mode is GrantsMode.UNMANAGED
    assert desired.named("unity.default").grants_mode is GrantsMode.UNMANAGED
    assert desired.named("unity.locked").grants_mode is GrantsMode.AUTHORITATIVE
    assert desired.named("unity.locked").grants == {}
    assert desired.named("unity.shared").grants_mode is GrantsMode.AUTHORITATIVE


def test_grants_written_in_any_one_file_make_the_object_managed():
    desired = load_texts(
        [
            ("specs/a.yaml", "catalogs:\n  unity:\n    comment: ML\n"),
            ("specs/b.yaml", "catalogs:\n  unity:\n    grants: {alice@example.com: [USE CATALOG]}\n"),
        ],
        variables={},
    )

    assert desired.named("unity").grants_mode is GrantsMode.AUTHORITATIVE


def test_settings_grants_mode_additive_is_the_default_and_an_object_may_override_it(load_spec):
    desired = load_spec(
        """
        settings:
          grants_mode: additive
          prune: true
        catalogs:
          unity:
            grants: {}
            schemas:
              default:
                grants: {}
              strict:
                grants_mode: authoritative
                grants: {}
        """
    )

    assert desired.named("unity").grants_mode is GrantsMode.ADDITIVE
    assert desired.named("unity.default").grants_mode is GrantsMode.ADDITIVE
    assert desired.named("unity.strict").grants_mode is GrantsMode.AUTHORITATIVE
    assert desired.prune is True


def test_one_object_may_be_additive_while_the_rest_stay_authoritative(load_spec):
    desired = load_spec(
        """
        catalogs:
          shared:
            grants_mode: additive
            grants: {}
          unity:
            grants: {}
        """
    )

    assert desired.named("shared").grants_mode is GrantsMode.ADDITIVE
    assert desired.named("unity").grants_mode is GrantsMode.AUTHORITATIVE


def test_a_catalog_named_settings_does_not_change_the_default_grants_mode(load_spec):
    desired = load_spec(
        """
        catalogs:
          settings:
            grants_mode: additive
            grants: {}
          unity:
            grants:
              alice@example.com: [USE CATALOG]
        """
    )

    assert desired.named("settings").grants_mode is GrantsMode.ADDITIVE
    # unity's grants must stay authoritative: otherwise live grants the spec drops are silently kept
    assert desired.named("unity").grants_mode is GrantsMode.AUTHORITATIVE


# -- one catalog, several files ----------------------------------------------------------------

PLATFORM = """\
catalogs:
  unity:
    comment: ML assets for production
    properties: {cost_center: ml-platform}
    grants:
      alice@example.com: [USE CATALOG]
    schemas:
      default: {}
"""

FRAUD_TEAM = """\
catalogs:
  unity:
    grants:
      alice@example.com: [create_schema]
      bob@example.com: [USE CATALOG]
    schemas:
      fraud:
        comment: Fraud models
"""


def test_the_same_catalog_in_two_files_merges_schemas_and_grants():
    desired = load_texts([("specs/platform.yaml", PLATFORM), ("specs/fraud.yaml", FRAUD_TEAM)], variables={})

    assert sorted(r.full_name for r in desired.objects) == ["unity", "unity.default", "unity.fraud"]
    unity = desired.named("unity")
    assert unity.comment == "ML assets for production"
    assert unity.properties == {"cost_center": "ml-platform"}
    assert unity.grants == {
        "alice@example.com": frozenset({"USE CATALOG", "CREATE SCHEMA"}),
        "bob@example.com": frozenset({"USE CATALOG"}),
    }
    assert desired.named("unity.fraud").comment == "Fraud models"
    assert desired.principals["alice@example.com"] == (
        Location("specs/fraud.yaml", 4, 7),
        Location("specs/platform.yaml", 6, 7),
    )


def test_the_same_value_written_in_two_files_is_not_a_conflict():
    again = "catalogs:\n  unity:\n    comment: ML assets for production\n"

    desired = load_texts([("specs/platform.yaml", PLATFORM), ("specs/again.yaml", again)], variables={})

    assert desired.named("unity").comment == "ML assets for production"


def test_a_comment_set_to_two_values_in_two_files_is_one_error_naming_both_places():
    other = "catalogs:\n  unity:\n    comment: Sandbox only\n"

    with pytest.raises(SpecError) as excinfo:
        load_texts([("specs/platform.yaml", PLATFORM), ("specs/sandbox.yaml", other)], variables={})

    assert problems_of(excinfo) == [
        "specs/sandbox.yaml:3:14: unity.comment is set to 'Sandbox only' here "
        "but to 'ML assets for production' at specs/platform.yaml:3:14"
    ]


def test_a_property_set_to_two_values_in_two_files_is_an_error_naming_both_places():
    other = "catalogs:\n  unity:\n    properties: {cost_center: finance}\n"

    with pytest.raises(SpecError) as excinfo:
        load_texts([("specs/platform.yaml", PLATFORM), ("specs/finance.yaml", other)], variables={})

    [problem] = problems_of(excinfo)
    assert problem.startswith("specs/finance.yaml:3:31: ")
    assert "'finance'" in problem and "'ml-platform'" in problem and "specs/platform.yaml:4:31" in problem


# -- every kind of mistake, at its place -------------------------------------------------------

LONG = "x" * 256

BAD_SPECS = [
    pytest.param(
        """\
        catalogs:
          unity:
            comment: a: b
        """,
        "3:15",
        "YAML syntax: mapping values are not allowed",
        id="yaml-syntax",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            comment: first
            comment: second
        """,
        "4:5",
        "duplicate key 'comment' (first written at line 3)",
        id="duplicate-key",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            comment: written by team A
          unity:
            comment: written by team B
        """,
        "4:3",
        "duplicate key 'unity' (first written at line 2)",
        id="duplicate-catalog-in-one-file",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            commment: typo
        """,
        "3:5",
        "unknown key 'commment' (expected one of: comment, properties, grants, grants_mode, prune, storage_root, schemas)",
        id="unknown-key",
    ),
    pytest.param(
        """\
        catalog:
          unity: {}
        """,
        "1:1",
        "unknown key 'catalog' (expected one of: settings, metastore, credentials, external_locations, catalogs, policies, targets)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        """\
        - unity
        """,
        "1:1",
        "the document must be a mapping, not a list",
        id="document-not-a-mapping",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            grants: [alice@example.com]
        """,
        "3:13",
        "catalogs/unity/grants must be a mapping, not a list",
        id="grants-as-a-list",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            properties: {cost_center: 42}
        """,
        "3:31",
        "catalogs/unity/properties/cost_center must be a string, not a number",
        id="property-not-a-string",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            grants_mode: additiv
        """,
        "3:18",
        "catalogs/unity/grants_mode must be one of: authoritative, additive",
        id="unknown-grants-mode",
    ),
    pytest.param(
        """\
        catalogs:
          ml assets: {}
        """,
        "2:3",
        "bad name 'ml assets': letters, digits, _, @ and - only, at most 255 characters",
        id="space-in-catalog-name",
    ),
    pytest.param(
        f"""\
        catalogs:
          unity:
            schemas:
              {LONG}: {{}}
        """,
        "4:7",
        f"bad name '{LONG}': letters, digits, _, @ and - only, at most 255 characters",
        id="256-character-schema-name",
    ),
    pytest.param(
        f"""\
        catalogs:
          unity:
            comment: {LONG}
        """,
        "3:14",
        "catalogs/unity/comment is 256 characters long as the server counts them (UTF-16 units: an emoji counts 2); the server's limit is 255",
        id="comment-over-255",
    ),
    pytest.param(
        f"""\
        catalogs:
          unity:
            properties:
              owner: {LONG}
        """,
        "4:14",
        "catalogs/unity/properties/owner is 256 characters long as the server counts them (UTF-16 units: an emoji counts 2); the server's limit is 255",
        id="property-value-over-255",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            grants:
              alice@example.com: [USE CATALOG, FLY]
        """,
        "4:40",
        "unknown privilege 'FLY' (known: ",
        id="unknown-privilege",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            schemas:
              default:
                grants:
                  alice@example.com: [USE CATALOG]
        """,
        "6:31",
        "privilege 'USE CATALOG' cannot be granted on a schema (allowed: ",
        id="use-catalog-on-a-schema",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            schemas:
              default:
                models:
                  iris:
                    grants:
                      alice@example.com: [CREATE MODEL]
        """,
        "8:35",
        "privilege 'CREATE MODEL' cannot be granted on a model (allowed: EXECUTE), on unity.default.iris",
        id="create-model-on-a-model",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            schemas:
              default:
                models:
                  iris:
                    approved: {run: 5f1c0e2a, version: 4}
        """,
        "7:23",
        "approved needs exactly one of 'run' or 'version'",
        id="approved-with-run-and-version",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            schemas:
              default:
                models:
                  iris:
                    approved: {artifact_path: model}
        """,
        "7:23",
        "approved needs exactly one of 'run' or 'version'",
        id="approved-with-neither",
    ),
    pytest.param(
        """\
        catalogs:
          unity:
            comment: ML assets for ${var.ENV}
        """,
        "3:14",
        "variable 'ENV' is not set (pass --var ENV=VALUE or set UCGOV_VAR_ENV)",
        id="variable-not-set",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD_SPECS)
def test_a_bad_spec_is_reported_as_path_line_col_message(text, where, message):
    with pytest.raises(SpecError) as excinfo:
        load_texts([(PATH, textwrap.dedent(text))], variables={})

    [problem] = problems_of(excinfo)
    assert problem.startswith(f"{PATH}:{where}: {message}")


def test_a_name_of_exactly_255_characters_is_allowed(load_spec):
    name = "m" * 255

    desired = load_spec(f"catalogs:\n  {name}:\n    comment: {'c' * 255}\n")

    assert desired.named(name).comment == "c" * 255


# -- variables ---------------------------------------------------------------------------------

WITH_VARIABLES = """\
catalogs:
  unity:
    comment: ML assets for ${var.ENV}
    properties: {owner: "${var.OWNER}"}
    schemas:
      default:
        models:
          iris:
            approved: {run: "${var.RUN_ID}"}
"""


def test_variables_fill_scalar_values(load_spec):
    desired = load_spec(
        WITH_VARIABLES,
        variables={"ENV": "prod", "OWNER": "ml-platform", "RUN_ID": "5f1c0e2a"},
    )

    assert desired.named("unity").comment == "ML assets for prod"
    assert desired.named("unity").properties == {"owner": "ml-platform"}
    assert desired.named("unity.default.iris").approved == Approval(run="5f1c0e2a")


def test_every_unset_variable_is_reported_where_it_is_used(load_spec):
    with pytest.raises(SpecError) as excinfo:
        load_spec(WITH_VARIABLES, path=PATH, variables={"ENV": "prod"})

    assert [(str(p.location), p.message.split(" (")[0]) for p in excinfo.value.problems] == [
        (f"{PATH}:4:25", "variable 'OWNER' is not set"),
        (f"{PATH}:9:29", "variable 'RUN_ID' is not set"),
    ]


def test_var_option_wins_over_the_environment():
    environ = {"UCGOV_VAR_ENV": "dev", "UCGOV_VAR_OWNER": "ml-platform", "HOME": "/home/alice", "ENV": "ignored"}

    assert variables_from(environ, {"ENV": "prod"}) == {"ENV": "prod", "OWNER": "ml-platform"}


def test_environment_variables_reach_the_spec(load_spec):
    variables = variables_from({"UCGOV_VAR_ENV": "staging"}, {})

    desired = load_spec("catalogs:\n  unity:\n    comment: ML assets for ${var.ENV}\n", variables=variables)

    assert desired.named("unity").comment == "ML assets for staging"


# -- privilege spellings -----------------------------------------------------------------------


@pytest.mark.parametrize("written", ["USE CATALOG", "use_catalog", "Use Catalog", "USE_CATALOG", " use  catalog "])
def test_privilege_spellings_normalise_to_the_server_name(load_spec, written):
    desired = load_spec(f"catalogs:\n  unity:\n    grants:\n      alice@example.com: ['{written}']\n")

    assert desired.named("unity").grants == {"alice@example.com": frozenset({"USE CATALOG"})}


def test_the_same_privilege_spelt_twice_is_granted_once(load_spec):
    desired = load_spec("catalogs:\n  unity:\n    grants:\n      alice@example.com: [use_catalog, USE CATALOG]\n")

    assert desired.named("unity").grants == {"alice@example.com": frozenset({"USE CATALOG"})}


# -- finding spec files ------------------------------------------------------------------------


def test_a_missing_path_is_an_error(tmp_path):
    missing = tmp_path / "specz"

    with pytest.raises(SpecError) as excinfo:
        load_specs([missing])

    assert problems_of(excinfo) == [f"{missing}: does not exist"]


def test_a_directory_without_yaml_files_is_an_error(write_specs):
    specs = write_specs({"README.md": "# specs\n", "unity.json": "{}\n"})

    with pytest.raises(SpecError) as excinfo:
        load_specs([specs])

    assert problems_of(excinfo) == [f"{specs}: no *.yaml or *.yml spec files found here"]


def test_yaml_and_yml_files_are_found_recursively_and_other_files_ignored(write_specs):
    specs = write_specs(
        {
            "platform.yaml": "catalogs:\n  unity: {}\n",
            "teams/fraud/models.yml": "catalogs:\n  unity:\n    schemas:\n      fraud: {}\n",
            "teams/churn.yaml": "catalogs:\n  unity:\n    schemas:\n      churn: {}\n",
            "notes.txt": "not: [a spec",
            "teams/fraud/README.md": "- not a spec\n",
        }
    )

    desired = load_specs([specs])

    assert sorted(r.full_name for r in desired.objects) == ["unity", "unity.churn", "unity.fraud"]


def test_files_are_read_in_sorted_order_so_conflicts_name_the_same_first_place(write_specs):
    specs = write_specs(
        {
            "z-last.yaml": "catalogs:\n  unity:\n    comment: from z\n",
            "a-team/first.yml": "catalogs:\n  unity:\n    comment: from a\n",
            "m-middle.yaml": "catalogs:\n  unity: {}\n",
        }
    )

    with pytest.raises(SpecError) as excinfo:
        load_specs([specs])

    assert problems_of(excinfo) == [
        f"{specs}/z-last.yaml:3:14: unity.comment is set to 'from z' here but to 'from a' at {specs}/a-team/first.yml:3:14"
    ]


def test_a_file_given_by_name_is_read_and_specs_merge_across_paths(write_specs, tmp_path):
    specs = write_specs({"platform.yaml": PLATFORM})
    extra = tmp_path / "fraud.yaml"
    extra.write_text(FRAUD_TEAM, encoding="utf-8")

    desired = load_specs([specs, extra])

    assert sorted(r.full_name for r in desired.objects) == ["unity", "unity.default", "unity.fraud"]


def test_an_empty_spec_file_declares_nothing(write_specs):
    specs = write_specs({"empty.yaml": "# placeholder for the fraud team\n", "platform.yaml": PLATFORM})

    assert sorted(r.full_name for r in load_specs([specs]).objects) == ["unity", "unity.default"]


# -- all errors at once ------------------------------------------------------------------------


def test_errors_in_several_files_are_all_reported_at_once_and_sorted(write_specs):
    specs = write_specs(
        {
            "d-conflict.yaml": "catalogs:\n  unity:\n    comment: other\n",
            "a-syntax.yaml": "catalogs:\n  unity:\n    comment: a: b\n",
            "c-name.yaml": "catalogs:\n  ml assets: {}\n",
            "b-privileges.yaml": (
                "catalogs:\n"
                "  unity:\n"
                "    comment: ML assets\n"
                "    grants:\n"
                "      alice@example.com: [FLY]\n"
                "    schemas:\n"
                "      default:\n"
                "        grants:\n"
                "          bob@example.com: [USE CATALOG]\n"
            ),
        }
    )

    with pytest.raises(SpecError) as excinfo:
        load_specs([specs])

    assert [str(p.location) for p in excinfo.value.problems] == [
        f"{specs}/a-syntax.yaml:3:15",
        f"{specs}/b-privileges.yaml:5:27",
        f"{specs}/b-privileges.yaml:9:29",
        f"{specs}/c-name.yaml:2:3",
        f"{specs}/d-conflict.yaml:3:14",
    ]
    assert excinfo.value.format_message().endswith("5 errors in specs; nothing was changed on the server.")


def test_a_missing_path_and_a_bad_file_are_reported_together(write_specs, tmp_path):
    specs = write_specs({"bad.yaml": "catalogs:\n  ml assets: {}\n"})
    missing = tmp_path / "typo"

    with pytest.raises(SpecError) as excinfo:
        load_specs([specs, missing])

    assert problems_of(excinfo) == [
        f"{specs}/bad.yaml:2:3: bad name 'ml assets': letters, digits, _, @ and - only, at most 255 characters",
        f"{missing}: does not exist",
    ]


@pytest.mark.parametrize(
    "first_mistake",
    ["    comment: a\n    comment: b\n", "    commment: typo\n"],
    ids=["duplicate-key", "unknown-key"],
)
def test_a_privilege_error_is_reported_with_other_errors_in_the_same_file(first_mistake):
    text = "catalogs:\n  unity:\n" + first_mistake + "    grants:\n      alice@example.com: [FLY]\n"

    with pytest.raises(SpecError) as excinfo:
        load_texts([(PATH, text)], variables={})

    assert any("unknown privilege 'FLY'" in p for p in problems_of(excinfo))
    assert len(excinfo.value.problems) == 2


# -- the JSON Schema for editors ---------------------------------------------------------------


def test_the_shipped_json_schema_is_valid_draft_2020_12():
    schema = json_schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_design_example_passes_the_shipped_json_schema():
    validator = jsonschema.Draft202012Validator(json_schema())

    assert list(validator.iter_errors(yaml.safe_load(DESIGN_EXAMPLE))) == []


def test_names_are_kept_as_written_even_where_yaml_11_would_read_a_boolean_or_number(load_spec):
    desired = load_spec("catalogs:\n  on: {}\n  yes: {}\n  0x10: {}\n  007: {}\n")

    assert sorted(r.full_name for r in desired.objects) == ["007", "0x10", "on", "yes"]


def test_an_editor_reading_the_shipped_schema_accepts_names_that_variables_fill():
    shipped = json.loads(resources.files("ucgov.spec").joinpath("ucgov.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(shipped)
    written = {"catalogs": {"${var.env}_ml": {"schemas": {"fraud_${var.team}": {"models": {"m": {}}}}}}}

    assert list(validator.iter_errors(written)) == []
    assert list(validator.iter_errors({"catalogs": {"a b": {}}}))  # a name that no variable makes good


def test_a_literal_dollar_brace_left_in_a_name_is_still_a_bad_name_once_variables_are_filled(load_spec):
    with pytest.raises(SpecError) as excinfo:
        load_spec("catalogs:\n  $${var.env}_ml: {}\n")

    assert "letters, digits, _, @ and - only" in str(excinfo.value)
