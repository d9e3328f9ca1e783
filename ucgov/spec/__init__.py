"""Spec files in, desired state out."""

from ucgov.spec.loader import VARIABLE_NAME, json_schema, load_specs, load_texts, variables_from

__all__ = ["VARIABLE_NAME", "json_schema", "load_specs", "load_texts", "variables_from"]
