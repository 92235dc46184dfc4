"""Event photos in the browser: a photographer uploads a folder (one file broken) and watches
it reach 100 % and get indexed; an attendee on a phone finds their photos with a selfie; the
organizer splits and merges the people found."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.images import FACES_DIR
from tests.polling import wait_until
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    expect_ok,
    open_ready,
    screenshot,
    signed_in,
    watch,
)
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser

PHOTO_SIDE = 900  # small photos keep indexing quick on CI's two cores
INDEXING_SECONDS = 180


def small_photo(source: Path, target: Path) -> Path:
    image = Image.open(source).convert("RGB")
    image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    image.save(target, quality=90)
    return target


def group_photo(sources: list[Path], target: Path) -> Path:
    """People side by side on one canvas, as in a crowd shot."""
    people = [Image.open(source).convert("RGB") for source in sources]
    for person in people:
        person.thumbnail((PHOTO_SIDE // 2, PHOTO_SIDE))
    canvas = Image.new(
        "RGB", (sum(p.width for p in people), max(p.height for p in people)), "white"
    )
    left = 0
    for person in people:
        canvas.paste(person, (left, 0))
        left += person.width
    canvas.save(target, quality=90)
    return target


def new_event(api: httpx.Client, owner: Tokens) -> dict[str, Any]:
    body = {
        "name": "Summer run",
        "slug": f"summer-run-{uuid.uuid4().hex[:8]}",
        "event_date": date.today().isoformat(),
    }
    return dict(expect_ok(api.post("/events", json=body, headers=owner.headers)))


def wait_until_indexed(api: httpx.Client, event_id: str, owner: Tokens, photos: int) -> None:
    def progress() -> dict[str, Any]:
        return dict(expect_ok(api.get(f"/events/{event_id}/progress", headers=owner.headers)))

    def finished() -> dict[str, Any] | None:
        now = progress()
        return now if now["indexed"] + now["failed"] >= photos else None

    done = wait_until(
        finished,
        seconds=INDEXING_SECONDS,
        step=0.5,
        what=lambda: f"indexing to finish: {progress()}",
    )
    assert done["indexed"] == photos, done


def obama_event(api: httpx.Client, owner: Tokens, folder: Path) -> dict[str, Any]:
    """An indexed event of three photos: Obama speaking, a stranger, Biden and Obama."""
    event = new_event(api, owner)
    photos = [
        small_photo(FACES_DIR / "obama2.jpg", folder / "speech.jpg"),
        small_photo(FACES_DIR / "hopper.jpg", folder / "stranger.jpg"),
        group_photo([FACES_DIR / "biden.jpg", FACES_DIR / "obama.jpg"], folder / "group.jpg"),
    ]
    files = [("files", (photo.name, photo.read_bytes(), "image/jpeg")) for photo in photos]
    upload = api.post(f"/events/{event['id']}/photos", files=files, headers=owner.headers)
    assert expect_ok(upload)["accepted"] == 3
    wait_until_indexed(api, event["id"], owner, photos=3)
    return event


def test_photographer_uploads_a_folder_and_watches_it_indexed(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    tenant = make_tenant()
    new_event(api, tokens_for(make_user(tenant, Role.TENANT_OWNER)))
    folder = tmp_path / "shoot"
    folder.mkdir()
    for name in ("obama.jpg", "biden.jpg", "hopper.jpg"):
        small_photo(FACES_DIR / name, folder / name)
    (folder / "broken.jpg").write_bytes(b"this is not a photo")
    photographer = tokens_for(make_user(tenant, Role.PHOTOGRAPHER))
    context = signed_in(browser.new_context(viewport={"width": 1280, "height": 1000}), photographer)
    page = context.new_page()
    errors = watch(page)

    open_ready(page, f"{live_server}/app/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    page.get_by_role("link", name="Summer run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Summer run", timeout=WAIT_MS)

    page.get_by_label("Choose a folder").set_input_files(folder)
    expect(page.locator("[data-upload-percent]")).to_have_text("100 %", timeout=WAIT_MS)
    expect(page.locator("[data-upload-count]")).to_have_text("4 of 4")
    expect(page.locator("[data-upload-files] li", has_text="broken.jpg")).to_contain_text(
        "Rejected"
    )
    expect(page.locator("[data-upload-files] li", has_text="Uploaded")).to_have_count(3)

    expect(page.locator("[data-index-text]")).to_contain_text(
        "3 of 3 photos searched", timeout=INDEXING_SECONDS * 1000
    )
    tiles = page.locator("[data-gallery] figure")
    # Every tile indexed: the gallery's last refresh is in, so the hovered tile stays.
    expect(tiles.filter(has_text="1 face")).to_have_count(3, timeout=WAIT_MS)
    tiles.first.hover()
    expect(tiles.first.locator(".face-box")).to_have_count(1, timeout=WAIT_MS)
    screenshot(page, "photographer_upload")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete hopper.jpg").click()
    expect(tiles).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("[data-index-text]")).to_contain_text("2 of 2", timeout=WAIT_MS)

    # Dropped again, a photo already in the event is recognised as such.
    dropped = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return transfer;
        }""",
        ["obama.jpg", base64.b64encode((folder / "obama.jpg").read_bytes()).decode()],
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    expect(page.locator("[data-upload-files] li")).to_have_text(
        re.compile("obama.jpg.*Already in this event"), timeout=WAIT_MS
    )
    assert errors == []
    context.close()


def test_attendee_finds_their_photos_with_a_selfie_on_a_phone(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    event = obama_event(api, owner, tmp_path)

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    errors = watch(page)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{live_server}/e/{event['access_code']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Summer run", timeout=WAIT_MS)
    selfie = page.get_by_label("Take or choose a selfie")
    selfie.set_input_files(FACES_DIR / "obama3.jpg")
    expect(page.locator("[data-selfie-outcome]")).to_contain_text("tick", timeout=WAIT_MS)

    page.get_by_label("I agree to this use of my selfie").check()
    selfie.set_input_files(FACES_DIR / "obama3.jpg")
    expect(page.locator("[data-results-count]")).to_have_text(
        "We found you in 2 photos.", timeout=WAIT_MS
    )
    results = page.locator("[data-results] img")
    expect(results).to_have_count(2)
    for image in results.all():
        expect(image).to_have_js_property("complete", True, timeout=WAIT_MS)
        assert image.evaluate("img => img.naturalWidth") > 0
    download = page.get_by_role("link", name="Download photo 1")
    with page.expect_download(timeout=WAIT_MS) as pending:
        download.click()
    assert pending.value.suggested_filename.endswith(".jpg")
    screenshot(page, "attendee_phone")

    page.get_by_role("button", name="Delete all my data for this event").click()
    expect(page.locator("[data-privacy-outcome]")).to_contain_text("deleted", timeout=WAIT_MS)
    expect(page.locator("[data-step=results]")).to_be_hidden()
    assert errors == []
    phone.close()


def test_organizer_splits_and_merges_people_on_the_event_page(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    event = obama_event(api, owner, tmp_path)

    context = signed_in(browser.new_context(viewport={"width": 1280, "height": 1000}), owner)
    page = context.new_page()
    errors = watch(page)
    open_ready(page, f"{live_server}/app/events/{event['id']}")
    people = page.locator("[data-people] li")
    # Obama in two photos, Biden and Hopper in one each.
    expect(people).to_have_count(3, timeout=WAIT_MS)
    obama = people.filter(has_text="2 photos")
    expect(obama).to_have_count(1)

    obama.get_by_role("button").click()
    faces = page.locator("[data-person-faces] li")
    expect(faces).to_have_count(2, timeout=WAIT_MS)
    faces.first.get_by_label("Someone else").check()
    page.get_by_role("button", name="Split selected faces into a new person").click()
    expect(page.locator("[data-people-outcome]")).to_contain_text("split off", timeout=WAIT_MS)
    expect(people).to_have_count(4, timeout=WAIT_MS)
    expect(people.filter(has_text="2 photos")).to_have_count(0)
    screenshot(page, "organizer_people")

    for tile in people.all()[:2]:
        tile.get_by_label("Select").check()
    page.get_by_role("button", name="Merge selected people").click()
    expect(page.locator("[data-people-outcome]")).to_contain_text("Merged 2", timeout=WAIT_MS)
    expect(people).to_have_count(3, timeout=WAIT_MS)
    expect(people.filter(has_text="2 photos")).to_have_count(1)
    assert errors == []
    context.close()


def summer_run_on_a_phone(
    browser: Browser, live_server: str, event: dict[str, Any]
) -> tuple[BrowserContext, Page, list[str]]:
    """The attendee page of `new_event`'s event as an attendee opens it: on a phone, with the
    page's script errors watched."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    errors = watch(page)
    page.goto(f"{live_server}/e/{event['access_code']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Summer run", timeout=WAIT_MS)
    return phone, page, errors


def test_attendee_chooses_whatsapp_for_new_photo_notices(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    event = new_event(api, owner)
    phone, page, errors = summer_run_on_a_phone(browser, live_server, event)
    page.get_by_text("Create an account").click()
    username = f"runner{uuid.uuid4().hex[:6]}"
    register = page.locator("[data-attendee-account=register]")
    register.get_by_label("Your name").fill("Rita Runner")
    register.get_by_label("Username").fill(username)
    register.get_by_label("Email").fill(f"{username}@example.org")
    register.get_by_label("Password").fill("a long attendee password")
    register.get_by_role("button", name="Create my account").click()

    page.get_by_label("On WhatsApp", exact=True).check()
    page.get_by_label("Your mobile number").fill("+31 6 1234 5678")
    page.get_by_role("button", name="Save my choice").click()
    outcome = page.locator("[data-channel-choice] [data-outcome]")
    expect(outcome).to_contain_text("consent", timeout=WAIT_MS)  # refused without it
    page.get_by_label("I agree to get messages about this event on WhatsApp").check()
    page.get_by_role("button", name="Save my choice").click()
    expect(outcome).to_have_text("Saved: we tell you on WhatsApp.", timeout=WAIT_MS)
    screenshot(page, "attendee_whatsapp_choice")

    page.reload()
    expect(page.get_by_label("On WhatsApp", exact=True)).to_be_checked(timeout=WAIT_MS)
    expect(page.get_by_label("Your mobile number")).to_have_value("+31612345678")
    listed = expect_ok(api.get(f"/events/{event['id']}/attendees", headers=owner.headers))
    [attendee] = listed["items"]
    assert (attendee["notice_channel"], attendee["phone"]) == ("whatsapp", "31612345678")
    assert errors == []
    phone.close()


def test_a_returning_attendee_is_told_their_face_template_is_kept(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    """The privacy card says what is kept after a reload too, and offers to stop
    notifications only while a template is kept."""
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    event = new_event(api, owner)
    phone, page, errors = summer_run_on_a_phone(browser, live_server, event)
    state = page.locator("[data-notify-state]")
    stop = page.get_by_role("button", name="Stop notifications and delete my face template")
    expect(state).to_have_text("No face template of you is kept: notifications are off.")
    expect(stop).to_be_hidden()

    page.get_by_text("Create an account").click()
    username = f"runner{uuid.uuid4().hex[:6]}"
    register = page.locator("[data-attendee-account=register]")
    register.get_by_label("Username").fill(username)
    register.get_by_label("Email").fill(f"{username}@example.org")
    register.get_by_label("Password").fill("a long attendee password")
    register.get_by_role("button", name="Create my account").click()
    expect(page.get_by_label("Tell me when new photos of me arrive")).to_be_checked(timeout=WAIT_MS)
    page.get_by_label("I agree to this use of my selfie").check()
    page.get_by_label("Take or choose a selfie").set_input_files(FACES_DIR / "obama3.jpg")
    expect(state).to_contain_text("Your encrypted face template is kept", timeout=WAIT_MS)

    page.reload()
    expect(state).to_contain_text("Your encrypted face template is kept", timeout=WAIT_MS)
    notify_box = page.get_by_label("Tell me when new photos of me arrive")
    expect(notify_box).to_be_checked()  # the box says what is on after a reload too
    stop.click()
    expect(page.locator("[data-privacy-outcome]")).to_contain_text(
        "your face template is deleted", timeout=WAIT_MS
    )
    expect(stop).to_be_hidden()
    expect(notify_box).not_to_be_checked()
    page.reload()
    expect(state).to_have_text(
        "No face template of you is kept: notifications are off.", timeout=WAIT_MS
    )
    assert errors == []
    phone.close()
