"""ucgov: Unity Catalog governance as code for ML models, catalogs, schemas and their grants."""

__version__ = "0.1.0"
