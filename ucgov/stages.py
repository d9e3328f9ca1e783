"""The stages ``plan`` and ``apply`` run, between the command line and the pure planner: load the
specs, read the live state they need (a promotion's source from its own target's server), diff; save
a plan, and read a saved one back, checked against the server and, given them, the specs it came from.

These stages read files and servers; what is shown and asked is ``ucgov.cli``'s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ucgov.apply import Checked
    from ucgov.client import UCClient
    from ucgov.plan import Change, Plan
    from ucgov.planfile import SavedPlan
    from ucgov.state import DesiredState, LiveState, Server


def load(paths: tuple[str, ...], variables: dict[str, str]) -> DesiredState:
    """The specs under ``paths``, ``--var`` values winning over UCGOV_VAR_NAME ones."""
    from ucgov.spec import load_specs, variables_from

    return load_specs(paths, variables=variables_from(os.environ, variables))


def planned(
    paths: tuple[str, ...],
    variables: dict[str, str],
    client: UCClient,
    parallelism: int = 16,
    *,
    show_unmanaged: bool = False,
    target: str | None = None,
) -> tuple[Plan, LiveState]:
    """(the plan, the live state it was computed against); with show_unmanaged, what no spec declares too."""
    from dataclasses import replace

    from ucgov.kinds import listed_whole
    from ucgov.live import read_catalog_names, read_listed
    from ucgov.planner import diff
    from ucgov.unmanaged import unmanaged

    desired = load(paths, variables)
    live = read_for(paths, desired, client, target, parallelism)
    computed = diff(desired, live)
    if show_unmanaged:
        unread = [k for k in listed_whole() if k not in live.listed_kinds]  # one listing each, if not read yet
        listed = {**read_listed(client, unread), **live.listed}
        live = replace(live, catalogs=read_catalog_names(client), listed=listed)
        computed = replace(computed, unmanaged=unmanaged(desired, live))
    return computed, live


def checked(
    saved: Plan | None,
    desired: DesiredState | None,
    plan_file: str | None,
    paths: tuple[str, ...],
    variables: dict[str, str],
    client: UCClient,
    parallelism: int,
    target: str | None,
) -> tuple[Plan, Checked]:
    """(the plan, its changes sorted into still to do and already done), read under the lock: the saved
    plan checked against the server (and against the specs, given PATHS), or the specs planned afresh."""
    from ucgov.apply import check, read_touched
    from ucgov.planner import diff

    if saved is None:
        assert desired is not None
        live = read_for(paths, desired, client, target, parallelism)
        computed = diff(desired, live)
        return computed, check(computed, live)
    found = check(saved, read_touched(client, saved, parallelism=parallelism))
    if paths:
        assert plan_file is not None
        _as_the_specs_plan(plan_file, found, saved, paths, variables, client, parallelism, target)
    return saved, found


def read_for(
    paths: tuple[str, ...], desired: DesiredState, client: UCClient, target: str | None, parallelism: int
) -> LiveState:
    """The live state for the specs; the sources of promotions from other targets are read from those
    targets' servers, each with a client of its own (``targets.promotion_sources``)."""
    from ucgov.client import UCClient
    from ucgov.live import read_state
    from ucgov.targets import promotion_sources

    sources = promotion_sources(paths, desired, target)
    with ExitStack() as stack:
        others = {s: stack.enter_context(UCClient(t.url, token=t.token())) for s, t in sources.items()}
        return read_state(client, desired, others=others, concurrency=parallelism)


def source_tokens(changes: Sequence[Change]) -> dict[Server, str | None]:
    """The token of each other target's server that the changes' promotions copy from, as their payloads
    record it (a saved plan's too): the variable token_env names; UcgovError naming it if it is not set."""
    from ucgov.plan import Promotion
    from ucgov.targets import Target

    servers = {c.payload.from_server for c in changes if isinstance(c.payload, Promotion) and c.payload.from_server}
    return {s: Target(s.target, s.url, s.token_env).token() for s in sorted(servers, key=lambda s: s.target)}


@contextmanager
def source_clients(tokens: dict[Server, str | None]) -> Iterator[dict[str, UCClient]]:
    """A client per server in ``tokens``, by target name, closed afterwards."""
    from ucgov.client import UCClient

    with ExitStack() as stack:
        yield {s.target: stack.enter_context(UCClient(s.url, token=token)) for s, token in tokens.items()}


def save(computed: Plan, url: str, out: str, target: str | None = None) -> None:
    """Write the plan to ``out`` with the server it was made against (no user or password) and its target."""
    from ucgov.errors import PlanFileError
    from ucgov.planfile import SavedPlan, dumps
    from ucgov.transport import without_userinfo

    try:
        saved = SavedPlan(plan=computed, url=without_userinfo(url), target=target)
        Path(out).write_text(dumps(saved), encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"cannot save the plan to {out}: {exc.strerror}") from exc


def saved(
    plan_file: str, url: str, paths: tuple[str, ...], variables: dict[str, str], target: str | None = None
) -> SavedPlan:
    """The saved plan, refused if made against another server or (when PATHS are given) from other specs,
    or granting what their policies deny."""
    from ucgov.errors import PlanFileError
    from ucgov.planfile import read
    from ucgov.rederive import policy_problems
    from ucgov.transport import without_userinfo

    found = read(plan_file)
    if found.target != target:
        made_for = f"target {found.target}" if found.target else "no target"
        asked = f"--target {target}" if target else "no --target"
        raise PlanFileError(
            f"{plan_file} was planned for {made_for}, and this apply names {asked}: apply it there, or plan again"
        )
    here = without_userinfo(url)
    if found.url.rstrip("/") != here.rstrip("/"):
        raise PlanFileError(f"{plan_file} was planned against {found.url}, not {here}: apply it there, or plan again")
    if not paths:
        _refuse_unvouched_sources(plan_file, found.plan)
        return found
    desired = load(paths, variables)
    if desired.digest != found.plan.specs_digest:
        raise PlanFileError(
            f"{plan_file} was made from other specs than those in {', '.join(paths)}: "
            "plan these specs again, review that plan, and apply it"
        )
    denied = policy_problems(found.plan.changes, desired)
    if denied:
        raise PlanFileError(
            f"{plan_file} grants what the policies in {', '.join(paths)} deny, so it was edited after planning: "
            + "; ".join(p.message for p in denied)
        )
    return found


def _refuse_unvouched_sources(plan_file: str, plan: Plan) -> None:
    """PlanFileError if the plan copies from another target's server: its checksum is no signature, so the
    URL it records gets that target's token only once the specs it was made from name the same one."""
    from ucgov.errors import PlanFileError
    from ucgov.plan import Promotion

    for change in plan.changes:
        server = change.payload.from_server if isinstance(change.payload, Promotion) else None
        if server is not None:
            raise PlanFileError(
                f"{plan_file} copies from target {server.target}'s server at {server.url}: give the spec PATHS it "
                f"was made from (apply --plan {plan_file} PATHS), so that URL is checked against their targets "
                f"before {server.token_env or 'UCGOV_TOKEN'} is sent to it"
            )


def _as_the_specs_plan(
    plan_file: str,
    checked: Checked,
    computed: Plan,
    paths: tuple[str, ...],
    variables: dict[str, str],
    client: UCClient,
    parallelism: int,
    target: str | None = None,
) -> None:
    """PlanFileError unless the file's changes are those the specs plan against the server now."""
    from ucgov.errors import PlanFileError
    from ucgov.planner import diff
    from ucgov.rederive import differences

    desired = load(paths, variables)
    rederived = diff(desired, read_for(paths, desired, client, target, parallelism))
    differing = differences(checked.pending, computed.changes, rederived.changes)
    if differing:
        listed = "\n".join(f"  {line}" for line in differing)
        raise PlanFileError(
            f"{plan_file} is not what these specs plan against the server now (edited, or the server "
            f"changed elsewhere since):\n{listed}\n"
            "Nothing was applied. Plan these specs again, review that plan, and apply it"
        )
