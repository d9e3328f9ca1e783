"""What one kind of securable is, as data: the shape every module in ``ucgov.kinds`` fills in.

A kind says where the server keeps it (its REST collection and the key its listings use), what it
sits inside (its parent kind), where specs declare it, which of its fields specs manage, and which
privileges act on it. Code that must differ per kind reads these instead of naming a kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """A field of a kind that specs manage; ``create_only`` if the server cannot change it afterwards."""

    name: str
    create_only: bool = False


@dataclass(frozen=True)
class KindSpec:
    """One kind of Unity Catalog securable, described; instances live one per module in ``ucgov.kinds``."""

    name: str
    """The server's securable type, as its permissions API names it, e.g. ``registered_model``."""
    label: str
    """What messages and renderings call it, e.g. ``model``."""
    collection: str
    """Its REST collection under ``/api/2.1/unity-catalog``, e.g. ``models``."""
    listing_key: str
    """The key a listing of the collection holds its objects under, e.g. ``registered_models``."""
    spec_key: str | None
    """The key under which specs declare objects of this kind inside their parent (or at the top);
    None for a kind specs cannot declare yet, which ucgov then never creates nor deletes."""
    parent: KindSpec | None
    """The kind it sits inside, or None for a top-level kind."""
    name_key: str
    """How a create body of a kind inside this one names this part of the full name, e.g. ``catalog_name``."""
    fields: tuple[Field, ...]
    """The fields specs manage (others, e.g. a model's properties, are left alone)."""
    privileges: frozenset[str]
    """The privileges that act on this kind itself (those of kinds inside it come from the registry)."""
    versioned: bool = False
    """Whether objects have versions that specs approve, keep and prune (models)."""

    @property
    def ancestors(self) -> tuple[KindSpec, ...]:
        """The kinds it sits inside, outermost first."""
        return (*self.parent.ancestors, self.parent) if self.parent else ()

    @property
    def depth(self) -> int:
        """1 for a top-level kind, one more per kind it sits inside: parents are created first."""
        return len(self.ancestors) + 1

    @property
    def declarable(self) -> bool:
        """Whether specs declare it, and so plans create, change and prune it; else it is only read
        to see what a parent holds (a schema holding a table is not deleted)."""
        return self.spec_key is not None

    def manages(self, field: str) -> bool:
        return any(f.name == field for f in self.fields)

    def create_body(self, full_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The body of the create request: its own name, the fields, and the names of its parents."""
        parts = full_name.split(".")
        body: dict[str, Any] = {"name": parts[-1], **fields}
        body.update({kind.name_key: part for kind, part in zip(self.ancestors, parts, strict=False)})
        return body
