"""`ucgov history`: which commits changed a model's approval, and which server versions none explains."""

from __future__ import annotations

import json

from ucgov import history
from ucgov.state import Approval, ModelVersion

C1, C2, C3 = "a" * 40, "b" * 40, "c" * 40


def commit(sha: str, message: str = "Change specs") -> dict[str, str]:
    return {
        "commit": sha,
        "author": "Alice <alice@example.com>",
        "date": "2026-12-01T10:00:00+00:00",
        "message": message,
    }


def test_the_pull_or_merge_request_comes_from_the_merge_message():
    assert history.review_of("Merge pull request #12 from acme/approve\n\nApprove v3") == "PR #12"
    assert history.review_of("Approve v3\n\nSee merge request acme/ml-specs!7") == "MR !7"
    assert history.review_of("Approve scorer v3 (#41)\n") == "PR #41"
    assert history.review_of("Approve v3, see #12 for why") is None


def test_only_commits_that_change_the_approval_are_listed():
    commits = [commit(C1), commit(C2, "Merge pull request #5 from x/y"), commit(C3)]
    found = history.approvals(commits, [Approval(version=1), Approval(version=2), Approval(version=2)])
    assert [(a.commit, a.review, a.approves) for a in found] == [(C1, None, "version 1"), (C2, "PR #5", "version 2")]
    removed = history.approvals(commits[:2], [Approval(version=1), None])
    assert [a.approves for a in removed] == ["version 1", "nothing"]


def test_a_version_approved_on_the_server_that_no_commit_approves_is_flagged():
    git = history.approvals([commit(C1), commit(C2)], [Approval(version=1), Approval(run="r2")])
    versions = [
        ModelVersion(1, "r1", "READY", source="runs:/r1/model"),
        ModelVersion(2, "r2", "READY", source="runs:/r2/model"),
        ModelVersion(3, "r3", "READY", source="runs:/r3/model"),
    ]
    line = f"ucgov: approved at 2026-12-01T10:00:00Z from commit {C2}"
    rows = history.joined(git, versions, [None, line, None], approved_now=3, known=frozenset({C1, C2}))
    assert [(v.version, v.explained_by, v.unexplained) for v in rows] == [
        (1, (C1,), False),
        (2, (C2,), False),  # approved by run: the version that came from it
        (3, (), True),  # the model's approval line names it, no commit does
    ]
    assert rows[1].provenance.commit == C2 and not rows[1].provenance_commit_unknown
    stray = history.joined(git, versions[:1], [f"ucgov: approved at x from commit {C3}"], None, frozenset({C1}))
    assert stray[0].provenance_commit_unknown


def test_text_and_json_say_the_same():
    git = history.approvals([commit(C1, "Approve (#3)")], [Approval(version=1)])
    rows = history.joined(git, [ModelVersion(1, "r", "READY"), ModelVersion(2, "r", "READY")], [None, None], 2)
    found = {"model": "c.s.m", "approvals": git, "versions": rows}
    text = history.render(found, "text")
    assert "PR #3  approves version 1" in text and f"approved by commit {C1[:12]}" in text
    assert "version 2  READY  approved now  UNEXPLAINED" in text
    assert json.loads(history.render(found, "json"))["unexplained"] == [2]


def test_a_hostile_author_cannot_write_a_line_of_its_own():
    evil = {**commit(C1), "author": "Mallory\n  version 9  READY  approved now\x1b[2J"}
    git = history.approvals([evil], [Approval(version=1)])
    text = history.render({"model": "c.s.m", "approvals": git, "versions": []}, "text")
    assert "\x1b" not in text and not any(line.startswith("  version 9") for line in text.splitlines())


def test_git_gives_the_merge_that_brought_an_approval_in_with_its_pull_request(tmp_path, monkeypatch):
    import subprocess

    from ucgov import gitspecs

    def git(*args: str) -> str:
        run = ["git", "-c", "user.name=Alice", "-c", "user.email=alice@example.com", *args]
        return subprocess.run(run, cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    spec = tmp_path / "specs" / "m.yaml"
    spec.parent.mkdir()
    model = "catalogs:\n  c:\n    schemas:\n      s:\n        models:\n          m:\n            approved: {{version: {}}}\n"
    git("init", "-q", "-b", "main")
    spec.write_text(model.format(1))
    git("add", "-A"), git("commit", "-qm", "Approve v1")
    (tmp_path / "README").write_text("unrelated")
    git("add", "-A"), git("commit", "-qm", "Docs")
    git("checkout", "-qb", "approve-v2")
    spec.write_text(model.format(2))
    git("commit", "-qam", "Approve v2")
    git("checkout", "-q", "main")
    git("merge", "-q", "--no-ff", "approve-v2", "-m", "Merge pull request #7 from acme/approve-v2")
    merge = git("rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)
    commits = gitspecs.log(["specs"])
    assert [c["message"].splitlines()[0] for c in commits] == [
        "Approve v1",
        "Merge pull request #7 from acme/approve-v2",
    ]
    at = [history._approval_at(c["commit"], ["specs"], "c.s.m", {}) for c in commits]
    found = history.approvals(commits, at)
    assert [(a.approves, a.review) for a in found] == [("version 1", None), ("version 2", "PR #7")]
    assert found[1].commit == merge and found[1].author == "Alice <alice@example.com>"


def test_a_promotion_is_explained_by_the_commit_that_promotes_and_shows_its_source():
    git = history.approvals(
        [commit(C1, "Promote v1 (#7)"), commit(C2, "Promote v2 (#8)")],
        [Approval(from_model="dev.s.m", from_version=1), Approval(from_model="dev.s.m", from_version=2)],
    )
    assert [(a.review, a.approves) for a in git] == [("PR #7", "promoted dev.s.m/1"), ("PR #8", "promoted dev.s.m/2")]
    versions = [ModelVersion(1, "r1", "READY"), ModelVersion(2, "r2", "READY"), ModelVersion(3, "r3", "READY")]
    comments = [
        "promoted from dev.s.m/1",
        f"promoted from dev.s.m/2\n\nucgov: approved at 2026-12-01T10:00:00Z from commit {C2}, PR #8",
        "promoted from dev.s.m/3",  # promoted by hand: no commit promotes dev.s.m/3
    ]
    rows = history.joined(git, versions, comments, approved_now=3, known=frozenset({C1, C2}))
    assert [(v.version, v.promoted_from, v.explained_by, v.unexplained) for v in rows] == [
        (1, "dev.s.m/1", (C1,), False),
        (2, "dev.s.m/2", (C2,), False),
        (3, "dev.s.m/3", (), True),
    ]
    text = history.render({"model": "prod.s.m", "approvals": git, "versions": rows}, "text")
    assert "PR #8  approves promoted dev.s.m/2" in text
    assert f"version 2  READY  promoted from dev.s.m/2  approved at 2026-12-01T10:00:00Z from commit {C2}" in text
    assert (
        json.loads(history.render({"model": "prod.s.m", "approvals": git, "versions": rows}, "json"))["versions"][1][
            "promoted_from"
        ]
        == "dev.s.m/2"
    )
