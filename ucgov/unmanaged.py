"""What exists live that no spec declares, for ``plan --show-unmanaged``: pure, from desired and live state.

Listed: live catalogs no spec declares (but never ucgov's own apply lock), live credentials and
external locations no spec declares, and the live objects of every kind inside declared catalogs and
schemas that no spec declares (with what is inside those).
ucgov leaves all of them alone unless prune says otherwise.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from ucgov import prune
from ucgov.plan import Plan, Unmanaged
from ucgov.reserved import is_reserved_catalog
from ucgov.state import DesiredState, Kind, LiveState, Ref
from ucgov.words import counted


def unmanaged(desired: DesiredState, live: LiveState) -> tuple[Unmanaged, ...]:
    """Undeclared live objects, catalogs first, then schemas, then models, tables, volumes and functions,
    each kind by name."""
    catalogs = {c for c in live.catalogs or () if Ref(Kind.CATALOG, c) not in desired.objects}
    inside = {r for refs in live.children.values() for r in refs if r not in desired.objects}
    top = {r for r in live.listed if r not in desired.objects}
    found = {Ref(Kind.CATALOG, c) for c in catalogs if not is_reserved_catalog(c)} | inside | top
    order = list(Kind)
    ranked = sorted(found, key=lambda r: (r.kind.depth, order.index(r.kind), r.full_name))
    return tuple(Unmanaged(r.kind, r.full_name) for r in ranked)


class Inside(NamedTuple):
    """A declared parent's live children: how many no spec declares, of how many."""

    kind: Kind
    """The parent's kind, as its undeclared children's kind says."""
    missing: int
    total: int
    missing_kinds: tuple[tuple[Kind, int], ...] = ()
    """How many of the undeclared are of each kind, in the registry's order."""

    def described(self) -> str:
        """'1 of 2 schemas not declared'; inside a schema, which hold several kinds, '… (1 table, 2 volumes)'."""
        said = f"{self.missing} of {self.total} {child_noun(self.kind, self.total)} not declared"
        if len(self.kind.children) < 2:
            return said
        return f"{said} ({', '.join(counted(n, kind.label) for kind, n in self.missing_kinds)})"


def undeclared_children(plan: Plan) -> dict[str, Inside]:
    """Per declared catalog or schema with undeclared live children: its kind, how many undeclared, how many live."""
    undeclared = {Ref(u.kind, u.full_name) for u in plan.unmanaged or ()}
    declared = {r.full_name: r.kind for r in plan.objects if r.kind.children}
    live: dict[str, list[Ref]] = {}
    for ref in plan.live_children:
        parent = ref.full_name.rsplit(".", 1)[0]
        if parent in declared:
            live.setdefault(parent, []).append(ref)
    found = {}
    for parent, refs in sorted(live.items()):
        missing = Counter(r.kind for r in refs if r in undeclared)
        if missing:
            by_kind = tuple((k, missing[k]) for k in Kind if k in missing)
            found[parent] = Inside(declared[parent], sum(missing.values()), len(refs), by_kind)
    return found


def child_noun(parent: Kind, n: int) -> str:
    """'schema(s)' inside a catalog, 'object(s)' inside a schema (models, tables, volumes, functions)."""
    word = prune.child_noun(parent)
    return word if n == 1 else word + "s"
