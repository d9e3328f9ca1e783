"""What a grant reaches: the object it is made on and, inherited, what is inside it.

The review (markdown plan) and the policies ask the same question, so one pure function answers it.
"""

from __future__ import annotations

import pytest

from ucgov.reach import reached, reaches

NAMES = ("ml", "ml.prod", "ml.prod.churn", "ml.prod.iris", "ml.dev", "ml.dev.fraud", "ml2", "ml2.prod.churn")


@pytest.mark.parametrize(
    ("granted_on", "privilege", "expected"),
    [
        ("ml", "EXECUTE", ("ml", "ml.dev", "ml.dev.fraud", "ml.prod", "ml.prod.churn", "ml.prod.iris")),
        ("ml", "USE SCHEMA", ("ml", "ml.dev", "ml.prod")),
        ("ml", "USE CATALOG", ("ml",)),
        ("ml.prod", "EXECUTE", ("ml.prod", "ml.prod.churn", "ml.prod.iris")),
        ("ml.prod.iris", "EXECUTE", ("ml.prod.iris",)),
    ],
    ids=[
        "catalog-execute-is-inherited-by-every-schema-and-model",
        "catalog-use-schema-stops-at-schemas",
        "use-catalog-holds-on-the-catalog-only",
        "schema-execute-reaches-its-own-models-only",
        "a-model-grant-reaches-the-model",
    ],
)
def test_a_grant_holds_on_its_object_and_on_what_inside_inherits_it(granted_on, privilege, expected):
    assert reached(granted_on, privilege, NAMES) == expected


def test_a_catalog_does_not_reach_another_catalog_whose_name_starts_the_same():
    assert not reaches("ml", "EXECUTE", "ml2.prod.churn")


def test_a_pattern_deeper_than_the_grant_stands_for_everything_at_that_depth_inside_it():
    assert reaches("prod_a", "EXECUTE", "prod_a.*.*")
    assert not reaches("prod_a", "CREATE MODEL", "prod_a.*.*")
