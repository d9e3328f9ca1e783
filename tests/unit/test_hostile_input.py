"""Whatever lands in a spec folder, ucgov answers with located errors: never a traceback, never a
runaway, never a file skipped without a word."""

from __future__ import annotations

import os
import resource
import time

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ucgov.cli import cli
from ucgov.errors import SpecError
from ucgov.spec import load_specs, load_texts

GOOD = """\
catalogs:
  ml:
    comment: ML assets
    grants:
      alice@example.com: [USE CATALOG]
    schemas:
      prod:
        models:
          churn:
            comment: Churn
            grants: {serving-app@example.com: [EXECUTE]}
            approved: {version: 3}
"""


def problems(text: str, **variables: str) -> list[str]:
    with pytest.raises(SpecError) as raised:
        load_texts([("specs/bad.yaml", text)], variables=variables)
    return [str(p) for p in raised.value.problems]


BILLION_LAUGHS = "x-lol:\n  l0: &a0 lol\n" + "".join(
    f"  l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "catalogs:\n  a\x00b: {}\n", "specs/bad.yaml:2:4: YAML syntax: character U+0000 is not allowed", id="nul"
        ),
        pytest.param(
            'catalogs:\n  ab: {comment: "x\x07y"}\n', "YAML syntax: character U+0007 is not allowed", id="bell"
        ),
        pytest.param("catalogs: &a\n  x: *a\n", "specs/bad.yaml:2:6: alias *a refers to itself", id="recursive-alias"),
        pytest.param(
            "catalogs: " + "[" * 5000 + "]" * 5000 + "\n",
            "nest",
            id="deep-nesting",  # libyaml 0.2.5 stops at 1,000 with its own words
        ),
        pytest.param(
            "catalogs: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 levels deep", id="nesting-past-64"
        ),
        pytest.param(BILLION_LAUGHS, "aliases expand this file past 100,000 extra values", id="billion-laughs"),
        pytest.param(
            'catalogs:\n  "abc\\n": {}\n', "specs/bad.yaml:2:3: bad name 'abc\\n': letters", id="name-ends-in-newline"
        ),
        pytest.param(
            'catalogs:\n  c:\n    comment: "' + "\U0001f600" * 128 + '"\n',
            "is 256 characters long as the server counts them (UTF-16 units: an emoji counts 2)",
            id="emoji-comment",
        ),
        pytest.param(
            "catalogs:\n  c:\n    comment: ${var.MY-VAR}\n",
            "'${var.MY-VAR}' is not a variable reference",
            id="var-dash",
        ),
        pytest.param(
            "catalogs:\n  c:\n    comment: ${ var.X }\n", "'${ var.X }' is not a variable reference", id="var-spaces"
        ),
        pytest.param(
            "catalogs:\n  c:\n    comment: ${var.X\n", "'${var.X' is not a variable reference", id="var-unclosed"
        ),
        pytest.param(
            'catalogs:\n  c:\n    grants: {"eve@example.com\\nPlan: 0 to revoke": [USE CATALOG]}\n',
            "bad principal 'eve@example.com\\nPlan: 0 to revoke': control characters",
            id="principal-with-newline",
        ),
        pytest.param(
            "---\ncatalogs: {}\n---\ncatalogs: {}\n", "holds one YAML document; found a second", id="two-documents"
        ),
        pytest.param("catalogs: !!python/object:os.system {}\n", "unsupported YAML tag", id="python-tag"),
    ],
)
def test_hostile_text_is_one_located_error(text, expected):
    found = problems(text)

    assert any(expected in p for p in found), found
    assert all(p.startswith("specs/bad.yaml:") for p in found)


def test_a_billion_laughs_file_is_refused_fast_and_small():
    started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    problems(BILLION_LAUGHS)

    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_yaml_merge_keys_let_a_mapping_override_what_it_merged():
    desired = load_texts(
        [
            (
                "specs/team.yaml",
                "x-defaults: &defaults\n  comment: shared\n  grants: {alice@example.com: [USE CATALOG]}\n"
                "catalogs:\n  a:\n    <<: *defaults\n  b:\n    <<: *defaults\n    comment: own\n",
            )
        ],
        variables={},
    )

    assert desired.named("a").comment == "shared"
    assert desired.named("b").comment == "own"
    assert desired.named("b").grants == {"alice@example.com": frozenset({"USE CATALOG"})}


def test_a_key_written_twice_is_still_a_duplicate_even_next_to_a_merge():
    found = problems("x-d: &d {comment: a}\ncatalogs:\n  a:\n    <<: *d\n    comment: b\n    comment: c\n")

    assert found == ["specs/bad.yaml:6:5: duplicate key 'comment' (first written at line 5)"]


def test_a_literal_dollar_brace_is_written_with_two_dollars():
    desired = load_texts([("s.yaml", "catalogs:\n  c:\n    comment: costs $${HOME}\n")], variables={})

    assert desired.named("c").comment == "costs ${HOME}"


def test_spec_files_that_are_not_plain_files_or_have_upper_case_suffixes_are_never_skipped_quietly(tmp_path):
    specs = tmp_path / "specs"
    (specs / "team").mkdir(parents=True)
    (specs / "team" / "ML.YAML").write_text("catalogs:\n  upper: {}\n")
    os.mkfifo(specs / "team" / "pipe.yaml")
    (specs / "team" / "loop").symlink_to(specs)

    with pytest.raises(SpecError) as raised:
        load_specs([specs])

    found = [str(p) for p in raised.value.problems]
    assert f"{specs / 'team' / 'pipe.yaml'}: not a regular file (a spec must be a plain file)" in found
    assert any("symlink loop" in p for p in found)


def test_an_upper_case_yaml_suffix_is_read(tmp_path):
    (tmp_path / "ML.YAML").write_text("catalogs:\n  upper: {}\n")

    assert list(r.full_name for r in load_specs([tmp_path]).objects) == ["upper"]


def test_a_spec_that_is_not_utf8_is_a_located_error(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes("catalogs:\n  c: {comment: caf\xe9}\n".encode("latin-1"))

    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])

    assert result.exit_code == 1
    assert f"{tmp_path / 'latin1.yaml'}: cannot read file" in result.output
    assert "Traceback" not in result.output


# -- property-based: random and mutated specs --------------------------------------------------

SPEC_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))


def mutations() -> st.SearchStrategy[str]:
    """GOOD with a few characters replaced, inserted or deleted, anywhere."""

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        text = GOOD
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(text)))
            what = draw(st.sampled_from(["insert", "delete", "replace"]))
            piece = draw(st.text(SPEC_ALPHABET | st.sampled_from(list(":-[]{}&*!|>'\"#%@`,? \n\t")), max_size=4))
            if what == "insert":
                text = text[:at] + piece + text[at:]
            elif what == "delete":
                text = text[:at] + text[at + len(piece) + 1 :]
            else:
                text = text[:at] + piece + text[at + len(piece) :]
        return text

    return mutate()


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutations(), st.text(SPEC_ALPHABET, max_size=200)))
def test_any_text_loads_or_fails_with_located_spec_errors_only(text):
    try:
        load_texts([("specs/any.yaml", text)], variables={"X": "x"})
    except SpecError as exc:
        assert exc.problems
        assert all(str(p).startswith("specs/any.yaml:") for p in exc.problems)


@settings(max_examples=100, deadline=2000)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(SPEC_ALPHABET, max_size=8),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(SPEC_ALPHABET, max_size=6), children, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_any_yaml_value_in_a_catalog_is_located_spec_errors_or_a_valid_spec(body):
    text = yaml.safe_dump({"catalogs": {"ml": body}}, allow_unicode=True)
    try:
        load_texts([("specs/any.yaml", text)], variables={})
    except SpecError as exc:
        assert all(str(p).startswith("specs/any.yaml:") for p in exc.problems)
