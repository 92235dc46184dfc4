"""The reliability fixtures (an owned event, external databases) serve the operations tests."""

from tests.reliability.conftest import owned_event

__all__ = ["owned_event"]
