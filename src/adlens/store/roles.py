"""The roles an API key can have (see adlens.api.auth for what each may reach).

Apart from :mod:`adlens.store.keys`, so that ``adlens keys create``'s help names them without SQLAlchemy.
"""

ROLES = ("admin", "screen", "analyst")

__all__ = ["ROLES"]
