"""The plan for a pull-request comment: deletes, who gains and who loses what, then object changes.

Deletes come first, with what goes with them (a schema's models, a model's versions and
approval, and whether apply removes the files the server leaves behind); the grants made on a
deleted object show in the permission changes, as lost with it. For ucgov diff, policy changes
come first, and objects no longer declared follow the permissions; with plan --show-unmanaged,
what no spec declares comes last.

A grant on a catalog or schema is inherited by everything inside it (the server enforces
this), so each permission line says what the grant reaches: the declared objects inside, and
during `ucgov plan` the live ones too.
GitHub refuses comments over 65,536 characters: long plans fold details and summarise.

Every value from specs or the server goes in through ``escape.markdown`` (running text) or
``escape.code`` (a code span), never as it is; each finished line also passes ``escape.text``,
so no control or bidi character reaches the comment even from a line built by mistake.
"""

from __future__ import annotations

import json
from collections import defaultdict

from ucgov.plan import Action, Change, Files, GrantChange, ObjectChange, Plan, Promotion, VersionDeletion
from ucgov.policies import rule
from ucgov.privileges import in_reading_order
from ucgov.reach import acted_on
from ucgov.render import escape
from ucgov.render.escape import code, markdown
from ucgov.render.summary import summary_line
from ucgov.state import GrantsMode, Kind, Policy, Ref
from ucgov.unmanaged import undeclared_children
from ucgov.words import counted

COMMENT_LIMIT = 65_536
_BUDGET = COMMENT_LIMIT - 2_000  # room for the header, the summary and a CI tool's own wrapping
_NAMES_SHOWN = 5
_FOLD_OVER = 5  # changes per principal before they fold into <details>
_NOTICE_ROOM = 500  # for closing a fold and saying what was left out


def render_markdown(plan: Plan, *, title: str = "ucgov plan") -> str:
    """Permission changes per principal (with inherited reach), object changes, summary line."""
    warnings = [f"> **Warning:** {_sentence(w)}" for w in plan.warnings]
    head = [f"## {markdown(title)}", ""] + warnings + ([""] if plan.warnings else [])
    tail = [f"**{summary_line(plan)}**", ""]
    body = (
        _policy_section(plan)
        + _rights_section(plan)
        + _delete_section(plan)
        + _permission_section(plan)
        + _undeclared_section(plan)
        + _object_section(plan)
        + _unmanaged_section(plan)
    )
    text = "\n".join(head + body + tail)
    if len(text) > _BUDGET:
        room = _BUDGET - len("\n".join(head + tail)) - _NOTICE_ROOM
        text = "\n".join(head + _shortened(body, room) + tail)
    return escape.lines(text)


def _sentence(words: str) -> str:
    """One of ucgov's sentences, its `quoted` parts as code: every part escaped, so a name in it
    holding a backtick can at most move which parts look like code, never add markup."""
    parts = words.split("`")
    if len(parts) % 2 == 0:
        return markdown(words)
    return "".join(code(part) if i % 2 else markdown(part) for i, part in enumerate(parts))


class _Item(str):
    """A line that shows one change, policy change or undeclared object: what a shortened plan counts."""


def _policy_section(plan: Plan) -> list[str]:
    """ucgov diff: policies the change adds, removes (flagged: a control goes away) or rewrites."""
    if not plan.policy_changes:
        return []
    lines = ["### Policy changes", ""]
    for change in plan.policy_changes:
        if change.before is None:
            lines.append(_Item(f"- added **{markdown(change.name)}**: {_rule(change.after)}"))
        elif change.after is None:
            lines.append(_Item(f"- :warning: removed **{markdown(change.name)}**: was {_rule(change.before)}"))
        else:
            lines.append(
                _Item(f"- changed **{markdown(change.name)}**: {_rule(change.before)} → {_rule(change.after)}")
            )
    return lines + [""]


def _rule(policy: Policy | None) -> str:
    # the rest of the rule is ucgov's words and known privilege names
    return rule(policy, quote=code) if policy else ""


def _undeclared_section(plan: Plan) -> list[str]:
    """ucgov diff: objects the change stops declaring, what apply does with each (as the plan of the
    same change would), and who keeps or loses which grants on them."""
    if not plan.undeclared:
        return []
    lines = [
        "### No longer declared",
        "",
        "ucgov no longer governs these objects' grants; apply deletes those marked :wastebasket: "
        "(given `--allow-destroy`) and leaves the others on the server as they are:",
        "",
    ]
    for obj in plan.undeclared:
        verb = "loses" if obj.deleted else "keeps"
        held = "; ".join(f"**{markdown(p)}** {verb} {_listed(privileges)}" for p, privileges in obj.grants)
        marker = ":wastebasket: " if obj.deleted else ""
        fate = markdown(obj.fate)
        lines.append(
            _Item(f"- {marker}{code(obj.full_name)} ({obj.kind.label}) — {fate}; {held or 'no grants declared'}")
        )
    return lines + [""]


def _rights_section(plan: Plan) -> list[str]:
    """Grant changes on the metastore (a kind of one object), said as what they let people create:
    who gains, or loses, the right to create catalogs is what a reviewer must not miss."""
    changes = [c for c in plan.changes if c.action.is_grant and c.address.kind.spec.single]
    if not changes:
        return []
    kinds = {c.address.kind for c in changes}
    rights = in_reading_order({p for k in kinds for p in k.spec.privileges})
    lines = [f"### Who may {_may(rights)}", ""]
    for change in sorted(changes, key=lambda c: (c.address.principal or "", c.action.value)):
        assert isinstance(change.payload, GrantChange)
        who = f"**{markdown(change.address.principal or '')}**"
        may = _may(change.payload.privileges)
        if change.action is Action.GRANT:
            lines.append(f"- {who} may now {may}")
        else:
            lines.append(f"- :warning: {who} may no longer {may} — {markdown(change.reason)}")
    return lines + [""]


def _may(privileges: tuple[str, ...]) -> str:
    """``create catalogs and storage credentials`` for CREATE CATALOG, CREATE STORAGE CREDENTIAL;
    any other privilege by its name (the server takes every name on the metastore)."""
    created = [p.lower().removeprefix("create ") + "s" for p in privileges if p.startswith("CREATE ")]
    other = [p for p in privileges if not p.startswith("CREATE ")]
    return _and(([f"create {_and(created)}"] if created else []) + ([f"use {_and(other)}"] if other else []))


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _permission_section(plan: Plan) -> list[str]:
    """Per principal: grants gained and lost, including those lost because their object is deleted."""
    per_principal: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        if change.action.is_grant:
            per_principal[change.address.principal or ""].append(change)
    deleted = _lost_with_deletes(plan)
    if not per_principal and not deleted:
        return []
    lines = ["### Permission changes", ""]
    known = plan.objects + plan.live_children  # offline (ucgov diff) there are no live children
    for principal in sorted(per_principal.keys() | deleted.keys()):
        changes = per_principal[principal]
        gains = sum(c.action is Action.GRANT for c in changes)
        losses = len(changes) - gains + len(deleted.get(principal, ()))
        heading = f"**{markdown(principal)}** — {counted(gains, 'gain')}, {counted(losses, 'loss', 'losses')}"
        items = [_Item(_permission_line(c, known, plan.grants_modes.get(c.address.ref))) for c in changes]
        items += [_Item(line) for line in deleted.get(principal, ())]
        if len(items) > _FOLD_OVER:
            lines += [f"<details><summary>{heading}</summary>", ""] + items + ["", "</details>", ""]
        else:
            lines += [heading] + items + [""]
    return lines


def _lost_with_deletes(plan: Plan) -> dict[str, list[str]]:
    """Per principal, a line for each object deleted with grants of theirs on it: they lose them with it."""
    found: dict[str, list[str]] = defaultdict(list)
    for change in plan.changes:
        p = change.payload
        if change.action is Action.DELETE and isinstance(p, ObjectChange):
            where = f"{code(change.address.full_name)} ({change.address.kind.label})"
            for principal, privileges in p.grants:
                found[principal].append(
                    f"- :wastebasket: **loses {_listed(privileges)}** on {where} — goes with the delete"
                )
    return found


def _permission_line(change: Change, known: tuple[Ref, ...], mode: GrantsMode | None) -> str:
    p = change.payload
    assert isinstance(p, GrantChange)
    privileges = p.privileges
    label = change.address.kind.label + (f", grants {mode.value}" if mode else "")
    where = f"{code(change.address.full_name)} ({label})"
    reach = _reach(change.address.ref, privileges, known)
    if change.action is Action.GRANT:
        return f"- gains **{_listed(privileges)}** on {where}{reach}"
    flag = " — :no_entry: **left with no privilege on it**" if p.removes_all else ""
    return f"- :warning: **loses {_listed(privileges)}** on {where}{reach} — {markdown(change.reason)}{flag}"


def _reach(granted_on: Ref, privileges: tuple[str, ...], known: tuple[Ref, ...]) -> str:
    """What a grant on a catalog or schema gives on the live and declared objects inside it that each
    privilege acts on, counted by kind; privileges that act on the same kinds are said together:
    ``EXECUTE reaches 2 models (`a`, `b`) and 1 function (`f`); SELECT reaches 3 tables: ...``."""
    found: dict[Kind, tuple[list[str], set[str]]] = {}
    for privilege in privileges:
        for ref in acted_on(granted_on, privilege, known):
            acting, names = found.setdefault(ref.kind, ([], set()))
            acting += [] if privilege in acting else [privilege]
            names.add(ref.full_name)
    groups: dict[tuple[str, ...], list[Kind]] = defaultdict(list)
    for kind in sorted(found, key=list(Kind).index):  # the registry's order: models before functions
        groups[tuple(found[kind][0])].append(kind)
    parts = [
        f"{_listed(acting)} reaches {_by_kind([(k, sorted(found[k][1])) for k in kinds])}"
        for acting, kinds in groups.items()
    ]
    return " — " + "; ".join(parts) if parts else ""


def _by_kind(reached: list[tuple[Kind, list[str]]]) -> str:
    """``3 tables: `a`, `b`, `c``` for one kind; ``2 models (`a`, `b`) and 1 function (`f`)`` for several."""
    if len(reached) == 1:
        kind, names = reached[0]
        return f"{counted(len(names), kind.label)}: {_names(names)}"
    parts = [f"{counted(len(names), kind.label)} ({_names(names)})" for kind, names in reached]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _names(names: list[str]) -> str:
    shown = ", ".join(code(n) for n in names[:_NAMES_SHOWN])
    return shown + (f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else "")


def _delete_section(plan: Plan) -> list[str]:
    """Deletes first of all: what goes, what goes with it, and what a reviewer must weigh."""
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    if not deletes:
        return []
    lines = [
        "### Deletes",
        "",
        f":warning: **{len(deletes)} to delete**; apply refuses this plan unless given `--allow-destroy`.",
        "",
    ]
    deleted = {c.address.full_name for c in deletes if isinstance(c.payload, ObjectChange)}
    for change in deletes:
        name = change.address.full_name
        if isinstance(change.payload, VersionDeletion):
            what = f"version {change.payload.version} of {code(name)} (model)"
        else:
            what = f"{code(name)} ({change.address.kind.label})"
            inside = sorted(n for n in deleted if n.startswith(name + "."))
            if inside:
                what += f", with {_names(inside)}"
        files = change.payload.files if isinstance(change.payload, ObjectChange | VersionDeletion) else None
        lines.append(_Item(f"- :wastebasket: {what} — {markdown(change.reason)}{_files(files)}"))
    return lines + [""]


def _files(files: Files | None) -> str:
    """What becomes of the files the server leaves behind when it deletes."""
    if files is None:
        return ""
    where = code(files.location)
    if files.removed:
        return f"; its files at {where} are removed"
    return f"; :warning: its files **stay** at {where}: {markdown(files.why_kept)}"


def _unmanaged_section(plan: Plan) -> list[str]:
    """plan --show-unmanaged: what exists live that no spec declares."""
    if plan.unmanaged is None:
        return []
    lines = ["### Not declared by any spec", ""]
    if not plan.unmanaged:
        return lines + [
            "Every live catalog, and every schema, model, table, volume and function inside the declared ones, is declared.",
            "",
        ]
    lines += [_Item(f"- {code(u.full_name)} ({u.kind.label})") for u in plan.unmanaged]
    counts = undeclared_children(plan)
    if counts:
        lines += ["", "Declared objects with live children no spec declares:", ""]
        lines += [f"- {code(name)} ({inside.kind.label}): {inside.described()}" for name, inside in counts.items()]
    return lines + [""]


def _object_section(plan: Plan) -> list[str]:
    changes = [c for c in plan.changes if not c.action.is_grant and c.action is not Action.DELETE]
    if not changes:
        return []
    return (
        ["### Object changes", "", "| | object | change |", "|---|---|---|"]
        + [_Item(_object_row(c)) for c in changes]
        + [""]
    )


def _object_row(change: Change) -> str:
    name = f"{code(change.address.full_name)} ({change.address.kind.label})"
    if change.action is Action.UPDATE:
        detail = "; ".join(f"{k}: {_code(change.before.get(k))} → {_code(v)}" for k, v in change.after.items())
    elif isinstance(change.payload, Promotion):
        return f"| {change.action.marker} | {name} | {_promotion(change.payload)} |"
    elif change.action in (Action.REGISTER, Action.APPROVE):
        return f"| {change.action.marker} | {name} | {markdown(change.describe())} |"
    else:
        detail = ", ".join(f"{k} {_code(v)}" for k, v in (change.after or {}).items())
    return f"| {change.action.marker} | {name} | {change.action.value} {detail} |".replace("  |", " |")


def _promotion(p: Promotion) -> str:
    """The promotion, the source's run, and what that run holds for each gate: what the reviewer approves on."""
    run = f" (run {code(p.run_id)})" if p.run_id else ""
    gates = "; ".join(f"{code(words)}: {code(value)}" for words, value in p.evidence)
    where = f" from target {code(p.from_server.target)} ({code(p.from_server.url)})" if p.from_server else ""
    promoted = f"promote {code(f'{p.named}/{p.from_version}')}{where} → new version{run}"
    return promoted + (f" — gates read: {gates}" if gates else "")


def _code(value: object) -> str:
    """A value as inline code that cannot break out of a table cell."""
    return code(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _listed(privileges: tuple[str, ...] | list[str]) -> str:
    """Privileges as running text: the server's may be any string."""
    return markdown(", ".join(privileges))


def _shortened(body: list[str], room: int) -> list[str]:
    """Whole lines while they fit in ``room``; a fold left open is closed (or dropped if still
    empty), so the summary after it stays outside; then how many changes were left out."""
    kept: list[str] = []
    size, fold = 0, None  # fold: where the open <details> starts in kept
    for index, line in enumerate(body):
        if size + len(line) + 1 > room:
            left_out = sum(isinstance(x, _Item) for x in body[index:])
            if fold is not None and not any(isinstance(x, _Item) for x in kept[fold:]):
                del kept[fold:]
            elif fold is not None:
                kept += ["", "</details>"]
            return kept + [
                "",
                f"_… {left_out} more changes not shown: this plan is too long for one comment._",
                "_Run `ucgov plan --format text` (or keep `--format json` as a build artifact) for all of it._",
                "",
            ]
        if line.startswith("<details>"):
            fold = len(kept)
        elif line == "</details>":
            fold = None
        kept.append(line)
        size += len(line) + 1
    return kept
