"""The registry of kinds: each kind described once, and what is derived from the descriptions."""

from __future__ import annotations

from ucgov.kinds import REGISTRY, Kind, acting_on, by_spec_key, top_level
from ucgov.spec.loader import json_schema


def test_the_registry_lists_parents_before_children_and_names_every_kind():
    assert [k.spec for k in Kind] == list(REGISTRY)
    for kind in Kind:
        assert kind.parent is None or list(Kind).index(kind.parent) < list(Kind).index(kind)


def test_what_may_be_granted_on_a_kind_is_its_own_privileges_and_those_of_what_it_contains():
    assert Kind.MODEL.grantable == {"EXECUTE"}
    assert Kind.SCHEMA.grantable == Kind.SCHEMA.spec.privileges | {"EXECUTE", "SELECT", "MODIFY", "READ VOLUME"}
    assert Kind.CATALOG.grantable == {"USE CATALOG", "CREATE SCHEMA"} | Kind.SCHEMA.grantable


def test_each_privilege_acts_on_one_kind_but_execute_which_models_and_functions_share():
    # in the catalog tree; the storage kinds above it share theirs (READ FILES on a credential and a location)
    owners = [(k, p) for k in Kind if k.spec.policy_named for p in k.spec.privileges if p != "EXECUTE"]
    assert len(owners) == len({p for _, p in owners})
    assert acting_on("READ FILES") == (Kind.CREDENTIAL, Kind.EXTERNAL_LOCATION)
    assert acting_on("CREATE EXTERNAL LOCATION") == (Kind.METASTORE, Kind.CREDENTIAL)
    assert [k for k in Kind if "EXECUTE" in k.spec.privileges] == [Kind.MODEL, Kind.FUNCTION]
    assert acting_on("EXECUTE") == (Kind.MODEL, Kind.FUNCTION) and acting_on("USE SCHEMA") == (Kind.SCHEMA,)
    assert acting_on("DANCE") == ()


def test_a_create_body_names_the_object_and_the_parents_it_sits_in():
    assert Kind.CATALOG.spec.create_body("c", {"comment": "x"}) == {"name": "c", "comment": "x"}
    assert Kind.SCHEMA.spec.create_body("c.s", {}) == {"name": "s", "catalog_name": "c"}
    assert Kind.MODEL.spec.create_body("c.s.m", {}) == {"name": "m", "catalog_name": "c", "schema_name": "s"}


def test_specs_declare_each_kind_under_its_spec_key_inside_its_parent():
    assert top_level() == (Kind.CATALOG, Kind.METASTORE, Kind.CREDENTIAL, Kind.EXTERNAL_LOCATION)
    assert by_spec_key(None, "credentials") is Kind.CREDENTIAL
    assert by_spec_key(None, "external_locations") is Kind.EXTERNAL_LOCATION
    assert by_spec_key(None, "catalogs") is Kind.CATALOG
    assert by_spec_key(Kind.CATALOG, "schemas") is Kind.SCHEMA
    assert by_spec_key(Kind.SCHEMA, "models") is Kind.MODEL
    assert by_spec_key(Kind.CATALOG, "models") is None
    assert by_spec_key(Kind.SCHEMA, "tables") is Kind.TABLE
    assert by_spec_key(Kind.SCHEMA, "volumes") is Kind.VOLUME and by_spec_key(Kind.SCHEMA, "functions") is Kind.FUNCTION
    assert Kind.SCHEMA.children == (Kind.MODEL, Kind.TABLE, Kind.VOLUME, Kind.FUNCTION)
    schema = json_schema()
    assert set(schema["properties"]) >= {k.spec.spec_key for k in top_level()}


def test_a_models_properties_are_not_managed_but_catalogs_and_schemas_are():
    assert not Kind.MODEL.spec.manages("properties") and Kind.MODEL.spec.manages("comment")
    assert Kind.CATALOG.spec.manages("properties") and Kind.SCHEMA.spec.manages("properties")


def test_an_undeclared_live_object_has_the_kind_its_listing_found_whatever_its_name_looks_like():
    from ucgov.plan import Unmanaged
    from ucgov.state import DesiredState, LiveState, Ref, Securable
    from ucgov.unmanaged import unmanaged

    # the name has the shape of a schema's; the listing that found it says model, and that counts
    live = LiveState(children={"ml": (Ref(Kind.MODEL, "ml.m"),)}, catalogs=("ml", "other"))
    desired = DesiredState(objects={Ref(Kind.CATALOG, "ml"): Securable(Kind.CATALOG, "ml")})

    assert unmanaged(desired, live) == (Unmanaged(Kind.CATALOG, "other"), Unmanaged(Kind.MODEL, "ml.m"))
