"""The door kiosk: Chromium's camera is fed a picture of an enrolled member, the page signs in
with a device key and welcomes them — after riding out a network failure; another gym's kiosk
turns them away in red; the front desk enrolls a face from the same webcam."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, Response, Route, expect

from tests.images import FACES_DIR, camera_take, empty_door, member_standing_back
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    expect_ok,
    launch_chromium,
    open_ready,
    screenshot,
    signed_in,
    watch,
)
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser

FRAME_SIZE = (480, 640)  # even sides, as 4:2:0 needs
FRAMES = 5
# Under the kiosk page's IDLE_RESEND_MS: an unchanged scene is not sent again meanwhile.
IDLE_SECONDS = 10


def write_video(frames: list[Image.Image], target: Path, *, fps: int = 10) -> Path:
    """A video for Chromium's fake camera (which loops it): YUV 4:2:0 (C420jpeg) frames of one
    size with even sides."""
    width, height = frames[0].size
    with target.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for picture in frames:
            luma, blue, red = picture.convert("YCbCr").split()
            half = (width // 2, height // 2)
            planes = luma.tobytes() + blue.resize(half).tobytes() + red.resize(half).tobytes()
            video.write(b"FRAME\n" + planes)
    return target


def write_y4m(picture: Path, target: Path) -> Path:
    """A still video for Chromium's fake camera: the picture on black."""
    canvas = Image.new("RGB", FRAME_SIZE)
    image = Image.open(picture).convert("RGB")
    image.thumbnail(FRAME_SIZE)
    canvas.paste(image, ((FRAME_SIZE[0] - image.width) // 2, (FRAME_SIZE[1] - image.height) // 2))
    return write_video([canvas] * FRAMES, target)


def camera_browser(playwright: Playwright, camera: Path) -> Browser:
    return launch_chromium(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    )


def kiosk_page(
    chromium: Browser,
    live_server: str,
    kiosk_key: str,
    prepare: Callable[[Page], None] | None = None,
) -> tuple[Page, list[str]]:
    """A new kiosk page (camera allowed) started with `kiosk_key`, and its console errors;
    `prepare` runs before the page loads."""
    context = chromium.new_context(viewport={"width": 800, "height": 1280})
    context.grant_permissions(["camera"], origin=live_server)
    page = context.new_page()
    errors = watch(page)
    if prepare is not None:
        prepare(page)
    page.goto(f"{live_server}/app/kiosk")
    page.get_by_label("Kiosk key").fill(kiosk_key)
    page.get_by_role("button", name="Start the kiosk").click()
    return page, errors


def enrolled_member_with_kiosk(api: httpx.Client, owner: Tokens) -> tuple[str, str]:
    """A member with consent, a face and an unlimited membership; their id and a kiosk key."""
    headers = owner.headers
    member = expect_ok(api.post("/members", json={"full_name": "Barack Obama"}, headers=headers))
    path = f"/members/{member['id']}"
    consent = {"text_version": "2026-11", "method": "paper"}
    expect_ok(api.post(f"{path}/consent", json=consent, headers=headers))
    with (FACES_DIR / "obama.jpg").open("rb") as photo:
        files = {"images": ("obama.jpg", photo, "image/jpeg")}
        expect_ok(api.post(f"{path}/faces", files=files, headers=headers))
    plan = expect_ok(
        api.post("/plans", json={"name": "Unlimited", "kind": "unlimited"}, headers=headers)
    )
    expect_ok(api.post(f"{path}/memberships", json={"plan_id": plan["id"]}, headers=headers))
    device = expect_ok(api.post("/devices", json={"name": "Front door"}, headers=headers))
    return str(member["id"]), str(device["api_key"])


def test_kiosk_welcomes_the_member_its_camera_sees(
    live_server: str,
    playwright: Playwright,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    device_headers: Callable[[Tenant], dict[str, str]],
    tmp_path: Path,
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    member_id, kiosk_key = enrolled_member_with_kiosk(api, owner)
    camera = write_y4m(FACES_DIR / "obama3.jpg", tmp_path / "door.y4m")
    chromium = camera_browser(playwright, camera)
    try:
        failures_left = [2]

        def drop_first_frames(route: Route) -> None:
            if failures_left[0]:
                failures_left[0] -= 1
                route.abort("internetdisconnected")
            else:
                route.continue_()

        page, errors = kiosk_page(
            chromium,
            live_server,
            kiosk_key,
            lambda page: page.route("**/api/v1/checkins", drop_first_frames),
        )
        context = page.context
        banner = page.locator("[data-kiosk-banner]")
        expect(banner).to_have_attribute("data-state", "offline", timeout=WAIT_MS)
        expect(banner).to_contain_text("Welcome, Barack Obama!", timeout=WAIT_MS)
        expect(banner).to_have_attribute("data-state", "granted")
        screenshot(page, "kiosk_welcome")
        assert failures_left == [0]

        page.reload()  # the key stays on the device: the kiosk restarts by itself
        expect(page.locator("[data-kiosk-setup]")).to_be_hidden()
        expect(banner).to_contain_text("Welcome, Barack Obama!", timeout=WAIT_MS)
        assert errors == []
        context.close()

        # Another gym's kiosk does not know this face: a red answer with the reason.
        page, _ = kiosk_page(chromium, live_server, device_headers(make_tenant())["X-API-Key"])
        elsewhere = page.context
        banner = page.locator("[data-kiosk-banner]")
        expect(banner).to_have_attribute("data-state", "denied", timeout=WAIT_MS)
        expect(banner).to_contain_text("Sorry, no entry")
        screenshot(page, "kiosk_denied")
        elsewhere.close()

        # The front desk adds a second face from the same camera, on the member's page.
        desk = signed_in(chromium.new_context(viewport={"width": 1280, "height": 1000}), owner)
        desk.grant_permissions(["camera"], origin=live_server)
        page = desk.new_page()
        errors = watch(page)
        open_ready(page, f"{live_server}/app/members/{member_id}")
        page.get_by_role("button", name="Use the webcam").click()
        page.get_by_role("button", name="Take the photo").click()
        expect(page.locator("[data-enroll-outcome]")).to_contain_text("Face added", timeout=WAIT_MS)
        expect(page.locator("[data-face-count-text]")).to_have_text("2", timeout=WAIT_MS)
        screenshot(page, "enroll_webcam")
        assert errors == []
    finally:
        chromium.close()


def test_an_idle_kiosk_sends_nothing_until_someone_walks_in(
    live_server: str,
    playwright: Playwright,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    # The camera films an empty door for IDLE_SECONDS (another take of it every frame, sensor
    # noise included), then a member standing about 2 m back, whom only the server's fine scan
    # finds. The empty door goes to the server once; the member's first frame is let in.
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    member_id, kiosk_key = enrolled_member_with_kiosk(api, owner)
    with (FACES_DIR / "obama2.jpg").open("rb") as photo:
        files = {"images": ("obama2.jpg", photo, "image/jpeg")}
        expect_ok(api.post(f"/members/{member_id}/faces", files=files, headers=owner.headers))
    door = empty_door()
    idle = [Image.open(io.BytesIO(camera_take(door, seed))) for seed in range(IDLE_SECONDS * 2)]
    camera = write_video(
        idle + [member_standing_back(door)] * (IDLE_SECONDS * 2), tmp_path / "idle.y4m", fps=2
    )
    chromium = camera_browser(playwright, camera)
    try:
        answers: list[str] = []

        def answer(response: Response) -> None:
            if response.url.endswith("/api/v1/checkins"):
                body = response.json()
                answers.append(body["error"]["code"] if "error" in body else body["reason"])

        page, errors = kiosk_page(
            chromium, live_server, kiosk_key, lambda page: page.on("response", answer)
        )
        banner = page.locator("[data-kiosk-banner]")
        expect(banner).to_contain_text("Welcome, Barack Obama!", timeout=WAIT_MS)
        assert answers[-1] == "GRANTED"
        assert answers[:-1] == ["FACE_001"]
        assert errors == []
    finally:
        chromium.close()
