"""Policies: access that specs must never grant, checked against the grants they declare.

A policy denies privileges to principals on objects, all three given as patterns. It applies
to effective access: a grant on a catalog or schema is inherited by what is inside it (the
server enforces this), so a catalog-level EXECUTE breaks a policy that denies EXECUTE on the
catalog's models, whether or not any model is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase

from ucgov import privileges as privs
from ucgov.errors import Location, SpecProblem
from ucgov.reach import covers_pattern
from ucgov.state import DesiredState, Kind, Policy, Ref, Securable

__all__ = ["Policy", "covered", "rule", "violations"]

MAX_DEPTH = max(k.depth for k in Kind)
"""Full names have at most three parts: catalog.schema.model (or table, volume, function)."""


def covered(policy: Policy, granted_on: Securable, privilege: str) -> str | None:
    """What a grant on ``granted_on`` gives that the policy's ``on`` covers, or None.

    The object's own name when ``on`` matches it; otherwise, when ``on`` is deeper and its
    leading parts match the object, the names inside it that the privilege reaches.
    """
    if policy.kind is not None:  # the metastore, credentials, external locations: by kind, then name
        if granted_on.kind is not policy.kind:
            return None
        return granted_on.full_name if policy.on is None or fnmatchcase(granted_on.full_name, policy.on) else None
    if policy.on is None:
        return granted_on.full_name
    if not granted_on.kind.spec.policy_named:  # a pattern names the catalog tree, never the metastore
        return None
    parts = policy.on.split(".")
    names = granted_on.full_name.split(".")
    if len(parts) < len(names) or not all(map(fnmatchcase, names, parts)):
        return None
    inside = ".".join(names + parts[len(names) :])
    return inside if covers_pattern(granted_on.full_name, privilege, inside) else None


def rule(policy: Policy, quote: Callable[[str], str] = str) -> str:
    """What the policy denies, in words: ``deny EXECUTE to *@contractors.example.com on prod_*.*.*``.

    ``quote`` marks up the patterns, e.g. as inline code in markdown, where ``*`` means emphasis.
    """
    denied = ", ".join(privs.in_reading_order(policy.privileges)) if policy.privileges else "every privilege"
    who = "everyone" if policy.principal == "*" else quote(policy.principal)
    where = quote(policy.on) if policy.on else "every object"
    if policy.kind is not None:
        named = f" {quote(policy.on)}" if policy.on else "s" if not policy.kind.spec.single else ""
        where = f"{'the ' if policy.kind.spec.single else ''}{policy.kind.label}{named}"
    return f"deny {denied} to {who} on {where}"


def violations(desired: DesiredState) -> list[SpecProblem]:
    """Every grant in the desired state that a policy denies, at the place the grant is written."""
    found = []
    for policy in desired.policies:
        for granted_on, principal, privilege in _grants(desired):
            message = _violation(policy, granted_on, principal, privilege)
            if message:
                where = _where(desired, (granted_on.ref, principal, privilege), policy)
                found.append(SpecProblem(where, message))
    return found


def _grants(desired: DesiredState) -> Iterator[tuple[Securable, str, str]]:
    for obj in desired.ordered():
        for principal, privileges in sorted(obj.grants.items()):
            for privilege in privs.in_reading_order(privileges):
                yield obj, principal, privilege


def _violation(policy: Policy, granted_on: Securable, principal: str, privilege: str) -> str | None:
    reached = covered(policy, granted_on, privilege) if policy.denies(principal, privilege) else None
    if reached is None:
        return None
    denied = f"policy '{policy.name}' denies {privilege} to {principal} on {reached}"
    if reached == granted_on.full_name:
        return f"{denied} ({granted_on.kind.label})"
    return f"{denied} (granted on {granted_on.kind.label} {granted_on.full_name}, which reaches it)"


def _where(desired: DesiredState, grant: tuple[Ref, str, str], policy: Policy) -> Location:
    """Where the grant is written; for a desired state built by hand, where the principal or policy is."""
    found = desired.grant_locations.get(grant)
    if found:
        return found
    named = desired.principals.get(grant[1]) or ()
    return named[0] if named else policy.where or Location("<specs>", 1, 1)
