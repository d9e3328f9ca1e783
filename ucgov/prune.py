"""Which live objects and versions the specs retire: pure rules, shared by the live reader and the planner.

Deleting is opt-in twice: the specs say ``prune: true`` (in ``settings:``, or on a catalog or
schema for what is inside it, the nearest setting winning) and apply is given ``--allow-destroy``.
Prune only reaches inside declared catalogs and schemas: an undeclared catalog is never deleted.
Versions go only where a model's approval says ``keep_versions: K`` and prune applies to it:
the newest K stay, and so do the approved version and any version from the approved run.
Only kinds that are ``prunable`` go: schemas, models, volumes. A schema that holds anything else
no spec declares (a table, a function: specs could not make their data or code again) is kept, with
a warning naming what keeps it; the models and volumes in it may still go.
Top-level objects: a catalog is never deleted. Undeclared credentials and external locations go only
where the metastore's own ``prune: true`` says so (``KindSpec.pruned_by``; settings.prune never
reaches them), and are kept, with a warning naming what keeps them, while something live still needs
them: a credential an external location names (``KindSpec.references``), a location a live table or
volume ucgov has read lies under (``url_field``). The server refuses those deletes; ucgov never forces.
Each delete also says what goes with it that the server keeps quiet about: the grants made on
the object, and whether apply removes the files the server leaves behind.
"""

from __future__ import annotations

from urllib.parse import urlparse

from ucgov.kinds import lies_under
from ucgov.plan import Action, Address, Change, Fields, Files, ObjectChange, VersionDeletion, grants_snapshot
from ucgov.state import DesiredState, Kind, LiveState, Ref, Securable
from ucgov.storage import why_files_stay
from ucgov.words import counted


def prunes(desired: DesiredState, parent: str) -> bool:
    """Whether undeclared objects directly inside ``parent`` (a catalog or schema) are deleted."""
    parts = parent.split(".")
    for depth in range(len(parts), 0, -1):  # the nearest prune: written wins
        written = desired.prune_on.get(".".join(parts[:depth]))
        if written is not None:
            return written
    return desired.prune


def retired(desired: DesiredState, live: LiveState) -> list[Ref]:
    """The live objects to delete: undeclared, of a prunable kind, inside a pruned declared parent, and
    everything inside those, but for what is kept (see ``kept``); what is inside first (models before
    schemas), each by kind and name."""
    kept_here = kept(desired, live)
    inside = [r for r in _retired(desired, live) if r.kind.spec.prunable and r not in kept_here]
    return inside + [r for r in _retired_top(desired, live) if r not in kept_here]


def kept(desired: DesiredState, live: LiveState) -> dict[Ref, tuple[Ref, ...]]:
    """The objects prune would retire that stay, each with what keeps it: the live objects inside it that
    prune never deletes (the server refuses to delete a schema holding them, and data or code no spec
    holds would go)."""
    found = {}
    for ref in _retired(desired, live):
        holding = tuple(r for r in live.children.get(ref.full_name, ()) if not r.kind.spec.prunable)
        if ref.kind.spec.prunable and holding:
            found[ref] = holding
    return found | _kept_top(desired, live)


def _retired_top(desired: DesiredState, live: LiveState) -> list[Ref]:
    """Undeclared live top-level objects of the kinds the metastore's prune reaches; an object that
    names another first (external locations before their credentials), then by name."""
    found = [r for r in live.listed if r.kind in desired.prune_top and r not in desired.objects]
    return sorted(found, key=lambda r: (-r.kind.spec.rank, r.full_name))


def _kept_top(desired: DesiredState, live: LiveState) -> dict[Ref, tuple[Ref, ...]]:
    """The top-level objects prune would retire that something live still needs, with what needs
    them: a live table or volume under a location's url; a live object naming it that stays."""
    retiring = _retired_top(desired, live)
    found: dict[Ref, tuple[Ref, ...]] = {}
    for ref in retiring:  # who names another comes first: whether it goes is known when it is named
        spec = ref.kind.spec
        holding: list[Ref] = []
        if spec.url_field:
            url = (live.listed[ref].definition or {}).get(spec.url_field)
            holding += [r for r, where in sorted(live.stored.items()) if url and lies_under(where, url)]
        staying = [o for r, o in live.listed.items() if r not in retiring or r in found]
        staying += [o for r, o in live.objects.items() if r not in live.listed]
        holding += [
            o.ref
            for o in sorted(staying, key=lambda o: o.full_name)
            for field, kind in o.kind.spec.references
            if kind.name == ref.kind.value and o.value(field) == ref.full_name
        ]
        if holding:
            found[ref] = tuple(dict.fromkeys(holding))
    return found


def _retired(desired: DesiredState, live: LiveState) -> list[Ref]:
    found = set()
    for parent, refs in live.children.items():
        if _declared_container(desired, parent) and prunes(desired, parent):
            found.update(r for r in refs if r not in desired.objects)
    inside = {r for refs in (live.children.get(s.full_name, ()) for s in found) for r in refs}
    return sorted(found | inside, key=lambda r: (-r.kind.depth, r.full_name, r.kind.value))


def _declared_container(desired: DesiredState, full_name: str) -> bool:
    """Whether a catalog or schema of this name is declared (no two such share a full name)."""
    return any(Ref(kind, full_name) in desired.objects for kind in Kind if kind.children)


def delete_changes(desired: DesiredState, live: LiveState) -> list[Change]:
    """One delete per retired object (found in ``live.undeclared``), children before parents."""
    return [_delete(live.undeclared[r], live) for r in retired(desired, live) if r in live.undeclared]


def _delete(obj: Securable, live: LiveState) -> Change:
    """The delete, recording everything its reason shows goes with the object, for apply to check again."""
    spec = obj.kind.spec  # only the fields specs manage: a model's properties are not
    fields = Fields(**{f.name: obj.value(f.name) for f in spec.fields})
    payload = ObjectChange(
        before=fields,
        after=None,
        versions=tuple(v.version for v in obj.versions) if spec.versioned else (),
        approved=obj.approved.version if obj.approved else None,
        children=live.children.get(obj.full_name, ()) if obj.kind.children else (),
        files=files_going(obj.kind, obj.storage_location),
        grants=grants_snapshot(obj.grants),
    )
    return Change(Action.DELETE, Address(obj.kind, obj.full_name), payload, reason=_why(obj, live))


def _why(obj: Securable, live: LiveState) -> str:
    """Why it goes and, called out for the reviewer, what goes with it."""
    pruned_by = obj.kind.spec.pruned_by
    parts = [
        f"no spec declares it; prune is on for the {pruned_by.label}"
        if pruned_by
        else "no spec declares it; prune is on"
    ]
    if obj.kind.spec.versioned and obj.versions:
        parts.append(f"{counted(len(obj.versions), 'version')} {'goes' if len(obj.versions) == 1 else 'go'} with it")
    if obj.approved and obj.approved.version:
        parts.append(f"it holds the approved version {obj.approved.version}")
    files = files_going(obj.kind, obj.storage_location)
    if files and files.removed and obj.kind.spec.removes_files is not None:  # the server's delete takes them
        parts.append(f"its files at {obj.storage_location} go with it")
    inside = live.children.get(obj.full_name, ()) if obj.kind.children else ()
    if inside:
        # by kind, so a reviewer sees a model or volume going, not "2 objects"
        counts = [counted(n, k.label) for k in Kind if (n := sum(r.kind is k for r in inside))]
        listed = counts[0] if len(counts) == 1 else f"{', '.join(counts[:-1])} and {counts[-1]}"
        parts.append(f"not empty: {listed} inside {'is' if len(inside) == 1 else 'are'} deleted first")
    return "; ".join(parts)


def version_changes(desired: DesiredState, live: LiveState) -> list[Change]:
    """Deletes of the versions keep_versions lets go, for models prune applies to."""
    changes = []
    for obj in desired.ordered():
        have = live.get(obj.ref)
        if not obj.kind.spec.versioned or not obj.approved or not obj.approved.keep_versions or have is None:
            continue
        if not prunes(desired, obj.full_name.rsplit(".", 1)[0]):
            continue
        address = Address(obj.kind, obj.full_name)
        reason = f"older than the newest {obj.approved.keep_versions} and not approved (keep_versions)"
        where = {v.version: v.storage_location for v in have.versions}
        changes += [
            Change(Action.DELETE, address, VersionDeletion(v, files=files_of(where.get(v))), reason=reason)
            for v in dropped(obj, have)
        ]
    return changes


def files_going(kind: Kind, location: str | None) -> Files | None:
    """What becomes of the files of an object of ``kind`` at ``location`` when it is deleted: taken by the
    server's delete where the kind says it removes them, left where it says the server leaves them, else
    (a model's) removed by apply where it can (``files_of``)."""
    spec = kind.spec
    if not location or spec.removes_files is None:
        return files_of(location)
    if urlparse(location).scheme in spec.removes_files:
        return Files(location, removed=True)
    why = (
        f"the server's delete of a {kind.label} leaves them there, and ucgov does not remove them; remove them yourself"
    )
    return Files(location, removed=False, why_kept=why)


def files_of(location: str | None) -> Files | None:
    """What apply does with the files at ``location`` (the server leaves them when it deletes)."""
    if not location:
        return None
    why = why_files_stay(location)
    return Files(location, removed=why is None, why_kept=why or "")


def dropped(want: Securable, have: Securable) -> list[int]:
    """The versions keep_versions lets go: not among the newest K, not approved now or by the spec,
    not from the approved run (an unfinished one is about to be finished and approved)."""
    approval = want.approved
    if approval is None or not approval.keep_versions:
        return []
    ordered = sorted((v for v in have.versions), key=lambda v: v.version, reverse=True)
    kept = {v.version for v in ordered[: approval.keep_versions]}
    kept |= {approval.version, have.approved.version if have.approved else None}
    kept |= {v.version for v in have.versions if approval.run and v.run_id == approval.run}
    return sorted(v.version for v in have.versions if v.version not in kept)


def warnings(desired: DesiredState, live: LiveState, changes: list[Change]) -> list[str]:
    """What a reviewer must see: deletes need --allow-destroy; keep_versions without prune does nothing."""
    found = []
    deleting = [c for c in changes if c.action is Action.DELETE]
    if deleting:
        found.append(
            f"this plan deletes {counted(len(deleting), 'object or version', 'objects or versions')}: "
            "apply refuses it unless given --allow-destroy"
        )
    for ref, inside in kept(desired, live).items():
        if ref.kind.parent is None:  # a credential or location something live still needs
            found.append(f"{ref} is kept: {listing(inside)} still {'uses' if len(inside) == 1 else 'use'} it")
            continue
        found.append(
            f"{ref.kind.label} {ref.full_name} is kept: it holds {listing(inside)}, which ucgov does not delete"
        )
    for obj in desired.ordered():
        have = live.get(obj.ref)
        if (
            obj.approved
            and obj.approved.keep_versions
            and have
            and not prunes(desired, obj.full_name.rsplit(".", 1)[0])
        ):
            idle = dropped(obj, have)
            if idle:
                found.append(
                    f"model {obj.full_name}: keep_versions would delete {counted(len(idle), 'version')} "
                    f"({', '.join(map(str, idle))}), but prune is off for it; nothing is deleted"
                )
    return found


def review_warnings(base: DesiredState, head: DesiredState) -> list[str]:
    """ucgov diff: where the head starts deleting on apply, which the changes alone would not show."""
    found = [
        f"prune is turned on for the {kind.spec.pruned_by.label if kind.spec.pruned_by else kind.label}: apply "
        f"--allow-destroy will delete the live {kind.label}s that no spec declares (but those still in use)"
        for kind in Kind
        if kind in head.prune_top and kind not in base.prune_top
    ]
    for obj in head.ordered():
        parent = obj.full_name.rsplit(".", 1)[0]
        if obj.kind.children and prunes(head, obj.full_name) and not _pruned_in(base, obj.full_name):
            found.append(
                f"prune is turned on inside {obj.kind.label} {obj.full_name}: apply --allow-destroy will delete "
                "the live schemas, models and volumes in it that no spec declares (never a table or function, "
                "nor a schema holding one)"
            )
        keep = obj.approved.keep_versions if obj.approved else None
        had = base.get(obj.ref)
        kept = had.approved.keep_versions if had and had.approved and _pruned_in(base, parent) else None
        if keep and prunes(head, parent) and keep != kept:
            found.append(
                f"model {obj.full_name}: keep_versions: {keep} now applies: apply --allow-destroy will delete its older, "
                "unapproved versions"
            )
    return found


def _pruned_in(desired: DesiredState, full_name: str) -> bool:
    """Whether ``full_name`` is declared in ``desired`` with prune on for what is inside it."""
    return _declared_container(desired, full_name) and prunes(desired, full_name)


def child_noun(kind: Kind) -> str:
    """What the objects inside a kind are called: 'schema' in a catalog, 'model' in a schema."""
    return kind.children[0].label if len(kind.children) == 1 else "object"


def listing(refs: tuple[Ref, ...], shown: int = 5) -> str:
    """'table a.b.t and function a.b.f', the first few by kind and name, then how many more."""
    named = [f"{r.kind.label} {r.full_name}" for r in refs[:shown]]
    if len(refs) > shown:
        named.append(f"{len(refs) - shown} more")
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
