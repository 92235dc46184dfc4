from tests.publishing.conftest import x_api, x_state  # noqa: F401 - the X contract server
