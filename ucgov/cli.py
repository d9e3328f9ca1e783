"""The ucgov command line: parse options, call the stages in order, show the results.

Only this module prints errors and chooses exit codes.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ucgov import __version__, stages
from ucgov.errors import UcgovError
from ucgov.redact import redact, remember_environment

EXIT_CHANGES = 2


class _Group(click.Group):
    """Shows ucgov's own errors as one message, never a traceback, with their exit code, never a secret.

    Usage errors exit 1 too: click's 2 would read as "changes pending" to --detailed-exitcode users.
    Everything written to stdout and stderr during a run, errors or not, passes through ``redact``;
    only the sandbox's export lines, which exist to hand over its token, are written around it.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        with _redacted_streams():
            try:
                result = super().main(*args, standalone_mode=False, **kwargs)
            except click.ClickException as exc:
                exc.show()
                sys.exit(1)
            except click.Abort:
                click.echo("Aborted!", err=True)
                sys.exit(1)
            sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        remember_environment(os.environ)
        try:
            return super().invoke(ctx)
        except UcgovError as exc:
            click.echo(f"Error: {_shown(redact(exc.format_message()), lines=True)}", err=True)
            for note in getattr(exc, "__notes__", ()):  # what also went wrong while it travelled (ucgov.lock)
                click.echo(_shown(redact(note), lines=True), err=True)
            ctx.exit(exc.exit_code)


class _Redacting:
    """A text stream that writes to ``stream`` with every secret ucgov knows replaced by ***."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.unredacted = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with bytes to learn whether a stream is binary
            raise TypeError("a text stream")
        return self._stream.write(redact(text))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding...; never buffer, which bypasses write
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextmanager
def _redacted_streams() -> Iterator[None]:
    originals = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Redacting(originals[0]), _Redacting(originals[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = originals


def _echo_unredacted(text: str) -> None:
    """Write text that must reach stdout as it is: the sandbox's own token, for `eval`."""
    click.echo(text, file=getattr(sys.stdout, "unredacted", sys.stdout))


def _parse_vars(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    if not values:
        return parsed
    from ucgov.spec import VARIABLE_NAME

    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}")
        if not VARIABLE_NAME.fullmatch(name):  # no ${var.NAME} could use it: a typo, not a value
            raise click.BadParameter(f"{name!r} is not a variable name: use letters, digits and _ (not first a digit)")
        parsed[name] = value
    return parsed


def _finite(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if value != value:  # nan passes FloatRange's comparisons, and would wait for ever
        raise click.BadParameter("must be a number of seconds from 0 to 86400, not nan")
    return value


paths_argument = click.argument("paths", nargs=-1, type=click.Path(), required=True)
var_option = click.option(
    "--var",
    "variables",
    multiple=True,
    callback=_parse_vars,
    metavar="NAME=VALUE",
    help="Value for ${var.NAME} in specs (repeatable); UCGOV_VAR_NAME also works.",
)
parallelism_option = click.option(
    "--parallelism",
    type=click.IntRange(min=1, max=64),
    default=16,
    show_default=True,
    help="Requests in flight at once (16 was fastest against the open-source server).",
)
url_option = click.option(
    "--url",
    envvar="UCGOV_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Unity Catalog server (or UCGOV_URL). The token comes from UCGOV_TOKEN.",
)
target_option = click.option(
    "--target",
    metavar="NAME",
    help="A target the specs declare (targets:): its url, token_env and vars are used; they win over UCGOV_URL "
    "and UCGOV_TOKEN in the environment, and --url with --target is refused (--var still wins over its vars).",
)
offline_target_option = click.option(
    "--target",
    metavar="NAME",
    help="A target the specs declare (targets:): its vars fill ${var.…} (--var still wins); no server is contacted.",
)
target_specs_option = click.option(
    "--specs",
    "spec_paths",
    multiple=True,
    type=click.Path(),
    help="The specs that declare --target's targets (repeatable; default specs/).",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ucgov")
def cli() -> None:
    """Govern Unity Catalog ML assets as code: catalogs, schemas, registered models,
    approved versions and grants, kept in YAML specs and reviewed like code.

    \b
    Typical use:
      ucgov validate specs/          check specs offline
      ucgov plan specs/              show what would change on the server
      ucgov apply specs/             make it so (asks first)
      ucgov diff origin/main         who gains and loses what, between git revisions
      ucgov export --out specs/      write specs for catalogs that already exist
      ucgov resolve c.s.model        the approved version's models:/ URI
      ucgov sandbox start            run a local Unity Catalog server to try it
    """


@cli.command()
@paths_argument
@var_option
@offline_target_option
def validate(paths: tuple[str, ...], variables: dict[str, str], target: str | None) -> None:
    """Check spec files offline: syntax, names, privileges, conflicts between files.

    Reads every *.yaml / *.yml under PATHS. Exit status 0 if all is well, 1 with
    every problem listed as path:line:col otherwise. Contacts no server.
    """
    from ucgov.targets import promotion_sources

    if target:
        variables = _target_variables(_read(paths), target, variables)
    desired = stages.load(paths, variables)
    promotion_sources(paths, desired, target, tokens=False)  # each promotion's source target is declared
    click.echo(f"Specs are valid: {len(desired.objects)} objects, {len(desired.principals)} principals.")


@cli.command()
@paths_argument
@var_option
@url_option
@target_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Also save the plan to FILE, for `ucgov apply --plan FILE`."
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 if no changes, 2 if changes are pending, 1 on error.")
@parallelism_option
@click.option(
    "--show-unmanaged",
    is_flag=True,
    help="Also list live catalogs, credentials and external locations, and objects of every kind inside declared "
    "catalogs, that no spec declares.",
)
def plan(
    paths: tuple[str, ...],
    variables: dict[str, str],
    url: str,
    target: str | None,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    parallelism: int,
    show_unmanaged: bool,
) -> None:
    """Compare specs with the live server and show the changes apply would make.

    Reads the declared objects (and, for what a grant reaches, the live ones inside declared
    catalogs). Nothing is changed on the server. With --out, the plan is saved with the live
    value each change expects; `apply --plan` then makes exactly those changes, skips those
    already made, or refuses the whole plan if someone changed what one of them expects.
    """
    from ucgov.client import UCClient
    from ucgov.render import render

    if out and not Path(out).resolve().parent.is_dir():
        raise UcgovError(f"cannot save the plan to {out}: the folder {Path(out).parent} does not exist")
    url, token, variables = _connection(paths, target, url, variables)
    with UCClient(url, token=token) as client:
        computed, _ = stages.planned(
            paths, variables, client, parallelism, show_unmanaged=show_unmanaged, target=target
        )
    click.echo(render(computed, fmt, color=_color()))
    if out:
        stages.save(computed, url, out, target)
        click.echo(f"Saved the plan to {out}; apply exactly this plan with: ucgov apply --plan {out}", err=True)
    if detailed_exitcode and not computed.empty:
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@var_option
@url_option
@target_option
@click.option(
    "--plan", "plan_file", type=click.Path(exists=True, dir_okay=False), help="Apply a plan saved by `plan --out`."
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for pipelines).")
@click.option(
    "--allow-destroy",
    is_flag=True,
    help="Let apply delete what the plan deletes (prune, keep_versions); without it such a plan is refused.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0, max=86400),
    callback=_finite,
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another apply's lock before giving up.",
)
@parallelism_option
def apply(
    paths: tuple[str, ...],
    variables: dict[str, str],
    url: str,
    target: str | None,
    plan_file: str | None,
    auto_approve: bool,
    allow_destroy: bool,
    lock_timeout: float,
    parallelism: int,
) -> None:
    """Make the specs' changes on the server: plan PATHS, show, ask, apply; or apply --plan FILE.

    Without a terminal to ask at, apply refuses unless --auto-approve is given. A saved plan
    is applied exactly as reviewed; it is refused (nothing applied) if an object it changes
    was changed by someone else since, and with PATHS also if it was made from other specs,
    grants what their policies deny, or differs from what they plan now (the file's checksum
    is no signature: give PATHS to check it). Changes already in place are skipped. If a request fails, apply stops,
    lists what was and wasn't applied, and exits 1; running it again (with the same plan file
    too) finishes the job. A plan that deletes anything (specs with prune) is refused, before
    any change, unless --allow-destroy is given. SIGINT or SIGTERM ends it after the requests
    in flight, with the same account (exit 130 or 143). Apply takes a lock on the server before
    it reads it, and holds it until it ends (see `ucgov unlock`): an apply that waited for
    another (--lock-timeout) plans against what that one left.
    """
    from ucgov.apply import apply_checked, interrupted_before
    from ucgov.client import UCClient
    from ucgov.lock import LockInterrupted, apply_lock, lock_settings
    from ucgov.render import summary_line

    if not paths and not plan_file:
        raise click.UsageError("give spec PATHS, or --plan FILE (with the PATHS it was made from, to check them)")
    lock_settings()  # a bad UCGOV_LOCK or UCGOV_LOCK_SETTLE is refused before any request, not after planning
    url, token, variables = _connection(paths, target, url, variables)
    with UCClient(url, token=token) as client:
        saved = stages.saved(plan_file, url, paths, variables, target).plan if plan_file else None
        desired = stages.load(paths, variables) if paths and not plan_file else None
        # The lock comes before the server is read, as Terraform's does: what is shown, confirmed and
        # checked is what the previous holder left, never what it was about to change.
        with _signals_deferred() as stop_requested:
            try:
                with apply_lock(
                    client,
                    timeout=lock_timeout,
                    stop_requested=stop_requested,
                    note=lambda line: click.echo(_shown(line), err=True),
                ):
                    with _signals_raising(stop_requested):  # reading and asking write nothing: stop at once
                        computed, checked = stages.checked(
                            saved, desired, plan_file, paths, variables, client, parallelism, target
                        )
                        if saved is not None and not paths:
                            click.echo(_UNCHECKED.format(plan_file=plan_file), err=True)
                        tokens = _confirmed(computed, checked, allow_destroy=allow_destroy, auto_approve=auto_approve)
                        if tokens is None:
                            return
                    with stages.source_clients(tokens) as source_clients:
                        applied = apply_checked(
                            checked,
                            client,
                            allow_destroy=allow_destroy,
                            progress=lambda line: click.echo(f"  done: {_shown(line)}"),
                            stop_requested=stop_requested,
                            parallelism=parallelism,
                            others=source_clients,
                        )
            except LockInterrupted as exc:
                raise interrupted_before(saved.changes if saved else (), exc.signal_number, str(exc)) from exc
            except _Stopped as exc:
                raise interrupted_before((), exc.number, "before any change") from exc
    click.echo(f"Apply complete: {len(applied.made)} changes made. ({summary_line(computed)})")


@cli.command()
@url_option
@target_option
@target_specs_option
@click.option("--force", is_flag=True, help="Break the lock without asking, even a claim that is still renewed.")
def unlock(url: str, target: str | None, spec_paths: tuple[str, ...], force: bool) -> None:
    """Break the apply lock left by an apply that died, after showing who held it.

    The lock's claims are catalogs named ucgov_lock_<id> (UCGOV_LOCK names another stem) whose
    comment ucgov wrote; any other catalog is left alone, even with --force. A claim whose apply
    has certainly stopped (its process gone from this host, or its expiry passed) is stale, and
    is removed after asking (or with --force). A live claim, renewed by its running apply, is
    removed only with --force: two applies at once can leave grants that match neither's specs.
    """
    from ucgov.client import UCClient
    from ucgov.lock import remove, survey

    url, token, _ = _connection(_declaring(spec_paths, target), target, url, {})
    with UCClient(url, token=token) as client:
        found = survey(client)
        for name in found.foreign:
            click.echo(f"Left alone: catalog {_shown(name)} is named like a lock claim, but ucgov did not write it.")
        if not found.claims:
            click.echo(f"Nobody holds the lock on {client.url}.")
            return
        live = []
        for i, claim in enumerate(found.claims):
            why = claim.holder.stale()
            if not why:
                live.append(claim)
            state = f"stale: {why}" if why else "live: its apply is renewing it"
            shown = _shown(claim.describe())
            click.echo(f"{'The lock is held by' if i == 0 else 'Also claimed by'} {shown} ({state}).")
        if live and not force:
            raise UcgovError(
                f"the lock claim of {live[0].describe()} is still renewed by its apply, which may be running: "
                "wait for it, or if you are certain it is not running, run `ucgov unlock --force`"
            )
        if not force:
            _confirm("Break it?")
        remove(client, found.claims)
    click.echo("Lock broken.")


@contextmanager
def _signals_deferred() -> Iterator[Callable[[], int | None]]:
    """SIGINT and SIGTERM recorded instead of raised, so the request in flight can finish."""
    received: list[int] = []
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda number, _frame: received.append(number)) for s in handled}
    try:
        yield lambda: received[0] if received else None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _Stopped(BaseException):
    """A signal that ended an apply while it read or asked, before any change: nothing to finish first."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


@contextmanager
def _signals_raising(stop_requested: Callable[[], int | None]) -> Iterator[None]:
    """Within a deferring block, SIGINT and SIGTERM end the block at once (as _Stopped): while an apply
    only reads and asks, nothing is half-made, and a person at the prompt expects Ctrl-C to work."""

    def stop(number: int, _frame: object) -> None:
        raise _Stopped(number)

    if (number := stop_requested()) is not None:  # one that arrived while the lock was being taken
        raise _Stopped(number)
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, stop) for s in handled}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@cli.command("diff")
@click.argument("base_ref")
@click.argument("refs_and_paths", nargs=-1, metavar="[HEAD_REF] [PATHS]...")
@var_option
@offline_target_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def diff_command(
    base_ref: str, refs_and_paths: tuple[str, ...], variables: dict[str, str], target: str | None, fmt: str
) -> None:
    """Permission changes between two git revisions of the specs: who gains and loses what.

    Offline: reads the spec files from git, never contacts a server, needs no token, so it is
    safe in a pull request from a fork. HEAD_REF defaults to the working tree; PATHS to specs/.

    \b
      ucgov diff origin/main                 working tree against main
      ucgov diff origin/main HEAD specs/     two commits
    """
    from ucgov.gitspecs import spec_texts
    from ucgov.planner import diff_specs
    from ucgov.render import render
    from ucgov.spec import load_texts, variables_from

    head_ref, paths = _split_ref(refs_and_paths)
    base_texts, head_texts = spec_texts(base_ref, paths), spec_texts(head_ref, paths)
    values = variables_from(os.environ, _target_variables(head_texts, target, variables))  # the head's targets
    # the base may break a policy that this change fixes: only the head must obey them
    base = load_texts(base_texts, variables=values, check_policies=False)
    head = load_texts(head_texts, variables=values)
    reviewed = diff_specs(base, head)
    title = f"ucgov diff {base_ref}..{head_ref or 'working tree'}"
    click.echo(render(reviewed, fmt, color=_color(), title=title))


@cli.command()
@url_option
@target_option
@target_specs_option
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    metavar="NAME",
    help="Export this catalog (repeatable); default: every catalog except ucgov's own.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Write the spec files here [default: specs; with --target NAME: exported/NAME, outside the specs "
    "every target plans, since the names written are that target's own].",
)
@click.option("--force", is_flag=True, help="Overwrite spec files that already exist.")
@click.option(
    "--metastore/--no-metastore",
    default=None,
    help="Also write OUT/_metastore.yaml: metastore grants, credentials, external locations (default: without --catalog).",
)
def export(
    url: str,
    target: str | None,
    spec_paths: tuple[str, ...],
    catalogs: tuple[str, ...],
    out: str | None,
    force: bool,
    metastore: bool | None,
) -> None:
    """Write specs for what exists live: one OUT/CATALOG.yaml per catalog, and OUT/_metastore.yaml.

    Schemas, models, tables, volumes and functions, their comments, properties, definitions,
    grants (authoritative) and the approved version are written as a person would write them,
    so `ucgov plan OUT` right after reports no changes. What a spec cannot express is left out
    and listed. Adopting an existing catalog: export, commit, review the files, then plan and
    apply from them.
    """
    from ucgov.client import UCClient
    from ucgov.export import export as export_specs

    declaring = _declaring(spec_paths, target)
    url, token, _ = _connection(declaring, target, url, {})
    out = out or (str(Path("exported", target)) if target else "specs")
    if target and any(Path(out).resolve().is_relative_to(Path(p).resolve()) for p in declaring):
        click.echo(
            f"Note: {_shown(out)} is among the specs that declare target {target}: the names written are its own, "
            "and every target would plan them (write ${var.…} where names differ).",
            err=True,
        )
    with UCClient(url, token=token) as client:
        done = export_specs(client, Path(out), catalogs=catalogs, overwrite=force, metastore=metastore)
    for written in done.files:
        click.echo(f"Wrote {_shown(written.path)}: {_shown(written.described)}, {written.summary}.")
    if done.notes:
        click.echo(f"Left out ({len(done.notes)}), so that plan on these files changes nothing:", err=True)
        for note in done.notes:
            click.echo(f"  {_shown(note)}", err=True)
    if not done.files:
        click.echo("No catalogs to export.", err=True)


@cli.command()
@click.argument("name", required=False)
@click.option("--principal", metavar="EMAIL", help="Only what this principal holds.")
@click.option("--catalog", "catalogs", multiple=True, metavar="NAME", help="Only objects in this catalog (repeatable).")
@click.option(
    "--specs",
    "spec_paths",
    multiple=True,
    type=click.Path(),
    help="Offline: read grants from these specs (repeatable); with --target, with its variables.",
)
@click.option("--rev", metavar="REF", help="With --specs: the specs at this git revision.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv", "markdown", "html"]), default="text", show_default=True
)
@url_option
@target_option
@var_option
@parallelism_option
def access(
    name: str | None,
    principal: str | None,
    catalogs: tuple[str, ...],
    spec_paths: tuple[str, ...],
    rev: str | None,
    fmt: str,
    url: str,
    target: str | None,
    variables: dict[str, str],
    parallelism: int,
) -> None:
    """Who can use what, through which grant, and whether it is usable (an access review).

    \b
      ucgov access --principal bob@example.com    everything bob holds
      ucgov access prod_ml.fraud.scorer           everyone who holds something on it
      ucgov access --catalog prod_ml --format html > access.html
      ucgov access --catalog prod_ml --specs specs/ --rev v1.4   offline, as the specs say

    With --target, online: that target's server, its targets read from specs/; with --specs
    too, offline: those specs (at --rev) with the target's variables.
    """
    from ucgov.audit import access_rows
    from ucgov.gitspecs import spec_texts
    from ucgov.render.access import render_access

    token = None
    if spec_paths:  # offline: the target gives its variables only, and no token is read
        _refuse_url(target)
        variables = _target_variables(spec_texts(rev, list(spec_paths)) if target else [], target, variables)
    else:
        url, token, variables = _connection(_declaring((), target), target, url, variables)

    found, title = access_rows(
        name,
        principal,
        catalogs,
        spec_paths=spec_paths,
        rev=rev,
        url=url,
        token=token,
        variables=variables,
        parallelism=parallelism,
    )
    click.echo(render_access(found, fmt, title=title))


@cli.command()
@click.argument("name")
@url_option
@click.option(
    "--spec",
    "specs",
    multiple=True,
    type=click.Path(),
    help="Also check the approved version against these specs' approval (repeatable).",
)
@var_option
@target_option
def resolve(name: str, url: str, specs: tuple[str, ...], variables: dict[str, str], target: str | None) -> None:
    """Print the approved version of model NAME (catalog.schema.model) as a models:/ URI.

    The version must exist and be READY, else exit 1; with --spec it must also be the one the
    specs approve. For deploy jobs: mlflow.pyfunc.load_model("$(ucgov resolve unity.default.iris)")
    with the registry URI uc:UCGOV_URL.
    """
    from ucgov.resolver import resolve as resolve_uri

    url, token, variables = _connection(specs, target, url, variables)
    click.echo(resolve_uri(name, url=url, token=token, specs=specs, variables=variables))


@cli.command()
@click.argument("name")
@click.option(
    "--specs",
    "spec_paths",
    multiple=True,
    type=click.Path(),
    help="The specs in git, which also declare --target's targets (repeatable; default specs/).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@url_option
@target_option
@var_option
def history(
    name: str, spec_paths: tuple[str, ...], fmt: str, url: str, target: str | None, variables: dict[str, str]
) -> None:
    """The approvals of model NAME over time: the commits that changed them, joined with the
    server's versions and the provenance apply wrote on them; flags a version approved on the
    server that no commit explains. With --target: that target's server, and its variables at
    every commit (the targets as the specs declare them now)."""
    from ucgov import history as model_history

    paths = list(spec_paths or _declaring((), target) or ["specs"])
    url, token, variables = _connection(tuple(paths), target, url, variables)
    found = model_history.read(name, paths, url=url, token=token, variables=variables)
    click.echo(model_history.render(found, fmt))


@cli.group()
def sandbox() -> None:
    """Run a real open-source Unity Catalog server locally, with authorization on."""


port_option = click.option(
    "--port", type=click.IntRange(1, 65534), default=8080, show_default=True, help="The server also uses PORT+1."
)


class _EvalCommand(click.Command):
    """A command whose stdout is for `eval "$(...)"`: when it fails, it prints `false` there, so
    `eval "$(ucgov sandbox start)" && next` stops instead of going on with nothing set.

    Not at a terminal, where no eval reads it. The reason goes to stderr as for any error.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _false_on_failure():  # usage errors (--port 0) are raised here
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _false_on_failure():
            return super().invoke(ctx)


@contextmanager
def _false_on_failure() -> Iterator[None]:
    try:
        yield
    except click.exceptions.Exit as exc:
        if exc.exit_code:
            _print_false()
        raise
    except SystemExit as exc:
        if exc.code:
            _print_false()
        raise
    except BaseException:
        _print_false()
        raise


def _print_false() -> None:
    if not sys.stdout.isatty():
        click.echo("false")


@sandbox.command("start", cls=_EvalCommand)
@port_option
@click.option("--user", "users", multiple=True, metavar="EMAIL", help="Create this user on the server (repeatable).")
@click.option(
    "--maven-repo",
    "maven_repos",
    multiple=True,
    metavar="URL|DIR",
    help="A Maven repository to fetch the server from, before Maven Central (repeatable; UCGOV_MAVEN_REPO too).",
)
@click.option(
    "--storage",
    type=click.Choice(["file", "s3"]),
    default="file",
    show_default=True,
    help="Where model versions are stored: a local folder, or a bucket on a local S3 server (needs ucgov[sandbox-s3]).",
)
def sandbox_start(port: int, users: tuple[str, ...], maven_repos: tuple[str, ...], storage: str) -> None:
    """Start a fresh server in the background and print its UCGOV_URL and UCGOV_TOKEN.

    The first start downloads the server (io.unitycatalog:unitycatalog-server) with
    Maven and caches it; Java 17+ and Maven are needed. Where your Maven mirror lacks the
    server, name a repository that holds it with --maven-repo or UCGOV_MAVEN_REPO
    (comma-separated URLs or folders). With --storage s3, a local S3 server (moto) holds
    the model versions, and the S3 endpoint is printed too. Use it with:

        eval "$(ucgov sandbox start --user alice@example.com)"
    """
    from ucgov import sandbox as sb

    click.echo(f"Starting Unity Catalog {sb.SERVER_VERSION} on port {port}...", err=True)
    started = sb.start(
        port, users=users, maven_repos=maven_repos, progress=lambda line: click.echo(line, err=True), storage=storage
    )
    click.echo(f"Ready at {started.url} (admin token in {started.workdir}/etc/conf/token.txt).", err=True)
    click.echo(f"Managed volumes need a catalog or schema storage_root under {started.managed_root}.", err=True)
    if started.s3_endpoint:
        click.echo(
            f"Model versions are stored in {started.storage_root} on the S3 server at {started.s3_endpoint}.", err=True
        )
    _echo_unredacted("\n".join(started.env_lines()))


@sandbox.command("env", cls=_EvalCommand)
@port_option
def sandbox_env(port: int) -> None:
    """Print the export lines for the running sandbox again."""
    from ucgov import sandbox as sb

    _echo_unredacted("\n".join(sb.current(port).env_lines()))


@sandbox.command("stop")
@port_option
def sandbox_stop(port: int) -> None:
    """Stop the sandbox started on PORT (and nothing else); its data is deleted."""
    from ucgov import sandbox as sb

    if sb.stop(port):
        click.echo(f"Stopped the sandbox on port {port}.")
    else:
        click.echo(f"No sandbox was running on port {port}.")


_UNCHECKED = (
    "Applying {plan_file} as saved, checked against the server only: its checksum catches accidental edits, "
    "not deliberate ones; give the specs it was made from (apply --plan {plan_file} PATHS) to check it against them."
)


def _confirmed(computed, checked, *, allow_destroy: bool, auto_approve: bool) -> dict | None:
    """Show the plan and what is already done; once it may be applied, the tokens of the other targets'
    servers its promotions copy from (a token not set is refused before asking); None: nothing to apply."""
    from ucgov.apply import refuse_destroy
    from ucgov.render import render_text

    click.echo(render_text(computed, color=_color()))
    for line in (c.describe() for c in checked.done):
        click.echo(f"  already done: {_shown(line)}")
    if not checked.pending:
        return None
    refuse_destroy(checked, allow_destroy=allow_destroy)
    tokens = stages.source_tokens(checked.pending)
    if not auto_approve:
        _confirm()
    return tokens


def _connection(
    paths: tuple[str, ...], target: str | None, url: str, variables: dict[str, str]
) -> tuple[str, str | None, dict[str, str]]:
    """(server URL, token, variables): the target's when --target names one (--var still wins), else as given."""
    if target is None:
        return url, _token(), variables
    _refuse_url(target)
    if not paths:
        raise click.UsageError("--target needs the spec PATHS that declare the targets")
    from ucgov.targets import chosen

    found = chosen(paths, target)
    return found.url, found.token(), {**found.variables, **variables}


def _refuse_url(target: str | None) -> None:
    """--url typed with --target is a contradiction; UCGOV_URL in the environment is ambient, and the target wins."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if target is not None and ctx.get_parameter_source("url") is ParameterSource.COMMANDLINE:
        raise click.UsageError(f"--url and --target both name the server: give one (target {target} has its url)")


def _declaring(spec_paths: tuple[str, ...], target: str | None) -> tuple[str, ...]:
    """The specs that declare the targets, for a command that takes no spec PATHS: --specs, else specs/."""
    if target is None and spec_paths:  # read as nothing, they would hide a mistake: export --specs DIR for --out
        raise click.UsageError("--specs names the specs that declare --target's targets: give --target NAME too")
    if target is None or spec_paths:
        return spec_paths
    if not Path("specs").exists():
        raise click.UsageError(
            "--target reads the targets from the specs that declare them: give --specs PATH "
            "(the default, specs/, is not here)"
        )
    return ("specs",)


def _read(paths: tuple[str, ...]) -> list[tuple[str, str]]:
    """The spec files' texts; SpecError for any that cannot be read, as loading them would say."""
    from ucgov.errors import SpecError
    from ucgov.spec.source import read_spec_files

    texts, problems = read_spec_files(paths)
    if problems:
        raise SpecError(problems)
    return texts


def _target_variables(texts: list[tuple[str, str]], target: str | None, variables: dict[str, str]) -> dict[str, str]:
    """Offline: the variables of the target these specs declare (--var still wins); no token is read."""
    if target is None:
        return variables
    from ucgov.targets import chosen_in

    return {**chosen_in(texts, target).variables, **variables}


def _split_ref(args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """The first argument is HEAD_REF unless it is a path that exists in the working tree."""
    if args and not Path(args[0]).exists():
        return args[0], list(args[1:]) or ["specs"]
    return None, list(args) or ["specs"]


def _shown(value: object, *, lines: bool = False) -> str:
    """What may quote server data (principals, comments, lock holders) as one line, control and
    bidi characters shown as escapes; with ``lines``, a message's own line breaks are kept."""
    from ucgov.render import escape

    return escape.lines(str(value)) if lines else escape.text(value)


def _token() -> str | None:
    return os.environ.get("UCGOV_TOKEN") or None


def _color() -> bool:
    return "NO_COLOR" not in os.environ


def _confirm(question: str = "Do you want to make these changes?") -> None:
    if not sys.stdin.isatty():
        raise UcgovError(
            "ucgov asks for confirmation, but there is no terminal: review what it showed, then pass "
            "--auto-approve (apply) or --force (unlock)"
        )
    answer = click.prompt(
        f"\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value",
        default="",
        show_default=False,
    )
    if answer.strip() != "yes":
        raise UcgovError("Cancelled.")


def main() -> None:
    cli(prog_name="ucgov")
