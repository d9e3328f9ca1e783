"""The metastore, storage credentials and external locations in specs: loading, planning, prune rules,
policies and rendering, with states built by hand (the server's side is in tests/integration)."""

from __future__ import annotations

import textwrap

import pytest

from ucgov.errors import SpecError
from ucgov.kinds import Kind, lies_under, location
from ucgov.plan import Action
from ucgov.planner import diff
from ucgov.render import render
from ucgov.spec import load_texts
from ucgov.state import LiveState, Ref, Securable

ROLE = "arn:aws:iam::123456789012:role/uc-landing"
ISSUE_SPEC = f"""
metastore:
  grants:
    platform-admins@example.com: [CREATE CATALOG, CREATE EXTERNAL LOCATION]
credentials:
  landing_role:
    purpose: STORAGE
    aws_iam_role: {{role_arn: "{ROLE}"}}
    comment: Landing bucket access
    grants: {{alice@example.com: [CREATE EXTERNAL LOCATION]}}
external_locations:
  landing:
    url: s3://landing-bucket/raw/
    credential: landing_role
    comment: Landing zone
    grants: {{etl-bot@example.com: [READ FILES, CREATE EXTERNAL TABLE]}}
"""


def load(text: str):
    return load_texts([("specs/storage.yaml", textwrap.dedent(text))], variables={})


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as excinfo:
        load(text)
    return [str(p) for p in excinfo.value.problems]


def credential(name: str, role: str = ROLE, comment: str | None = None, grants=None) -> Securable:
    definition = {"purpose": "STORAGE", "aws_iam_role": {"role_arn": role}}
    return Securable(Kind.CREDENTIAL, name, comment, {}, grants=grants or {}, definition=definition)


def place(name: str, url: str, credential_name: str, comment: str | None = None, grants=None) -> Securable:
    definition = {"url": url, "credential": credential_name}
    return Securable(Kind.EXTERNAL_LOCATION, name, comment, {}, grants=grants or {}, definition=definition)


def metastore(grants=None) -> Securable:
    return Securable(Kind.METASTORE, "metastore", None, {}, grants=grants or {})


def listed_live(*objects: Securable, declared=(), stored=None, **more) -> LiveState:
    """The server as a plan for these specs reads it: declared objects read, credentials and locations listed."""
    by_ref = {o.ref: o for o in objects}
    return LiveState(
        objects={r: o for r, o in by_ref.items() if r in declared},
        listed={r: o for r, o in by_ref.items() if r.kind in (Kind.CREDENTIAL, Kind.EXTERNAL_LOCATION)},
        listed_kinds=frozenset({Kind.CREDENTIAL, Kind.EXTERNAL_LOCATION}),
        stored=stored or {},
        **more,
    )


# --- loading ---------------------------------------------------------------------------------------


def test_the_issues_spec_loads_the_metastore_a_credential_and_a_location_in_the_spec_shape():
    desired = load(ISSUE_SPEC)

    assert desired.get(Ref(Kind.METASTORE, "metastore")).grants == {
        "platform-admins@example.com": {"CREATE CATALOG", "CREATE EXTERNAL LOCATION"}
    }
    role = desired.get(Ref(Kind.CREDENTIAL, "landing_role"))
    assert role.definition == {"purpose": "STORAGE", "aws_iam_role": {"role_arn": ROLE}}
    landing = desired.get(Ref(Kind.EXTERNAL_LOCATION, "landing"))
    assert landing.definition == {
        "url": "s3://landing-bucket/raw",
        "credential": "landing_role",
    }  # as the server keeps it
    assert [o.kind for o in desired.ordered()] == [Kind.CREDENTIAL, Kind.METASTORE, Kind.EXTERNAL_LOCATION]


def test_a_credential_is_created_before_the_location_that_names_it_whatever_their_names():
    desired = load(ISSUE_SPEC.replace("landing_role", "zz_role"))

    assert [o.full_name for o in desired.ordered()] == ["metastore", "zz_role", "landing"]  # by rank, then name


def test_a_privilege_of_another_kind_is_refused_on_the_metastore_and_on_a_credential():
    found = problems("""
        metastore: {grants: {a@x.com: [SELECT]}}
        credentials: {c: {grants: {a@x.com: [CREATE CATALOG]}}}
        external_locations: {l: {grants: {a@x.com: [CREATE EXTERNAL VOLUME, USE CATALOG]}}}
    """)

    assert "privilege 'SELECT' cannot be granted on a metastore" in found[0] and found[0].endswith(", on metastore")
    assert "privilege 'CREATE CATALOG' cannot be granted on a credential" in found[1]
    assert "privilege 'USE CATALOG' cannot be granted on a external location" in found[2]
    assert len(found) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metastore: {comment: x}", "unknown key 'comment'"),
        ("metastore: {name: x}", "unknown key 'name'"),
        ("credentials: {c: {aws_iam_role: {role_arn: r, external_id: e}}}", "unknown key 'external_id'"),
        ("credentials: {c: {purpose: SERVICE}}", "must be one of: STORAGE"),
        ("credentials: {c.x: {}}", "bad name 'c.x'"),
        ("external_locations: {l: {credential_name: c}}", "unknown key 'credential_name'"),
        ("external_locations: {l: {url: ''}}", "must not be empty"),
        ("settings: {prune: true}\ncatalogs: {c: {prune: true}}\nmetastore: {prune: 'yes'}", "must be true or false"),
    ],
)
def test_a_badly_written_storage_key_is_one_error_at_its_line(text, expected):
    [problem] = problems(text)

    assert problem.startswith("specs/storage.yaml:") and expected in problem


def test_prune_written_on_the_metastore_reaches_credentials_and_locations_settings_prune_never_does():
    assert load("settings: {prune: true}\nmetastore: {}").prune_top == frozenset()
    assert load("metastore: {prune: true}").prune_top == {Kind.CREDENTIAL, Kind.EXTERNAL_LOCATION}
    assert load("metastore: {prune: true}").prune_on == {}  # not a catalog named metastore's prune


def test_a_catalog_named_metastore_is_not_the_metastore():
    desired = load("catalogs: {metastore: {prune: true}}\nmetastore: {grants: {}}")

    assert desired.prune_on == {"metastore": True} and desired.prune_top == frozenset()
    assert {o.kind for o in desired.ordered()} == {Kind.CATALOG, Kind.METASTORE}


def test_storage_urls_compare_as_the_server_keeps_them_and_lie_under_by_segment():
    assert location("s3://b/raw/") == "s3://b/raw" and location("/tmp/x/") == "file:///tmp/x"
    assert lies_under("s3://b/raw/t", "s3://b/raw/") and lies_under("s3://b/raw", "s3://b/raw")
    assert not lies_under("s3://b/raw-2/t", "s3://b/raw")


# --- planning ----------------------------------------------------------------------------------------


def test_a_missing_credential_and_location_are_created_with_the_servers_names_and_purpose_storage():
    desired = load(ISSUE_SPEC)
    plan = diff(desired, listed_live(metastore(), declared={Ref(Kind.METASTORE, "metastore")}))

    creates = [c for c in plan.changes if c.action is Action.CREATE]
    assert [c.address.ref for c in creates] == [
        Ref(Kind.CREDENTIAL, "landing_role"),
        Ref(Kind.EXTERNAL_LOCATION, "landing"),
    ]
    role_body = Kind.CREDENTIAL.spec.create_body("landing_role", creates[0].payload.after.as_dict())
    assert role_body == {
        "name": "landing_role", "comment": "Landing bucket access", "purpose": "STORAGE",
        "aws_iam_role": {"role_arn": ROLE},
    }  # fmt: skip
    place_body = Kind.EXTERNAL_LOCATION.spec.create_body("landing", creates[1].payload.after.as_dict())
    assert place_body == {
        "name": "landing", "comment": "Landing zone", "url": "s3://landing-bucket/raw", "credential_name": "landing_role",
    }  # fmt: skip
    assert Kind.CREDENTIAL.spec.create_body("c", {}) == {"name": "c", "purpose": "STORAGE"}


def test_an_update_sends_the_servers_names_and_only_the_role_arn_is_compared():
    desired = load(ISSUE_SPEC.replace("raw/", "moved").replace("landing_role\n", "landing_role\n"))
    have = [
        metastore({"platform-admins@example.com": frozenset({"CREATE CATALOG", "CREATE EXTERNAL LOCATION"})}),
        credential(
            "landing_role", comment="Landing bucket access",
            grants={"alice@example.com": frozenset({"CREATE EXTERNAL LOCATION"})},
        ),
        place(
            "landing", "s3://landing-bucket/raw", "old_role", comment="Landing zone",
            grants={"etl-bot@example.com": frozenset({"READ FILES", "CREATE EXTERNAL TABLE"})},
        ),
    ]  # fmt: skip
    plan = diff(desired, listed_live(*have, declared={o.ref for o in have}))

    [update] = plan.changes
    assert update.address.ref == Ref(Kind.EXTERNAL_LOCATION, "landing")
    assert Kind.EXTERNAL_LOCATION.spec.update_body(update.payload.after.as_dict()) == {
        "url": "s3://landing-bucket/moved",
        "credential_name": "landing_role",
    }


def test_a_credentials_purpose_cannot_change_and_the_plan_says_so():
    desired = load("credentials: {c: {purpose: STORAGE, aws_iam_role: {role_arn: r}}}")
    live_one = Securable(
        Kind.CREDENTIAL, "c", None, {}, definition={"purpose": "SERVICE", "aws_iam_role": {"role_arn": "r"}}
    )

    with pytest.raises(SpecError) as excinfo:
        diff(desired, listed_live(live_one, declared={live_one.ref}))

    assert "credential c: purpose cannot change once it is created" in str(excinfo.value)


def test_metastore_grants_are_authoritative_additive_or_unmanaged_as_the_spec_says():
    live_grants = {"carol@example.com": frozenset({"CREATE STORAGE CREDENTIAL"})}
    have = metastore(live_grants)
    state = listed_live(have, declared={have.ref})

    def actions(text: str) -> list[tuple[str, str | None]]:
        return [(c.action.value, c.address.principal) for c in diff(load(text), state).changes]

    granting = "metastore: {grants: {alice@example.com: [CREATE CATALOG]}%s}"
    assert actions(granting % "") == [("grant", "alice@example.com"), ("revoke", "carol@example.com")]
    assert actions(granting % ", grants_mode: additive") == [("grant", "alice@example.com")]
    assert actions("metastore: {}") == []


# --- prune -------------------------------------------------------------------------------------------


def test_undeclared_credentials_and_locations_go_only_where_the_metastore_prunes_locations_first():
    stray_role, stray_place = credential("stray_role"), place("stray", "s3://b/stray", "stray_role")
    state = listed_live(metastore(), stray_role, stray_place, declared={Ref(Kind.METASTORE, "metastore")})
    state = LiveState(**{**state.__dict__, "undeclared": {o.ref: o for o in (stray_role, stray_place)}})

    pruned = diff(load("metastore: {prune: true}"), state)
    unpruned = diff(load("settings: {prune: true}\nmetastore: {}"), state)

    deletes = [(c.address.ref, c.reason) for c in pruned.changes if c.action is Action.DELETE]
    assert deletes == [
        (stray_place.ref, "no spec declares it; prune is on for the metastore"),
        (stray_role.ref, "no spec declares it; prune is on for the metastore"),
    ]
    assert not [c for c in unpruned.changes if c.action is Action.DELETE]


def test_a_credential_a_declared_location_names_and_a_location_a_volume_lies_under_are_kept_saying_why():
    used_role, kept_role = credential("used_role"), credential("kept_role")
    declared_place = place("declared", "s3://b/declared", "used_role")
    busy = place("busy", "s3://b/busy/", "kept_role")
    volume = Ref(Kind.VOLUME, "ml.raw.files")
    state = listed_live(
        metastore(), used_role, kept_role, declared_place, busy,
        declared={Ref(Kind.METASTORE, "metastore"), declared_place.ref},
        stored={volume: "s3://b/busy/files"},
    )  # fmt: skip
    state = LiveState(**{**state.__dict__, "undeclared": {o.ref: o for o in (used_role, kept_role, busy)}})

    plan = diff(load("metastore: {prune: true}\nexternal_locations: {declared: {}}"), state)

    assert not [c for c in plan.changes if c.action is Action.DELETE]
    assert "external location busy is kept: volume ml.raw.files still uses it" in plan.warnings
    assert "credential kept_role is kept: external location busy still uses it" in plan.warnings
    assert "credential used_role is kept: external location declared still uses it" in plan.warnings


# --- storage locations -------------------------------------------------------------------------------


def test_a_declared_storage_location_under_no_external_location_is_a_warning_naming_both():
    text = """
        catalogs:
          ml:
            schemas:
              raw:
                volumes:
                  inside: {volume_type: EXTERNAL, storage_location: "s3://b/landing/x"}
                  outside: {volume_type: EXTERNAL, storage_location: "s3://elsewhere/x"}
                  declared: {volume_type: EXTERNAL, storage_location: "s3://new/x"}
        external_locations:
          planned: {url: "s3://new", credential: c}
    """
    state = listed_live(place("landing", "s3://b/landing", "c"))

    warnings = [w for w in diff(load(text), state).warnings if "external location" in w]

    assert warnings == [
        "volume ml.raw.outside: its storage_location s3://elsewhere/x lies under no external location, declared or "
        "live (no grant on a location governs who reaches those files)"
    ]


def test_no_storage_warning_when_the_locations_were_not_listed():
    text = "catalogs: {ml: {schemas: {raw: {volumes: {v: {volume_type: EXTERNAL, storage_location: s3://x/y}}}}}}"

    assert not [w for w in diff(load(text), LiveState()).warnings if "external location" in w]


# --- policies ---------------------------------------------------------------------------------------


def test_a_policy_on_the_metastore_denies_create_catalog_at_the_grant():
    text = """
        metastore:
          grants:
            bob@contractors.example.com: [CREATE CATALOG]
        policies:
          - name: no-contractor-catalogs
            deny: {kind: metastore, principal: "*@contractors.example.com", privileges: [CREATE CATALOG]}
    """
    [problem] = problems(text)

    assert problem == (
        "specs/storage.yaml:4:35: policy 'no-contractor-catalogs' denies CREATE CATALOG to "
        "bob@contractors.example.com on metastore (metastore)"
    )


def test_a_pattern_without_a_kind_never_reaches_the_metastore_a_credential_or_a_location():
    text = """
        metastore: {grants: {a@x.com: [CREATE CATALOG]}}
        credentials: {c: {grants: {a@x.com: [READ FILES]}}}
        external_locations: {c: {grants: {a@x.com: [WRITE FILES]}}}
        policies:
          - name: nothing-in-catalogs
            deny: {on: "*", privileges: [USE CATALOG]}
          - name: a-kind-named
            deny: {kind: external_location, on: "c*", privileges: [READ FILES]}
    """
    assert load(text).policies  # nothing matched: it loads


def test_a_policy_on_locations_matches_by_name_and_one_on_no_object_matches_all():
    text = """
        credentials: {landing: {grants: {a@x.com: [WRITE FILES]}}}
        external_locations: {landing: {grants: {a@x.com: [WRITE FILES]}}}
        policies:
          - name: read-only-landing
            deny: {kind: external_location, on: "land*", privileges: [WRITE FILES]}
    """
    [problem] = problems(text)

    assert "denies WRITE FILES to a@x.com on landing (external location)" in problem
    assert len(problems(text.replace('kind: external_location, on: "land*", ', ""))) == 2


def test_a_policy_denying_on_a_kind_what_it_never_takes_is_refused_as_never_matching():
    [problem] = problems("policies: [{name: p, deny: {kind: metastore, privileges: [SELECT]}}]")

    assert "SELECT can never be granted on a metastore" in problem


# --- review ---------------------------------------------------------------------------------------


def test_review_shows_who_gains_and_who_loses_the_right_to_create_catalogs():
    have = metastore({"carol@example.com": frozenset({"CREATE CATALOG"})})
    plan = diff(
        load("metastore: {grants: {alice@example.com: [CREATE CATALOG]}}"), listed_live(have, declared={have.ref})
    )

    shown = render(plan, "markdown")

    assert "### Who may create catalogs, storage credentials and external locations" in shown
    assert "- **alice@example.com** may now create catalogs" in shown
    assert "- :warning: **carol@example.com** may no longer create catalogs — not in the spec" in shown
    assert "+ grant CREATE CATALOG to alice@example.com" in render(plan, "text")


def test_diff_says_when_prune_starts_reaching_credentials_and_what_goes_undeclared():
    from ucgov.planner import diff_specs

    base = load(ISSUE_SPEC)
    head = load("metastore: {prune: true}\ncredentials: {landing_role: {}}")

    reviewed = diff_specs(base, head)

    assert (
        "prune is turned on for the metastore: apply --allow-destroy will delete the live external locations "
        "that no spec declares (but those still in use)"
    ) in reviewed.warnings
    [gone] = [u for u in reviewed.undeclared if u.kind is Kind.EXTERNAL_LOCATION]
    assert (gone.full_name, gone.deleted, gone.why) == ("landing", True, "prune is on for the metastore")
    assert not diff_specs(base, load(ISSUE_SPEC.replace("external_locations:", "x-gone:"))).undeclared[0].deleted


# --- export -----------------------------------------------------------------------------------------


def test_export_writes_a_credentials_role_arn_only_and_a_locations_url_and_credential():
    from ucgov.export import fields_of

    notes: list = []
    body = {
        "name": "landing_role", "purpose": "STORAGE", "comment": "c", "owner": "admin", "id": "1",
        "aws_iam_role": {"role_arn": ROLE, "external_id": "made-by-the-server", "unity_catalog_iam_arn": None},
    }  # fmt: skip
    role = fields_of(Kind.CREDENTIAL, "landing_role", body, {}, [], users=None, notes=notes)
    place_body = {"name": "landing", "url": "s3://b/raw", "credential_name": "landing_role", "credential_id": "1"}
    landing = fields_of(Kind.EXTERNAL_LOCATION, "landing", place_body, {}, [], users=None, notes=notes)

    assert role == {"comment": "c", "aws_iam_role": {"role_arn": ROLE}, "grants": {}}
    assert landing == {"url": "s3://b/raw", "credential": "landing_role", "grants": {}}
    assert notes == []


def test_export_declares_a_credential_without_a_role_arn_as_it_exists_saying_so():
    from ucgov.export import fields_of

    notes: list = []
    body = {"name": "odd", "purpose": "STORAGE", "aws_iam_role": {"role_arn": None, "external_id": "x"}}

    fields = fields_of(Kind.CREDENTIAL, "odd", body, {}, [], users=None, notes=notes)

    assert fields == {"grants": {}}
    assert [n.full_name for n in notes] == ["odd"] and "definition left out" in notes[0].reason


def test_show_unmanaged_lists_undeclared_credentials_and_locations_after_catalogs():
    from ucgov.unmanaged import unmanaged

    state = listed_live(credential("landing_role"), credential("other"), place("landing", "s3://b", "other"))
    state = LiveState(**{**state.__dict__, "catalogs": ("ml", "scratch")})

    found = unmanaged(load("credentials: {landing_role: {}}\ncatalogs: {ml: {}}"), state)

    assert [(u.kind, u.full_name) for u in found] == [
        (Kind.CATALOG, "scratch"), (Kind.CREDENTIAL, "other"), (Kind.EXTERNAL_LOCATION, "landing"),
    ]  # fmt: skip


def test_a_catalog_is_created_after_the_external_location_its_storage_root_needs():
    desired = load(ISSUE_SPEC + "catalogs:\n  a_first:\n    storage_root: s3://landing-bucket/raw/a_first\n")

    assert [o.kind for o in desired.ordered()][-2:] == [Kind.EXTERNAL_LOCATION, Kind.CATALOG]
