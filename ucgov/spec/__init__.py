"""Spec files in, desired state out."""

from ucgov.spec.loader import json_schema, load_specs, load_texts, variables_from
from ucgov.spec.variables import VARIABLE_NAME

__all__ = ["VARIABLE_NAME", "json_schema", "load_specs", "load_texts", "variables_from"]
