"""Imports every domain's models so Alembic and the tests see the whole schema."""

from visage.access import models as access_models
from visage.billing import models as billing_models
from visage.core.db import Base
from visage.events import models as events_models
from visage.faces import models as faces_models
from visage.identity import models as identity_models
from visage.members import models as members_models
from visage.messaging import models as messaging_models
from visage.notifications import models as notifications_models
from visage.publishing import models as publishing_models

__all__ = [
    "Base",
    "access_models",
    "billing_models",
    "events_models",
    "faces_models",
    "identity_models",
    "members_models",
    "messaging_models",
    "notifications_models",
    "publishing_models",
]
