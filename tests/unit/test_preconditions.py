"""Each planned change knows what it expects on the server: still to do, already done, or moved elsewhere."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ucgov.plan import Action, Address, ApprovalChange, Change, Fields, GrantChange, ObjectChange, Registration
from ucgov.preconditions import Status, status
from ucgov.state import Approval, GrantsMode, Kind, ModelVersion, Securable

ALICE = "alice@example.com"
RUN = "0123456789abcdef0123456789abcdef"


def catalog(comment: str | None = None, **grants: set[str]) -> Securable:
    return Securable(
        Kind.CATALOG, "ml", comment=comment, properties={}, grants={ALICE: frozenset(grants.get("alice", set()))}
    )


def with_bob(live: Securable) -> Securable:
    return replace(live, grants={**live.grants, "bob@example.com": frozenset({"USE CATALOG"})})


def model(*versions: ModelVersion, approved: int | None = None) -> Securable:
    return Securable(
        Kind.MODEL,
        "ml.prod.churn",
        properties={},
        versions=versions,
        approved=Approval(version=approved) if approved else None,
    )


CREATE = Change(Action.CREATE, Address(Kind.CATALOG, "ml"), ObjectChange(after=Fields(comment="ML")))
UPDATE = Change(Action.UPDATE, Address(Kind.CATALOG, "ml"), ObjectChange(Fields(comment="old"), Fields(comment="new")))
GRANT = Change(
    Action.GRANT, Address(Kind.CATALOG, "ml", ALICE), GrantChange(("CREATE SCHEMA",), frozenset({"USE CATALOG"}))
)
GRANT_ON_NEW = Change(Action.GRANT, Address(Kind.CATALOG, "ml", ALICE), GrantChange(("USE CATALOG",)))
REVOKE = Change(
    Action.REVOKE,
    Address(Kind.CATALOG, "ml", ALICE),
    GrantChange(("CREATE SCHEMA",), frozenset({"USE CATALOG", "CREATE SCHEMA"})),
)
WHOLE = (("alice@example.com", ("USE CATALOG",)),)
AUTHORITATIVE_GRANT = Change(
    Action.GRANT,
    Address(Kind.CATALOG, "ml", ALICE),
    GrantChange(("CREATE SCHEMA",), frozenset({"USE CATALOG"}), GrantsMode.AUTHORITATIVE, WHOLE),
)
ADDITIVE_GRANT = Change(
    Action.GRANT,
    Address(Kind.CATALOG, "ml", ALICE),
    GrantChange(("CREATE SCHEMA",), frozenset({"USE CATALOG"}), GrantsMode.ADDITIVE),
)
REGISTER = Change(Action.REGISTER, Address(Kind.MODEL, "ml.prod.churn"), Registration(RUN, "model"))
APPROVE_RUN = Change(
    Action.APPROVE, Address(Kind.MODEL, "ml.prod.churn"), ApprovalChange(None, RUN, "model", replaces=1)
)
APPROVE_2 = Change(Action.APPROVE, Address(Kind.MODEL, "ml.prod.churn"), ApprovalChange(2, replaces=1))
FROM_RUN = ModelVersion(3, RUN, "READY", source=f"runs:/{RUN}/model")


@pytest.mark.parametrize(
    ("change", "live", "expected"),
    [
        pytest.param(CREATE, None, Status.PENDING, id="create-absent"),
        pytest.param(CREATE, catalog("ML"), Status.DONE, id="create-already-there"),
        pytest.param(CREATE, catalog("someone else's"), Status.MOVED, id="create-made-differently"),
        pytest.param(UPDATE, catalog("old"), Status.PENDING, id="update-as-planned"),
        pytest.param(UPDATE, catalog("new"), Status.DONE, id="update-already-made"),
        pytest.param(UPDATE, catalog("edited by hand"), Status.MOVED, id="update-moved"),
        pytest.param(UPDATE, None, Status.MOVED, id="update-object-gone"),
        pytest.param(GRANT, catalog(alice={"USE CATALOG"}), Status.PENDING, id="grant-as-planned"),
        pytest.param(GRANT_ON_NEW, None, Status.PENDING, id="grant-on-object-created-earlier-in-the-plan"),
        pytest.param(GRANT, None, Status.MOVED, id="grant-object-gone"),
        pytest.param(GRANT, catalog(alice={"USE CATALOG", "CREATE SCHEMA"}), Status.DONE, id="grant-already-made"),
        pytest.param(GRANT, catalog(alice={"MODIFY"}), Status.MOVED, id="grant-principal-changed"),
        pytest.param(REVOKE, catalog(alice={"USE CATALOG", "CREATE SCHEMA"}), Status.PENDING, id="revoke-as-planned"),
        pytest.param(REVOKE, catalog(alice={"USE CATALOG"}), Status.DONE, id="revoke-already-made"),
        pytest.param(REVOKE, catalog(alice={"CREATE SCHEMA", "MODIFY"}), Status.MOVED, id="revoke-principal-changed"),
        pytest.param(
            AUTHORITATIVE_GRANT, catalog(alice={"USE CATALOG"}), Status.PENDING, id="authoritative-as-planned"
        ),
        pytest.param(
            AUTHORITATIVE_GRANT,
            with_bob(catalog(alice={"USE CATALOG"})),
            Status.MOVED,
            id="authoritative-another-principal-added",
        ),
        pytest.param(
            ADDITIVE_GRANT,
            with_bob(catalog(alice={"USE CATALOG"})),
            Status.PENDING,
            id="additive-another-principal-added",
        ),
        pytest.param(REGISTER, model(), Status.PENDING, id="register-nothing-yet"),
        pytest.param(REGISTER, model(FROM_RUN), Status.DONE, id="register-already-ready"),
        pytest.param(
            REGISTER,
            model(ModelVersion(3, RUN, "READY", source=f"runs:/{RUN}/other")),
            Status.PENDING,
            id="register-other-path",
        ),
        pytest.param(APPROVE_2, model(approved=1), Status.PENDING, id="approve-as-planned"),
        pytest.param(APPROVE_2, model(approved=2), Status.DONE, id="approve-already-made"),
        pytest.param(APPROVE_2, model(approved=7), Status.MOVED, id="approve-moved-by-hand"),
        pytest.param(APPROVE_RUN, model(FROM_RUN, approved=3), Status.DONE, id="approve-run-already-made"),
        pytest.param(
            APPROVE_RUN, model(FROM_RUN, approved=1), Status.PENDING, id="approve-run-registered-not-approved"
        ),
    ],
)
def test_where_a_change_stands_against_the_server(change, live, expected):
    assert status(change, live) is expected


DELETE_MODEL = Change(
    Action.DELETE,
    Address(Kind.MODEL, "ml.prod.old"),
    ObjectChange(before=Fields(comment="Old"), versions=(1, 2), approved=None),
)
DELETE_SCHEMA = Change(
    Action.DELETE,
    Address(Kind.SCHEMA, "ml.tmp"),
    ObjectChange(before=Fields(comment=None, properties={}), children=("ml.tmp.a",)),
)
V1, V2, V3 = (ModelVersion(v, None, "READY") for v in (1, 2, 3))


def old_model(*versions: ModelVersion, approved: int | None = None, comment: str | None = "Old") -> Securable:
    return Securable(
        Kind.MODEL,
        "ml.prod.old",
        comment=comment,
        versions=versions,
        approved=Approval(version=approved) if approved else None,
    )


def tmp_schema(*children: str) -> Securable:
    return Securable(Kind.SCHEMA, "ml.tmp", comment=None, properties={}, children=children)


@pytest.mark.parametrize(
    ("change", "live", "expected"),
    [
        pytest.param(DELETE_MODEL, old_model(V1, V2), Status.PENDING, id="model-as-planned"),
        pytest.param(DELETE_MODEL, None, Status.DONE, id="model-already-gone"),
        pytest.param(DELETE_MODEL, old_model(V1), Status.PENDING, id="model-lost-a-version-since"),
        pytest.param(DELETE_MODEL, old_model(V1, V2, V3), Status.MOVED, id="model-gained-a-version"),
        pytest.param(DELETE_MODEL, old_model(V1, V2, approved=2), Status.MOVED, id="model-gained-an-approval"),
        pytest.param(DELETE_MODEL, old_model(V1, V2, comment="Keep me"), Status.MOVED, id="model-comment-edited"),
        pytest.param(
            replace(DELETE_MODEL, payload=replace(DELETE_MODEL.payload, approved=2)),
            old_model(V1, V2, approved=1),
            Status.MOVED,
            id="model-approves-another-version-now",
        ),
        pytest.param(DELETE_SCHEMA, tmp_schema("ml.tmp.a"), Status.PENDING, id="schema-as-planned"),
        pytest.param(DELETE_SCHEMA, tmp_schema(), Status.PENDING, id="schema-its-model-deleted-first"),
        pytest.param(DELETE_SCHEMA, tmp_schema("ml.tmp.a", "ml.tmp.new"), Status.MOVED, id="schema-gained-a-model"),
        pytest.param(
            DELETE_SCHEMA,
            replace(tmp_schema("ml.tmp.a"), properties={"tier": "gold"}),
            Status.MOVED,
            id="schema-properties-set-since",
        ),
        pytest.param(
            replace(DELETE_SCHEMA, payload=replace(DELETE_SCHEMA.payload, grants=(("bob@x.com", ("USE SCHEMA",)),))),
            replace(tmp_schema("ml.tmp.a"), grants={"bob@x.com": frozenset({"USE SCHEMA"})}),
            Status.PENDING,
            id="schema-grants-as-reviewed",
        ),
        pytest.param(
            DELETE_SCHEMA,
            replace(tmp_schema("ml.tmp.a"), grants={"eve@x.com": frozenset({"USE SCHEMA"})}),
            Status.MOVED,
            id="schema-granted-to-someone-since",
        ),
        pytest.param(
            replace(DELETE_MODEL, payload=replace(DELETE_MODEL.payload, grants=(("bob@x.com", ("EXECUTE",)),))),
            old_model(V1, V2),
            Status.PENDING,
            id="model-lost-a-grant-since",
        ),
    ],
)
def test_a_delete_goes_ahead_only_with_what_the_plan_showed_goes_with_it(change, live, expected):
    assert status(change, live) is expected
