"""Gates: conditions on an MLflow run that must hold before its model may be approved."""

from __future__ import annotations

import operator
import re
from typing import Any

from ucgov.state import Gate, RunInfo

OPERATORS = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CONDITION = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*(.+?)\s*$")


def parse_metric_condition(written: Any) -> tuple[str, float] | None:
    """``">= 0.9"`` -> (">=", 0.9); a bare number means equality. None if it is not a condition."""
    if isinstance(written, (int, float)) and not isinstance(written, bool):
        return "==", float(written)
    match = _CONDITION.match(str(written))
    try:
        return (match.group(1) or "=="), float(match.group(2))
    except (AttributeError, ValueError):
        return None


def failure(gate: Gate, run: RunInfo) -> str | None:
    """Why the run fails the gate, with the run's actual value; None when it passes."""
    found = getattr(run, gate.kind)
    described = f"{gate.kind[:-1]} {gate.name} {gate.op} {gate.value}"
    if gate.name not in found:
        return f"run {run.run_id} fails {described}: the run has no {gate.kind[:-1]} '{gate.name}'"
    actual = found[gate.name]
    if not OPERATORS[gate.op](actual, gate.value):
        return f"run {run.run_id} fails {described}: its {gate.name} is {actual}"
    return None
