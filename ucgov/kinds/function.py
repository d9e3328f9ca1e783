"""The function kind: inside a schema. Governed for safety only so far (see ``ucgov.kinds.table``).

Its EXECUTE is also the model's: ``acting_on`` names the model, which comes first in the registry.
"""

from __future__ import annotations

from ucgov.kinds import schema
from ucgov.kinds.base import KindSpec

SPEC = KindSpec(
    name="function",
    label="function",
    collection="functions",
    listing_key="functions",
    spec_key=None,
    parent=schema.SPEC,
    name_key="function_name",
    fields=(),
    privileges=frozenset({"EXECUTE"}),
)
