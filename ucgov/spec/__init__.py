"""Spec files in, desired state out."""

from ucgov.spec.loader import json_schema, load_specs, load_texts, variables_from

__all__ = ["json_schema", "load_specs", "load_texts", "variables_from"]
