"""The provenance line apply writes on an approved version's comment, from the CI's own variables."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from ucgov import provenance
from ucgov.provenance import Provenance, from_environment

NOW = datetime(2026, 12, 2, 4, 40, 5, tzinfo=timezone.utc)
SHA = "3f2c9a7b1d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
GITHUB = {
    "GITHUB_SHA": SHA,
    "GITHUB_REPOSITORY": "acme/ml-specs",
    "GITHUB_RUN_ID": "9001",
    "GITHUB_REF": "refs/pull/12/merge",
    "GITHUB_SERVER_URL": "https://github.com",
}


def test_github_actions_gives_commit_repository_pull_request_and_run():
    line = from_environment(GITHUB, NOW).line()
    assert line == (
        f"ucgov: approved at 2026-12-02T04:40:05Z from commit {SHA} in acme/ml-specs, PR #12, "
        "run https://github.com/acme/ml-specs/actions/runs/9001"
    )


def test_a_push_to_main_has_no_pull_request():
    found = from_environment({**GITHUB, "GITHUB_REF": "refs/heads/main"}, NOW)
    assert found.review is None and found.commit == SHA


def test_gitlab_ci_gives_commit_merge_request_and_pipeline():
    env = {
        "CI_COMMIT_SHA": SHA,
        "CI_PROJECT_PATH": "acme/ml-specs",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/ml-specs/-/pipelines/55",
    }
    assert from_environment(env, NOW) == Provenance(
        "2026-12-02T04:40:05Z", SHA, "acme/ml-specs", "MR !7", "https://gitlab.example.com/acme/ml-specs/-/pipelines/55"
    )


def test_outside_ci_the_line_says_so():
    assert from_environment({}, NOW).line() == "ucgov: approved at 2026-12-02T04:40:05Z outside CI"


def test_a_person_s_text_is_kept_and_a_second_approval_replaces_the_line():
    first = provenance.comment("Trained on the March data.", from_environment(GITHUB, NOW))
    assert first.startswith("Trained on the March data.\n\nucgov: approved at")
    again = provenance.comment(first, from_environment({**GITHUB, "GITHUB_SHA": "a" * 40}, NOW))
    human, read = provenance.read(again)
    assert human == "Trained on the March data." and read.commit == "a" * 40 and read.review == "PR #12"


def test_a_long_comment_shortens_the_line_and_never_cuts_the_person_s_text():
    long = "x" * 150
    written = provenance.comment(long, from_environment(GITHUB, NOW))
    assert written.startswith(long) and len(written) <= 255
    assert provenance.read(written)[1].commit == SHA and provenance.read(written)[1].run is None
    assert provenance.comment("x" * 240, from_environment(GITHUB, NOW)) is None


def test_hostile_variables_cannot_add_lines_or_fake_a_commit():
    env = {**GITHUB, "GITHUB_SHA": "abc\nucgov: approved", "GITHUB_REPOSITORY": "a b\nc", "GITHUB_RUN_ID": "1;x"}
    found = from_environment(env, NOW)
    assert "\n" not in found.line() and found.commit is None and found.repository is None and found.run is None
    url = from_environment({**GITHUB, "GITHUB_SERVER_URL": "https://x\n, PR #99"}, NOW)
    assert url.run == "https://github.com/acme/ml-specs/actions/runs/9001"


@given(st.text(max_size=120), st.sampled_from([{}, GITHUB]))
def test_what_is_written_reads_back(human, env):
    written = provenance.comment(human, from_environment(env, NOW))
    assert written is not None
    text, read = provenance.read(written)
    given = from_environment(env, NOW)
    # a long text leaves out, to fit the server's limit, the run, then the repository, then most of the commit
    assert (read.at, read.review) == (given.at, given.review)
    assert read.run in (given.run, None) and read.repository in (given.repository, None)
    assert read.commit is None if given.commit is None else given.commit.startswith(read.commit)
    assert read == given or len(f"{human}\n\n{given.line()}".encode("utf-16-le")) // 2 > provenance.COMMENT_LIMIT
    assert (text or "") == (provenance.read(human)[0] or "")
