// The attendee page (from the event's link or QR code, phone first): join with the access
// code, agree, take or pick a selfie, see and download "your photos", manage your data.
"use strict";

(function () {
  const root = document.querySelector("[data-attendee]");
  const accessCode = root.dataset.attendee;
  const PASS = `visage.attendee.${accessCode}`;
  const step = (name) => root.querySelector(`[data-step="${name}"]`);
  const errorLine = root.querySelector("[data-attendee-error]");
  const selfieOutcome = root.querySelector("[data-selfie-outcome]");
  const agree = root.querySelector("[data-agree]");
  const notify = root.querySelector("[data-notify]");
  const video = root.querySelector("[data-camera-video]");
  const preview = root.querySelector("[data-selfie-preview]");
  const captureButton = root.querySelector("[data-selfie-capture]");
  const results = root.querySelector("[data-results]");
  const privacyOutcome = root.querySelector("[data-privacy-outcome]");
  let pass = sessionStorage.getItem(PASS);
  let event = null;
  let registered = false;

  const call = (path, options = {}) => Visage.api(path, { ...options, token: pass });

  // Registered attendees may ask for notifications; anonymous ones are offered an account.
  function showAccount() {
    root.querySelector("[data-notify-choice]").hidden = !registered;
    step("account").hidden = registered;
    showPublicity();
    showChannel();
  }

  // The channel: email (the default), WhatsApp (their number and their consent), or none.
  const channelForm = root.querySelector("[data-channel-choice]");
  const whatsappFields = channelForm.querySelector("[data-whatsapp-fields]");
  const chosen = () => channelForm.querySelector("input[name=channel]:checked");
  function toggleWhatsapp() {
    whatsappFields.hidden = !chosen() || chosen().value !== "whatsapp";
  }
  async function showChannel() {
    // Shown once the saved choice is in: a choice made before it arrived would be overwritten.
    channelForm.hidden = true;
    if (!registered) return;
    const me = await call("/api/v1/attendees/me");
    if (me.ok && me.data.attendee) {
      const current = channelForm.querySelector(`input[value="${me.data.attendee.notice_channel}"]`);
      if (current) current.checked = true;
      if (me.data.attendee.phone) channelForm.elements.phone.value = `+${me.data.attendee.phone}`;
    }
    toggleWhatsapp();
    channelForm.hidden = false;
  }
  for (const radio of channelForm.querySelectorAll("input[name=channel]")) {
    radio.addEventListener("change", toggleWhatsapp);
  }
  channelForm.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const outcome = channelForm.querySelector("[data-outcome]");
    if (!chosen()) { Visage.say(outcome, _("Choose how we should tell you."), "error"); return; }
    const body = { channel: chosen().value };
    if (body.channel === "whatsapp") {
      body.phone = channelForm.elements.phone.value.trim();
      body.whatsapp_consent = channelForm.elements.whatsapp_consent.checked;
    }
    const result = await call("/api/v1/attendees/me/notifications", { method: "PUT", json: body });
    if (!result.ok) { Visage.say(outcome, Visage.describeError(result, channelForm), "error"); return; }
    const words = { email: _("by email"), whatsapp: _("on WhatsApp"), none: _("not at all") };
    Visage.say(outcome, _("Saved: we tell you {how}.", { how: words[result.data.attendee.notice_channel] }), "ok");
  });

  // Publicity: whether the attendee may appear, recognizable, in photos the club publishes.
  const publicity = root.querySelector("[data-publicity]");
  async function showPublicity() {
    root.querySelector("[data-publicity-choice]").hidden = !registered;
    if (!registered) return;
    const result = await call("/api/v1/attendees/me/publicity");
    if (result.ok) publicity.checked = result.data.consent;
  }
  publicity.addEventListener("change", async () => {
    const result = await call("/api/v1/attendees/me/publicity", { method: "PUT", json: { consent: publicity.checked } });
    if (!result.ok) { Visage.say(privacyOutcome, Visage.describeError(result), "error"); return; }
    Visage.say(privacyOutcome, result.data.consent
      ? _("Thank you: you may appear in the photos the club publishes.")
      : _("Done: your face will be blurred in every photo the club publishes."), "ok");
  });

  function keepPass(answer) {
    pass = answer.access_token;
    registered = Boolean(answer.attendee);
    sessionStorage.setItem(PASS, pass);
  }

  for (const form of root.querySelectorAll("[data-attendee-account]")) {
    form.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      const outcome = form.querySelector("[data-outcome]");
      const fields = Object.fromEntries(new FormData(form));
      const registering = form.dataset.attendeeAccount === "register";
      const body = registering
        ? { access_code: accessCode, username: fields.username, email: fields.email, password: fields.password, full_name: fields.full_name }
        : { access_code: accessCode, login: fields.login, password: fields.login_password };
      const path = registering ? "/api/v1/attendees/register" : "/api/v1/attendees/login";
      const result = await Visage.api(path, { method: "POST", json: body, token: null });
      if (!result.ok) { Visage.say(outcome, Visage.describeError(result, form), "error"); return; }
      keepPass(result.data);
      showAccount();
      notify.checked = true;
      Visage.say(selfieOutcome, _("Signed in. Take a selfie to turn on notifications."), "ok");
      notify.focus();
    });
  }

  // The event, and whether a face template of this visitor is kept (a returning attendee's).
  async function join() {
    if (pass) {
      const me = await call("/api/v1/attendees/me");
      if (me.ok) {
        registered = Boolean(me.data.attendee);
        return { event: me.data.event, templateKept: me.data.has_selfie_template };
      }
      pass = null;
    }
    const joined = await Visage.api("/api/v1/attendees/anonymous", {
      method: "POST", json: { access_code: accessCode }, token: null,
    });
    if (!joined.ok) throw new Error(Visage.describeError(joined));
    keepPass(joined.data);
    return { event: joined.data.event, templateKept: false };
  }

  // Stopping is offered only while there is a template to delete.
  function showNotifyState(enabled) {
    notify.checked = enabled;  // a returning attendee's box says what is on
    root.querySelector("[data-stop-notify]").hidden = !enabled;
    root.querySelector("[data-notify-state]").textContent = enabled
      ? _("We tell you when new photos of you arrive, the way you choose below. Your encrypted face template is kept until then.")
      : _("No face template of you is kept: notifications are off.");
  }

  // Photo links carry their own short-lived token: the same one opens the full-size download.
  function downloadUrl(thumbnailUrl) {
    return thumbnailUrl.replace(/\/thumbnail(\?|$)/, "/original$1");
  }

  function showResults(found) {
    results.replaceChildren();
    step("results").hidden = false;
    root.querySelector("[data-results-count]").textContent = found.photos.length
      ? ngettext("We found you in {n} photo.", "We found you in {n} photos.", found.photos.length)
      : _("No photos of you yet. Photos are still being added? Try again later, or turn on notifications.");
    found.photos.forEach((match, index) => {
      const item = document.createElement("li");
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = match.thumbnail_url;
      image.alt = _("Photo {number} with you in it", { number: index + 1 });
      image.loading = "lazy";
      const link = document.createElement("a");
      link.href = downloadUrl(match.thumbnail_url);
      link.download = "";
      link.className = "button";
      link.textContent = _("Download");
      link.setAttribute("aria-label", _("Download photo {number}", { number: index + 1 }));
      figure.append(image, link);
      item.append(figure);
      results.append(item);
    });
    showNotifyState(found.notifications_enabled);
    step("privacy").hidden = false;
  }

  async function search(blob) {
    if (!agree.checked) {
      Visage.say(selfieOutcome, _("Please tick “I agree” first: we need your consent to use the selfie."), "error");
      agree.focus();
      return;
    }
    preview.src = URL.createObjectURL(blob);
    preview.hidden = false;
    Visage.say(selfieOutcome, _("Looking for you in the photos…"), "busy");
    const form = new FormData();
    form.append("image", blob, "selfie.jpg");
    form.append("notify", notify.checked ? "true" : "false");
    const found = await call(`/api/v1/events/${event.id}/search`, { method: "POST", form });
    if (!found.ok) { Visage.say(selfieOutcome, Visage.describeError(found), "error"); return; }
    Visage.say(selfieOutcome, "", "ok");
    showResults(found.data);
  }

  root.querySelector("[data-selfie-file]").addEventListener("change", (change) => {
    const file = change.target.files[0];
    if (file) search(file);
    change.target.value = "";
  });
  root.querySelector("[data-camera-start]").addEventListener("click", async () => {
    try {
      await VisageCamera.start(video);
      preview.hidden = true;
      captureButton.hidden = false;
    } catch (error) {
      Visage.say(selfieOutcome, error.message + " " + _("You can pick a photo instead."), "error");
    }
  });
  captureButton.addEventListener("click", async () => {
    if (!VisageCamera.ready(video)) { Visage.say(selfieOutcome, _("The camera is still starting: try again in a moment."), "busy"); return; }
    const frame = await VisageCamera.capture(video);
    VisageCamera.stop(video);
    video.hidden = true;
    captureButton.hidden = true;
    search(frame);
  });
  root.querySelector("[data-stop-notify]").addEventListener("click", async () => {
    const result = await call("/api/v1/attendees/me/selfie", { method: "DELETE" });
    if (!result.ok) { Visage.say(privacyOutcome, Visage.describeError(result), "error"); return; }
    showNotifyState(false);
    Visage.say(privacyOutcome, _("Done: notifications are off and your face template is deleted."), "ok");
  });
  root.querySelector("[data-delete-me]").addEventListener("click", async () => {
    if (!window.confirm(_("Delete everything we keep about you for this event?"))) return;
    // An anonymous pass has no account: its only data is the kept face template.
    const path = registered ? "/api/v1/attendees/me" : "/api/v1/attendees/me/selfie";
    const result = await call(path, { method: "DELETE" });
    if (!result.ok) { Visage.say(privacyOutcome, Visage.describeError(result), "error"); return; }
    sessionStorage.removeItem(PASS);
    pass = null;
    results.replaceChildren();
    for (const name of ["results", "selfie", "account"]) step(name).hidden = true;
    Visage.say(privacyOutcome, _("Your data for this event is deleted. You can close this page."), "ok");
  });

  document.addEventListener("DOMContentLoaded", async () => {
    let templateKept = false;
    try {
      ({ event, templateKept } = await join());
    } catch (error) {
      Visage.say(errorLine, error.message, "error");
      return;
    }
    root.querySelector("[data-event-name]").textContent = event.name;
    root.querySelector("[data-event-date]").textContent = Visage.formatDate(event.event_date);
    document.title = `${event.name} · Visage`;
    if (event.face_search_enabled) step("selfie").hidden = false;
    else Visage.say(errorLine, _("The organiser has not turned on selfie search for this event."), "error");
    step("privacy").hidden = false;
    showNotifyState(templateKept);
    showAccount();
  });
})();
