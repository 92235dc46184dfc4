"""Imports every domain's models so Alembic and the tests see the whole schema."""

from visage.core.db import Base
from visage.identity import models as identity_models

__all__ = ["Base", "identity_models"]
