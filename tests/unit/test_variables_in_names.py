"""One spec for every target: ``${var.env}_ml`` as a catalog's name (or any object's, or a grant's
principal) becomes dev_ml on dev and prod_ml on prod; what goes wrong is said at the key's file:line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucgov.errors import SpecError
from ucgov.spec import load_texts
from ucgov.state import Kind, Ref

PATH = "specs/team.yaml"

ONE_SPEC = """\
catalogs:
  ${var.env}_ml:
    comment: models for ${var.env}
    grants:
      ${var.env}-admins@example.com: [USE CATALOG]
    schemas:
      fraud_${var.env}:
        models:
          scorer:
            grants: {"${var.env}-serving@example.com": [EXECUTE]}
        volumes:
          raw_${var.env}: {}
"""


def test_variables_name_catalogs_schemas_objects_and_principals(load_spec):
    dev = load_spec(ONE_SPEC, variables={"env": "dev"})
    prod = load_spec(ONE_SPEC, variables={"env": "prod"})

    assert sorted(o.full_name for o in dev.objects.values()) == [
        "dev_ml",
        "dev_ml.fraud_dev",
        "dev_ml.fraud_dev.raw_dev",
        "dev_ml.fraud_dev.scorer",
    ]
    assert dev.named("dev_ml").comment == "models for dev"
    assert dev.named("dev_ml").grants == {"dev-admins@example.com": frozenset({"USE CATALOG"})}
    assert dev.named("dev_ml.fraud_dev.scorer").grants == {"dev-serving@example.com": frozenset({"EXECUTE"})}
    assert prod.get(Ref(Kind.CATALOG, "prod_ml")) is not None
    assert prod.get(Ref(Kind.CATALOG, "dev_ml")) is None
    assert dev.digest != prod.digest


def test_what_a_renamed_object_declares_keeps_its_place_in_the_file(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(ONE_SPEC.replace("[EXECUTE]", "[USE CATALOG]"), path=PATH, variables={"env": "dev"})

    assert [str(p.location) for p in raised.value.problems] == [f"{PATH}:10:57"]
    assert "USE CATALOG" in raised.value.problems[0].message


def test_an_unset_variable_in_a_name_is_one_error_at_that_key(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec("catalogs:\n  ml: {}\n  ${var.team}_ml:\n    comment: x\n", path=PATH)

    assert [str(p) for p in raised.value.problems] == [
        f"{PATH}:3:3: variable 'team' is not set (pass --var team=VALUE or set UCGOV_VAR_team)"
    ]


def test_a_name_that_a_variable_makes_bad_is_refused_as_a_bad_name_at_that_key(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec("catalogs:\n  ${var.env}_ml: {}\n", path=PATH, variables={"env": "a.b"})

    assert [str(p) for p in raised.value.problems] == [
        f"{PATH}:2:3: bad name 'a.b_ml': letters, digits, _, @ and - only, at most 255 characters"
    ]


def test_two_keys_that_become_one_name_are_an_error_naming_both(load_spec):
    text = "catalogs:\n  dev_ml: {comment: a}\n  ${var.env}_ml: {comment: b}\n"

    with pytest.raises(SpecError) as raised:
        load_spec(text, path=PATH, variables={"env": "dev"})

    assert [str(p) for p in raised.value.problems] == [
        f"{PATH}:3:3: catalog '${{var.env}}_ml' becomes dev_ml, which is also written at {PATH}:2:3"
    ]


def test_two_principals_that_become_one_are_an_error_naming_both(load_spec):
    text = "catalogs:\n  ml:\n    grants:\n      ${var.a}@x.com: [USE CATALOG]\n      ${var.b}@x.com: [BROWSE]\n"

    with pytest.raises(SpecError) as raised:
        load_spec(text, path=PATH, variables={"a": "bob", "b": "bob"})

    assert [str(p) for p in raised.value.problems] == [
        f"{PATH}:5:7: principal '${{var.b}}@x.com' becomes bob@x.com, which is also written at {PATH}:4:7"
    ]


def test_keys_that_are_not_names_keep_their_dollar_braces(load_spec):
    desired = load_spec("catalogs:\n  ml:\n    properties: {'${var.x}': v}\n", variables={"x": "y"})

    assert desired.named("ml").properties == {"${var.x}": "v"}


def test_a_literal_dollar_brace_in_a_name_is_still_refused_as_a_bad_name(load_spec):
    with pytest.raises(SpecError, match=r"bad name '\$\{var.x\}'"):
        load_spec("catalogs:\n  $${var.x}: {}\n")


NAME_CHARS = st.text(st.sampled_from("abcXYZ019_-@.$ {}é"), max_size=6)


@given(env=NAME_CHARS)
def test_a_variable_in_a_name_loads_as_that_name_or_is_a_located_error_at_the_key(env):
    text = "catalogs:\n  ${var.env}_ml:\n    schemas:\n      s_${var.env}: {comment: '${var.env}'}\n"
    try:
        desired = load_texts([(PATH, text)], variables={"env": env})
    except SpecError as exc:
        assert exc.problems
        assert all(str(p.location) in (f"{PATH}:2:3", f"{PATH}:4:7") for p in exc.problems)
        assert all("bad name" in p.message for p in exc.problems)
    else:
        assert desired.named(f"{env}_ml.s_{env}").comment == env


@given(first=st.sampled_from(["a", "b", "${var.x}", "${var.y}"]), second=st.sampled_from(["a", "b", "${var.y}"]))
def test_names_collide_after_substitution_exactly_when_they_are_equal(first, second):
    variables = {"x": "a", "y": "b"}
    text = f"catalogs:\n  '{first}': {{}}\n  '{second}': {{}}\n"
    same = first.replace("${var.x}", "a").replace("${var.y}", "b") == second.replace("${var.y}", "b")
    try:
        desired = load_texts([(PATH, text)], variables=variables)
    except SpecError as exc:
        assert same and len(exc.problems) == 1
        assert str(exc.problems[0].location) == f"{PATH}:3:3"
    else:
        assert not same and len(desired.objects) == 2


def test_a_principal_a_variable_leaves_empty_is_one_error_saying_so(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(
            "catalogs:\n  ml:\n    grants:\n      '${var.team}': [USE CATALOG]\n", path=PATH, variables={"team": ""}
        )

    assert [str(p) for p in raised.value.problems] == [
        f"{PATH}:4:7: a principal must not be empty (is a variable in it set to nothing?)"
    ]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """ONE_SPEC with a few characters replaced, inserted or deleted, anywhere."""
    text = ONE_SPEC
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        pieces = st.sampled_from([*"${}.var:_-[] \n'\"&*<", "${var.env}", "${var.x}", "$${"])
        piece = "".join(draw(st.lists(pieces, max_size=3)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + piece + text[at + cut :]
    return text


@settings(max_examples=300)
@given(mutated(), st.sampled_from(["dev", "", "a.b", "dev_ml", "${var.env}", "x\ny"]))
def test_any_mutation_of_a_spec_with_variables_in_names_loads_or_fails_located(text, env):
    try:
        load_texts([(PATH, text)], variables={"env": env})
    except SpecError as exc:
        assert exc.problems
        assert all(str(p).startswith(f"{PATH}:") for p in exc.problems)


def test_a_promotion_source_and_a_policy_take_variables_as_values_do(load_spec):
    text = """\
    policies:
      - {name: no-exec, deny: {principal: "${var.env}-interns@example.com", privileges: [EXECUTE]}}
    catalogs:
      ${var.env}_ml:
        schemas:
          fraud:
            models:
              scorer:
                approved: {from: "${var.src}_ml.fraud.scorer", version: 7}
    """
    desired = load_spec(text, variables={"env": "prod", "src": "dev"})

    assert desired.named("prod_ml.fraud.scorer").approved.from_model == "dev_ml.fraud.scorer"
    assert desired.policies[0].principal == "prod-interns@example.com"


def test_a_problem_inside_the_first_of_two_colliding_names_is_reported_where_it_is_written(load_spec):
    text = "catalogs:\n  ${var.env}_ml:\n    comment: 5\n  dev_ml:\n    comment: b\n"

    with pytest.raises(SpecError) as raised:
        load_spec(text, path=PATH, variables={"env": "dev"})

    assert sorted(str(p.location) for p in raised.value.problems) == [f"{PATH}:3:14", f"{PATH}:4:3"]
