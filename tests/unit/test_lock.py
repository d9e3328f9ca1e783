"""The apply lock's pure parts: what counts as a claim, when one is stale, and the settings that shape it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from ucgov.cli import cli
from ucgov.errors import SpecError, UcgovError
from ucgov.lock import Holder, settle_seconds
from ucgov.reserved import is_reserved_catalog, lock_stem


def test_a_claim_is_recognised_by_what_ucgov_wrote_in_it_and_its_name():
    mine = Holder.me()

    assert Holder.parse(mine.catalog, mine.comment()) == mine
    assert json.loads(mine.comment())["ucgov_lock"] == 1


@pytest.mark.parametrize(
    "comment",
    [
        None,
        "",
        "team catalog",
        "[]",
        '{"ucgov_lock": 1}',
        "{not json",
    ],
)
def test_a_catalog_named_like_a_claim_with_another_comment_is_not_a_claim(comment):
    assert Holder.parse("ucgov_lock_0123456789ab", comment) is None


def test_a_claims_record_under_another_name_or_without_the_mark_is_not_a_claim():
    mine = Holder.me()
    record = json.loads(mine.comment())
    unmarked = json.dumps({k: v for k, v in record.items() if k != "ucgov_lock"})

    assert Holder.parse("ucgov_lock_ffffffffffff", mine.comment()) is None
    assert Holder.parse("ml", mine.comment()) is None
    assert Holder.parse(mine.catalog, unmarked) is None
    assert Holder.parse(mine.catalog, json.dumps({**record, "pid": "12"})) is None
    assert Holder.parse(mine.catalog, json.dumps({**record, "extra": 1})) is None


def test_a_claims_comment_fits_the_servers_limit_even_for_long_user_and_host_names(monkeypatch):
    monkeypatch.setenv("GITHUB_ACTOR", "ü" * 300)
    monkeypatch.setattr("socket.gethostname", lambda: "h" * 253)

    mine = Holder.me()

    assert len(mine.comment()) <= 255
    assert Holder.parse(mine.catalog, mine.comment()) == mine
    assert mine.stale() is None  # a shortened host is never taken for this one, so its pid is never judged


def test_a_claim_from_a_process_gone_from_this_host_is_stale():
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = replace(Holder.me(), pid=int(ended.stdout))

    assert "pid" in (dead.stale() or "") and "no longer running" in (dead.stale() or "")
    assert Holder.me().stale() is None  # this process runs


def test_a_claim_from_another_host_is_stale_only_once_it_expires():
    elsewhere = replace(Holder.me(), host="ci-runner-7", pid=999_999_999)
    later = datetime.now(timezone.utc) + timedelta(hours=2)

    assert elsewhere.stale() is None
    assert "expired at" in (elsewhere.stale(later) or "")
    assert elsewhere.renewed(later).stale(later) is None


def test_a_claim_from_another_container_of_the_same_name_is_never_judged_by_its_pid():
    other_namespace = replace(Holder.me(), pidns="pid:[1]", pid=999_999_999)

    assert other_namespace.stale() is None


@pytest.mark.parametrize("stem", ["a.b", "ucgov lock", "x/y", "lock\n", "é", "a" * 243])
def test_ucgov_lock_must_be_the_start_of_a_catalog_name(monkeypatch, stem):
    monkeypatch.setenv("UCGOV_LOCK", stem)

    with pytest.raises(UcgovError, match="UCGOV_LOCK must be the start of a catalog name"):
        lock_stem()


def test_the_lock_namespace_is_the_stem_and_its_claim_names(monkeypatch):
    assert is_reserved_catalog("ucgov_lock") and is_reserved_catalog("ucgov_lock_0123456789ab")
    assert not is_reserved_catalog("ucgov_lock_team") and not is_reserved_catalog("ucgov_locker")
    monkeypatch.setenv("UCGOV_LOCK", "team-a@lock")
    assert lock_stem() == "team-a@lock" and is_reserved_catalog("team-a@lock_0123456789ab")


@pytest.mark.parametrize("name", ["ucgov_lock", "ucgov_lock_0123456789ab"])
def test_a_spec_may_not_declare_a_catalog_in_the_lock_namespace(load_spec, name):
    with pytest.raises(SpecError) as raised:
        load_spec(f"catalogs:\n  ok: {{}}\n  {name}:\n    comment: mine\n")

    assert str(raised.value) == (
        f"specs/team.yaml:3:3: catalog name '{name}' is kept for ucgov's apply lock "
        "(ucgov_lock and ucgov_lock_<12 hex digits>): choose another name"
    )


def test_with_ucgov_lock_set_its_namespace_is_kept_too(load_spec, monkeypatch):
    monkeypatch.setenv("UCGOV_LOCK", "ml")

    with pytest.raises(SpecError, match=r"3:3: catalog name 'ml' is kept for ucgov's apply lock \(ml and"):
        load_spec("catalogs:\n  ok: {}\n  ml: {}\n")
    assert load_spec("catalogs:\n  ml_team: {}\n  ucgov_lock_x: {}\n").named("ml_team")


@pytest.mark.parametrize("given", ["inf", "-inf", "nan", "1e9", "-1", "soon", "301"])
def test_a_settle_time_that_is_not_a_sane_number_of_seconds_is_an_error(monkeypatch, given):
    monkeypatch.setenv("UCGOV_LOCK_SETTLE", given)

    expected = rf"UCGOV_LOCK_SETTLE must be a number of seconds from 0 to 300, not '{given}'"
    with pytest.raises(UcgovError, match=expected):
        settle_seconds()


def test_a_settle_time_in_range_is_taken(monkeypatch):
    monkeypatch.setenv("UCGOV_LOCK_SETTLE", "2.5")

    assert settle_seconds() == 2.5


@pytest.mark.parametrize("given", ["nan", "inf", "1e30", "-1"])
def test_a_lock_timeout_that_is_not_a_sane_number_of_seconds_is_one_sentence(tmp_path, given):
    result = CliRunner().invoke(cli, ["apply", str(tmp_path), "--lock-timeout", given], prog_name="ucgov")

    assert result.exit_code == 1
    assert "Invalid value for '--lock-timeout'" in result.output and "Traceback" not in result.output


def test_a_claim_with_a_pid_no_system_could_have_is_never_judged_by_it():
    impossible = replace(Holder.me(), pid=2**80)

    assert impossible.stale() is None


def test_a_claims_comment_cannot_fake_a_line_of_output():
    forged = replace(Holder.me(), who="ci\nError: all is well")

    assert "\n" not in forged.describe() and "ci\\nError" in forged.describe()


@pytest.mark.parametrize("given", ["inf", "1e9", "nan", "-1", "5s"])
def test_apply_refuses_a_bad_settle_time_before_it_asks_the_server_anything(tmp_path, monkeypatch, given):
    (tmp_path / "ml.yaml").write_text("catalogs:\n  ml: {}\n")
    monkeypatch.setenv("UCGOV_LOCK_SETTLE", given)

    result = CliRunner().invoke(
        cli, ["apply", str(tmp_path), "--auto-approve", "--url", "http://127.0.0.1:1"], prog_name="ucgov"
    )

    assert result.exit_code == 1
    assert f"UCGOV_LOCK_SETTLE must be a number of seconds from 0 to 300, not '{given}'" in result.output
    assert "cannot reach" not in result.output  # refused before planning, not after
