// The door kiosk: a device key kept in localStorage, the webcam, and one frame sent every
// FRAME_INTERVAL_MS while idle. The API answers FACE_001 while nobody faces the camera; an
// empty frame costs the server several member frames (it looks for faces down to 52 px), so
// while the camera still shows the scene of the last FACE_001 nothing is sent: anyone walking
// in changes the scene, wherever they stand. The same scene goes again every IDLE_RESEND_MS.
// PIN_REQUIRED: the face narrowed it to a few members; the PIN pad asks, and the same frame
// goes again with the PIN. No name is shown until the PIN matched.
"use strict";

(function () {
  const KEY = "visage.kiosk_key";
  const HOPPED = "visage.language_hop";
  const FRAME_INTERVAL_MS = 1500;
  const RESULT_HOLD_MS = 4000;
  const PIN_TIMEOUT_MS = 30000;
  const OFFLINE_RETRY_MS = 5000;
  const SCENE_CHECK_MS = 300;
  const IDLE_RESEND_MS = 15000;
  // As the server's own comparison (faces/scenes.py): a 64x48 grey thumbnail changed when more
  // than 0.3 % of its pixels moved by more than 20 grey levels (a 52 px face alone is 0.9 %).
  const SCENE_WIDTH = 64;
  const SCENE_HEIGHT = 48;
  const CHANGED_LEVEL = 20;
  const CHANGED_SHARE = 0.003;
  const HINTS = {
    FACE_001: _("Stand still for a moment to check in."),
    FACE_002: _("One person at a time, please."),
    FACE_003: _("Come a little closer and hold still."),
  };

  const setup = document.querySelector("[data-kiosk-setup]");
  const run = document.querySelector("[data-kiosk-run]");
  const video = run.querySelector("[data-camera-video]");
  const banner = run.querySelector("[data-kiosk-banner]");
  const title = run.querySelector("[data-kiosk-title]");
  const detail = run.querySelector("[data-kiosk-detail]");
  const pinPad = run.querySelector("[data-kiosk-pin]");
  const pinInput = pinPad.querySelector("input");
  let timer = null;
  let pinTimer = null;
  let pendingFrame = null;
  let emptyScene = null; // { pixels, at }: the thumbnail of the last frame answered FACE_001

  function show(state, heading, text) {
    banner.dataset.state = state;
    title.textContent = heading;
    detail.textContent = text;
  }

  function ready(text = HINTS.FACE_001) { show("ready", _("Look at the camera"), text); }

  function sameScene(before, now) {
    let moved = 0;
    for (let i = 0; i < now.length; i++) if (Math.abs(now[i] - before[i]) > CHANGED_LEVEL) moved++;
    return moved < CHANGED_SHARE * now.length;
  }

  function stillEmpty(scene) {
    return emptyScene !== null && Date.now() - emptyScene.at < IDLE_RESEND_MS
      && sameScene(emptyScene.pixels, scene);
  }

  function next(delay) {
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  }

  function askForKey(message) {
    clearTimeout(timer);
    VisageCamera.stop(video);
    run.hidden = true;
    setup.hidden = false;
    Visage.say(setup.querySelector("[data-outcome]"), message || "", message ? "error" : "ok");
    setup.querySelector("input").focus();
  }

  function send(frame, pin) {
    const form = new FormData();
    form.append("image", frame, "frame.jpg");
    if (pin) form.append("pin", pin);
    return Visage.api("/api/v1/checkins", {
      method: "POST", form, token: null, headers: { "X-API-Key": localStorage.getItem(KEY) },
    });
  }

  function closePin() {
    clearTimeout(pinTimer);
    pendingFrame = null;
    pinInput.value = "";
    pinPad.hidden = true;
  }

  function askPin(frame, message) {
    clearTimeout(timer);
    pendingFrame = frame;
    pinInput.value = "";
    pinPad.hidden = false;
    show("pin", message || _("Enter your PIN"), _("Type your PIN, then OK."));
    pinPad.querySelector("[data-pin-digit]").focus();
    clearTimeout(pinTimer);
    pinTimer = setTimeout(() => { closePin(); ready(); next(FRAME_INTERVAL_MS); }, PIN_TIMEOUT_MS);
  }

  // The tenant's language wins over the tablet's (unless someone chose one on this kiosk): the
  // API says which one it answered in; the switch link remembers it in the cookie.
  function speakTheTenantsLanguage(result) {
    const spoken = result.response && result.response.headers.get("content-language");
    if (!spoken || spoken === VISAGE_LOCALE || sessionStorage.getItem(HOPPED) === spoken) return false;
    sessionStorage.setItem(HOPPED, spoken);
    location.replace(`/app/language/${spoken}?next=${encodeURIComponent(location.pathname)}`);
    return true;
  }

  function answered(result, frame) {
    if (speakTheTenantsLanguage(result)) return;
    if (result.ok) {
      const answer = result.data;
      if (answer.reason === "PIN_REQUIRED") { askPin(frame, answer.message); return; }
      if (answer.allowed) {
        const name = answer.member ? answer.member.full_name : "";
        const heading = name ? _("Welcome, {name}!", { name }) : _("Welcome!");
        const visits = answer.visits_remaining == null ? _("Enjoy your visit.") : _("Visits left: {count}.", { count: answer.visits_remaining });
        show("granted", heading, answer.message && answer.message !== heading ? answer.message : visits);
      } else {
        show("denied", _("Sorry, no entry"), answer.message);
      }
      setTimeout(() => ready(), RESULT_HOLD_MS);
      next(RESULT_HOLD_MS);
      return;
    }
    const code = result.data && result.data.error ? result.data.error.code : "";
    if (result.status === 401 || result.status === 403) {
      askForKey(_("This kiosk key does not work ({reason}). Enter a current key.", { reason: Visage.describeError(result) }));
      return;
    }
    if (HINTS[code]) { ready(HINTS[code]); next(FRAME_INTERVAL_MS); return; }
    if (result.status === 0 || result.status >= 500 || result.status === 429) {
      const text = result.status === 429 ? Visage.describeError(result) : _("Check-in is briefly unavailable; trying again.");
      show("offline", _("One moment…"), text);
      const wait = Number(result.response && result.response.headers.get("Retry-After"));
      next(wait > 0 ? wait * 1000 : OFFLINE_RETRY_MS);
      return;
    }
    show("denied", _("Please try again"), Visage.describeError(result));
    setTimeout(() => ready(), RESULT_HOLD_MS);
    next(RESULT_HOLD_MS);
  }

  async function tick() {
    if (!VisageCamera.ready(video)) { next(300); return; }
    const scene = VisageCamera.thumbnail(video, SCENE_WIDTH, SCENE_HEIGHT);
    if (stillEmpty(scene)) { next(SCENE_CHECK_MS); return; }
    const frame = await VisageCamera.capture(video);
    const result = await send(frame);
    const nobody = !result.ok && result.data && result.data.error && result.data.error.code === "FACE_001";
    emptyScene = nobody ? { pixels: scene, at: Date.now() } : null;
    answered(result, frame);
  }

  async function begin() {
    setup.hidden = true;
    run.hidden = false;
    ready();
    try {
      await VisageCamera.start(video);
    } catch (error) {
      show("denied", _("Camera unavailable"), error.message);
      return;
    }
    next(FRAME_INTERVAL_MS);
  }

  pinPad.addEventListener("click", (event) => {
    const key = event.target.closest("[data-pin-digit]");
    if (key && pinInput.value.length < 6) pinInput.value += key.dataset.pinDigit;
    if (event.target.closest("[data-pin-clear]")) pinInput.value = "";
    if (event.target.closest("[data-pin-cancel]")) { closePin(); ready(); next(FRAME_INTERVAL_MS); }
  });
  pinPad.addEventListener("submit", async (event) => {
    event.preventDefault();
    const pin = pinInput.value;
    if (!/^[0-9]{4,6}$/.test(pin)) { detail.textContent = _("A PIN has 4 to 6 digits."); return; }
    const frame = pendingFrame;
    closePin();
    show("ready", _("Checking…"), _("One moment."));
    answered(await send(frame, pin), frame);
  });

  setup.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = event.target.elements.api_key.value.trim();
    if (!key) { Visage.say(setup.querySelector("[data-outcome]"), _("Kiosk key: enter the key."), "error"); return; }
    localStorage.setItem(KEY, key);
    event.target.reset();
    // The click is the user gesture full screen needs; a refusal leaves the kiosk windowed.
    if (document.fullscreenEnabled) document.documentElement.requestFullscreen().catch(() => {});
    begin();
  });
  run.querySelector("[data-kiosk-forget]").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    askForKey("");
  });
  run.querySelector("[data-kiosk-fullscreen]").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  });

  if (localStorage.getItem(KEY)) begin(); else askForKey("");
})();
