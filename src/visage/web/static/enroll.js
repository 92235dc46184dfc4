// A member's page: consent first, then face photos from a file or the webcam, with the API's
// answer ("No face detected — ...") shown under the picture; the enrolled templates listed.
"use strict";

(function () {
  const box = document.querySelector("[data-enroll]");
  if (!box) return;
  const memberId = box.dataset.enroll;
  const facesUrl = `/api/v1/members/${memberId}/faces`;
  const consentForm = document.getElementById("consent-form");
  const preview = box.querySelector("[data-enroll-preview]");
  const video = box.querySelector("[data-camera-video]");
  const outcome = box.querySelector("[data-enroll-outcome]");
  const captureButton = box.querySelector("[data-enroll-capture]");
  const list = box.querySelector("[data-templates]");
  let previewUrl = null;

  function showPicture(blob) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    preview.src = previewUrl;
    preview.hidden = false;
  }

  async function enroll(blob, filename) {
    showPicture(blob);
    Visage.say(outcome, _("Checking the photo…"), "busy");
    const form = new FormData();
    form.append("images", blob, filename);
    const result = await Visage.api(facesUrl, { method: "POST", form });
    if (!result.ok) { Visage.say(outcome, Visage.describeError(result), "error"); return; }
    Visage.say(outcome, _("Face added. The member can check in at the kiosk."), "ok");
    htmx.trigger(document.getElementById("member"), "refresh");
    loadTemplates();
  }

  async function thumbnail(template) {
    const response = await fetch(`${facesUrl}/${template.id}/thumbnail`, {
      headers: { Authorization: `Bearer ${Visage.session.access}` },
    });
    return response.ok ? URL.createObjectURL(await response.blob()) : null;
  }

  async function loadTemplates() {
    const result = await Visage.api(facesUrl);
    list.replaceChildren();
    if (!result.ok) {
      const item = document.createElement("li");
      item.textContent = Visage.describeError(result);
      list.append(item);
      return;
    }
    if (!result.data.length) {
      const item = document.createElement("li");
      item.className = "muted";
      item.textContent = _("No face template yet.");
      list.append(item);
      return;
    }
    for (const template of result.data) {
      const item = document.createElement("li");
      const image = document.createElement("img");
      image.alt = _("Face template added {date}", { date: Visage.formatDate(template.created_at) });
      image.width = 96;
      image.height = 96;
      thumbnail(template).then((url) => { if (url) image.src = url; });
      const caption = document.createElement("span");
      caption.textContent = _("Added {moment}", { moment: Visage.formatDateTime(template.created_at) });
      item.append(image, caption);
      list.append(item);
    }
    const erase = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "danger";
    button.textContent = _("Delete all face templates");
    button.addEventListener("click", async () => {
      if (!window.confirm(_("Delete every face template of this member? They cannot check in by face until enrolled again."))) return;
      const erased = await Visage.api(facesUrl, { method: "DELETE" });
      Visage.say(outcome, erased.ok ? _("Face templates deleted.") : Visage.describeError(erased), erased.ok ? "ok" : "error");
      htmx.trigger(document.getElementById("member"), "refresh");
      loadTemplates();
    });
    erase.append(button);
    list.append(erase);
  }

  // The consent form shows until consent is recorded; photos can be added after.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "member") return;
    const card = event.detail.target.querySelector("[data-member-loaded]");
    if (!card) return;
    const name = card.dataset.memberFullname;
    for (const slot of document.querySelectorAll("[data-member-name]")) slot.textContent = name;
    document.title = `${name} · Visage`;
    const consented = card.dataset.consent === "given";
    if (consentForm) consentForm.hidden = consented;
    box.hidden = !consented;
  });

  box.querySelector("[data-enroll-file]").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) enroll(file, file.name);
    event.target.value = "";
  });
  box.querySelector("[data-camera-start]").addEventListener("click", async () => {
    try {
      await VisageCamera.start(video);
      preview.hidden = true;
      captureButton.hidden = false;
      Visage.say(outcome, _("Face the camera in good light, then take the photo."), "ok");
    } catch (error) {
      Visage.say(outcome, error.message, "error");
    }
  });
  captureButton.addEventListener("click", async () => {
    if (!VisageCamera.ready(video)) { Visage.say(outcome, _("The camera is still starting: try again in a moment."), "busy"); return; }
    const frame = await VisageCamera.capture(video, 0.92);
    // The answer belongs next to the picture that was taken, not the live preview.
    VisageCamera.stop(video);
    video.hidden = true;
    captureButton.hidden = true;
    enroll(frame, "webcam.jpg");
  });
  document.addEventListener("templates-changed", loadTemplates);
  Visage.onReady(loadTemplates);
})();
