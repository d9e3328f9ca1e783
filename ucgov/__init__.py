"""ucgov: Unity Catalog governance as code for ML models, catalogs, schemas and their grants."""

from __future__ import annotations

__version__ = "0.1.0"


def resolve(name: str, *, url: str | None = None, token: str | None = None) -> str:
    """The approved version of a model as ``models:/catalog.schema.model/N``, for MLflow to load."""
    from ucgov.resolver import resolve as _resolve

    return _resolve(name, url=url, token=token)


__all__ = ["__version__", "resolve"]
