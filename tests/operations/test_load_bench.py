"""`visage bench load`, briefly: kiosks, staff, an attendee and a photographer at once against
one `visage serve` get no 5xx and lose no check-in (timings are printed, never asserted)."""

from __future__ import annotations

import pytest

from tests.images import FACES_DIR
from visage.config import Settings
from visage.core.db import Database
from visage.faces.inference.engine import load_backend
from visage.operations.loadbench import run_load


@pytest.mark.slow
def test_a_short_load_has_no_server_error_and_loses_no_check_in(
    settings: Settings, database: Database
) -> None:
    load_backend(settings)  # the ONNX models are converted once, before the server starts
    report = run_load(
        settings,
        database,
        FACES_DIR,
        seconds=12,
        kiosks=2,
        staff=2,
        attendees=1,
        uploaders=1,
        nobody_share=0.5,
    )
    print(report)
    assert report.server_errors == 0
    assert not report.transport_errors
    assert report.checkins_answered > 0
    assert report.checkins_lost == 0
    assert report.photos.uploaded > 0
    assert report.photos.failed == 0  # indexing errors are errors the photographer sees
    routes = {figures.route for figures in report.routes}
    assert {
        "POST /checkins (kiosk)",
        "POST /checkins (kiosk, nobody there)",
        "POST /events/{id}/search",
        "POST /events/{id}/photos",
    } <= routes
    assert all(not figures.errors for figures in report.routes), report.routes
