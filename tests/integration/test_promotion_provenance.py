"""Who promoted a version, against the real server and a real MLflow run: the promoted version carries
its lineage and the provenance line of the apply that made it, and `ucgov history` of the target model
shows the promotion, its source and the commit that asked for it."""

from __future__ import annotations

import json

import pytest
from test_audit import commit, git

pytestmark = pytest.mark.integration


def specs(catalog: str, run: str, promote: int | None) -> dict[str, str]:
    """A dev catalog whose model approves ``run``; a prod one that promotes dev's ``promote``, if any."""
    approved = f"\n            approved: {{from: {catalog}_dev.fraud.scorer, version: {promote}}}" if promote else ""
    models = "    schemas:\n      fraud:\n        models:\n          scorer:"
    return {
        "dev.yaml": f"catalogs:\n  {catalog}_dev:\n{models}\n            approved: {{run: {run}}}\n",
        "prod.yaml": f"catalogs:\n  {catalog}_prod:\n{models}{approved or ' {}'}\n",
    }


def write(repo, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / "specs" / name).write_text(text)


def test_a_promotion_in_github_actions_writes_provenance_and_history_shows_it_with_its_source(
    ucgov, rest, train_iris, catalog_name, tmp_path, monkeypatch
):
    run = train_iris()
    source, target = f"{catalog_name}_dev.fraud.scorer", f"{catalog_name}_prod.fraud.scorer"
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write(repo, specs(catalog_name, run, None))
    commit(repo, "Dev approves the run")
    monkeypatch.chdir(repo)
    assert ucgov("apply", "specs", "--auto-approve").exit_code == 0
    write(repo, specs(catalog_name, run, 1))
    sha = commit(repo, "Promote the scorer to prod (#21)")
    github = {
        "GITHUB_SHA": sha,
        "GITHUB_REPOSITORY": "acme/ml-specs",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_REF": "refs/pull/21/merge",
    }

    applied = ucgov("apply", "specs", "--auto-approve", env=github)

    assert applied.exit_code == 0, applied.output
    lineage, blank, line = rest.get(f"/models/{target}/versions/1")["comment"].splitlines()
    assert (lineage, blank) == (f"promoted from {source}/1", "")
    assert line.startswith("ucgov: approved at ")
    assert line.endswith(
        f"from commit {sha} in acme/ml-specs, PR #21, run https://github.com/acme/ml-specs/actions/runs/4242"
    )
    shown = ucgov("history", target, "--specs", "specs", "--format", "json")
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert [(a["commit"], a["review"], a["approves"]) for a in found["approvals"]] == [
        (sha, "PR #21", f"promoted {source}/1")
    ]
    (version,) = found["versions"]
    assert version["promoted_from"] == f"{source}/1" and version["approved_now"]
    assert version["explained_by"] == [sha] and not version["unexplained"] and found["unexplained"] == []
    assert version["provenance"]["commit"] == sha and version["provenance"]["review"] == "PR #21"
    text = ucgov("history", target, "--specs", "specs")
    assert text.exit_code == 0, text.output
    assert f"version 1  READY  approved now  promoted from {source}/1  approved at " in text.output
    assert f"approved by commit {sha[:12]}" in text.output and "UNEXPLAINED" not in text.output
