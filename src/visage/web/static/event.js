// An event's page: settings, share link and QR code, photo uploads with per-file and overall
// progress, live indexing progress, the gallery with face boxes on hover or focus, and the
// people found in the photos (merge and split by the organizer).
"use strict";

(function () {
  const root = document.querySelector("[data-event]");
  if (!root) return;
  const eventId = root.dataset.event;
  const eventUrl = `/api/v1/events/${eventId}`;
  const PARALLEL_UPLOADS = 4;
  const GALLERY_PAGE_SIZE = 24;
  const POLL_BUSY_MS = 2000;
  const POLL_IDLE_MS = 10000;
  const IMAGE_NAME = /\.(jpe?g|png|webp|heic|heif)$/i;

  function authorized() {
    return { Authorization: `Bearer ${Visage.session.access}` };
  }

  async function blobUrl(path) {
    try {
      const response = await fetch(path, { headers: authorized() });
      return response.ok ? URL.createObjectURL(await response.blob()) : null;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- settings, link, QR

  async function loadEvent() {
    const result = await Visage.api(eventUrl);
    if (!result.ok) {
      Visage.say(document.querySelector("[data-index-text]"), Visage.describeError(result), "error");
      return;
    }
    const event = result.data;
    document.title = `${event.name} · Visage`;
    for (const slot of document.querySelectorAll("[data-event-field]")) slot.textContent = event[slot.dataset.eventField];
    const share = document.querySelector("[data-event-share]");
    share.href = event.share_url;
    share.textContent = event.share_url;
    const form = document.querySelector("[data-event-settings]");
    if (form) {
      form.elements.name.value = event.name;
      form.elements.event_date.value = event.event_date;
      form.elements.visibility.value = event.visibility;
      form.elements.language.value = event.language || "";
      form.elements.face_search_enabled.checked = event.face_search_enabled;
      form.querySelector("[data-settings-fields]").disabled = false;
    }
    const qr = await blobUrl(event.qr_code_url);
    if (qr) document.querySelector("[data-event-qr]").src = qr;
  }

  // ---------------------------------------------------------------- uploads

  const summary = document.querySelector("[data-upload-summary]");
  const fileList = document.querySelector("[data-upload-files]");
  const overall = document.querySelector("[data-upload-overall]");
  const countText = document.querySelector("[data-upload-count]");
  const percentText = document.querySelector("[data-upload-percent]");
  const uploadOutcome = document.querySelector("[data-upload-outcome]");
  let batch = null;

  function showOverall() {
    const sent = batch.items.reduce((sum, item) => sum + item.sent, 0);
    const percent = batch.bytes ? Math.floor((100 * sent) / batch.bytes) : 100;
    const done = batch.items.filter((item) => item.done).length;
    const shown = done === batch.items.length ? 100 : Math.min(percent, 99);
    overall.value = shown;
    countText.textContent = `${done} of ${batch.items.length}`;
    percentText.textContent = `${shown} %`;
  }

  function sendOne(item) {
    return new Promise((resolve) => {
      const form = new FormData();
      form.append("files", item.file, item.file.name);
      const request = new XMLHttpRequest();
      request.open("POST", `${eventUrl}/photos`);
      request.setRequestHeader("Authorization", `Bearer ${Visage.session.access}`);
      request.setRequestHeader("Accept", "application/json");
      request.upload.onprogress = (progress) => {
        if (!progress.lengthComputable) return;
        item.sent = (item.file.size * progress.loaded) / progress.total;
        item.bar.value = Math.floor((100 * progress.loaded) / progress.total);
        showOverall();
      };
      request.onload = () => {
        let data = null;
        try { data = JSON.parse(request.responseText); } catch { data = null; }
        resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, data });
      };
      request.onerror = () => resolve({ ok: false, status: 0, data: null });
      request.send(form);
    });
  }

  async function upload(item) {
    item.state.textContent = _("Uploading…");
    let result = await sendOne(item);
    if (result.status === 401 && (await Visage.api("/api/v1/auth/me")).ok) result = await sendOne(item);
    item.done = true;
    item.sent = item.file.size;
    item.bar.value = 100;
    if (!result.ok) {
      item.failed = true;
      item.state.textContent = _("Failed: {reason}", { reason: Visage.describeError(result) });
      item.row.dataset.kind = "error";
    } else {
      const file = result.data.files[0];
      const words = { accepted: _("Uploaded"), duplicate: _("Already in this event") };
      item.failed = file.status === "rejected";
      item.state.textContent = item.failed ? _("Rejected: {reason}", { reason: file.error.message }) : words[file.status];
      item.row.dataset.kind = item.failed ? "error" : "ok";
    }
    showOverall();
  }

  function row(file) {
    const item = { file, sent: 0, done: false, failed: false };
    item.row = document.createElement("li");
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.webkitRelativePath || file.name;
    item.bar = document.createElement("progress");
    item.bar.max = 100;
    item.bar.value = 0;
    item.bar.setAttribute("aria-label", _("Upload of {name}", { name: file.name }));
    item.state = document.createElement("span");
    item.state.className = "file-state";
    item.state.textContent = _("Waiting");
    item.row.append(name, item.bar, item.state);
    return item;
  }

  async function uploadAll(files) {
    const photos = files.filter((file) => IMAGE_NAME.test(file.name) || file.type.startsWith("image/"));
    if (!photos.length) { Visage.say(uploadOutcome, _("No photos found there (JPEG, PNG, WebP or HEIC)."), "error"); return; }
    if (batch && batch.running) { Visage.say(uploadOutcome, _("Wait for the current upload to finish."), "error"); return; }
    batch = { items: photos.map(row), bytes: photos.reduce((sum, file) => sum + file.size, 0), running: true };
    fileList.replaceChildren(...batch.items.map((item) => item.row));
    summary.hidden = false;
    Visage.say(uploadOutcome, ngettext("Uploading {n} photo…", "Uploading {n} photos…", photos.length), "busy");
    showOverall();
    const queue = [...batch.items];
    const lanes = Array.from({ length: Math.min(PARALLEL_UPLOADS, queue.length) }, async () => {
      while (queue.length) await upload(queue.shift());
    });
    await Promise.all(lanes);
    batch.running = false;
    const failed = batch.items.filter((item) => item.failed).length;
    Visage.say(
      uploadOutcome,
      failed ? _("Done: {uploaded} uploaded, {failed} could not be (see below).", { uploaded: photos.length - failed, failed }) : ngettext("Done: {n} photo uploaded.", "Done: all {n} photos uploaded.", photos.length),
      failed ? "error" : "ok",
    );
    pollProgress();
  }

  // A dropped folder arrives as directory entries: walk them for the files inside.
  async function entryFiles(entry) {
    if (entry.isFile) return new Promise((resolve) => entry.file((file) => resolve([file]), () => resolve([])));
    if (!entry.isDirectory) return [];
    const reader = entry.createReader();
    const files = [];
    for (;;) {
      const entries = await new Promise((resolve) => reader.readEntries(resolve, () => resolve([])));
      if (!entries.length) return files;
      for (const child of entries) files.push(...(await entryFiles(child)));
    }
  }

  const dropzone = document.querySelector("[data-dropzone]");
  if (dropzone) {
    dropzone.addEventListener("dragover", (event) => { event.preventDefault(); dropzone.dataset.over = "true"; });
    dropzone.addEventListener("dragleave", () => { delete dropzone.dataset.over; });
    dropzone.addEventListener("drop", async (event) => {
      event.preventDefault();
      delete dropzone.dataset.over;
      const entries = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
      const files = entries.length ? (await Promise.all(entries.map(entryFiles))).flat() : [...event.dataTransfer.files];
      uploadAll(files);
    });
    for (const input of document.querySelectorAll("[data-pick]")) {
      input.addEventListener("change", () => { uploadAll([...input.files]); input.value = ""; });
    }
  }

  // ---------------------------------------------------------------- indexing progress

  const indexBar = document.querySelector("[data-index-progress]");
  const indexText = document.querySelector("[data-index-text]");
  let pollTimer = null;
  let lastIndexed = -1;

  let pollRun = 0;
  async function pollProgress() {
    clearTimeout(pollTimer);
    const run = ++pollRun;
    const result = await Visage.api(`${eventUrl}/progress`);
    if (run !== pollRun) return; // a newer poll took over
    let busy = false;
    if (result.ok) {
      const p = result.data;
      busy = p.pending + p.indexing > 0;
      indexBar.value = p.total ? Math.floor(p.percent_done) : 0;
      const eta = busy && p.eta_seconds ? " · " + _("about {seconds} s left", { seconds: Math.ceil(p.eta_seconds) }) : "";
      const failed = p.failed ? " · " + ngettext("{n} could not be read", "{n} could not be read", p.failed) : "";
      indexText.textContent = p.total
        ? _("{indexed} of {total} photos searched for faces ({percent} %)", { indexed: p.indexed, total: p.total, percent: Math.floor(p.percent_done) })
          + " · " + ngettext("{n} face found", "{n} faces found", p.faces_found) + failed + eta
        : _("No photos yet.");
      if (p.indexed !== lastIndexed) { lastIndexed = p.indexed; loadGallery(1); loadPeople(1); }
    } else {
      indexText.textContent = Visage.describeError(result);
    }
    pollTimer = setTimeout(pollProgress, busy ? POLL_BUSY_MS : POLL_IDLE_MS);
  }

  // ---------------------------------------------------------------- gallery

  const gallery = document.querySelector("[data-gallery]");
  const moreButton = document.querySelector("[data-gallery-more]");
  let galleryPage = 1;
  const details = new Map();

  async function showFaces(figure, photo) {
    if (figure.dataset.faces) return;
    figure.dataset.faces = "loading";
    if (!details.has(photo.id)) details.set(photo.id, Visage.api(`/api/v1/photos/${photo.id}`));
    const result = await details.get(photo.id);
    if (!result.ok) return;
    for (const face of result.data.faces) {
      const box = document.createElement("span");
      box.className = "face-box";
      box.style.left = `${(100 * face.box.left) / photo.width}%`;
      box.style.top = `${(100 * face.box.top) / photo.height}%`;
      box.style.width = `${(100 * (face.box.right - face.box.left)) / photo.width}%`;
      box.style.height = `${(100 * (face.box.bottom - face.box.top)) / photo.height}%`;
      figure.querySelector(".frame").append(box);
    }
    figure.dataset.faces = String(result.data.faces.length);
  }

  // A gallery caption's words: the faces found, or how far the search is.
  function photoState(photo) {
    if (photo.status === "indexed") return ngettext("{n} face", "{n} faces", photo.face_count);
    const words = { pending: _("Waiting"), indexing: _("Finding faces"), failed: _("Could not be read") };
    return words[photo.status];
  }

  function tile(photo) {
    const item = document.createElement("li");
    const figure = document.createElement("figure");
    figure.tabIndex = 0;
    const frame = document.createElement("div");
    frame.className = "frame";
    const image = document.createElement("img");
    image.alt = photo.filename;
    image.loading = "lazy";
    blobUrl(photo.thumbnail_url).then((url) => { if (url) image.src = url; });
    frame.append(image);
    const caption = document.createElement("figcaption");
    caption.textContent = `${photo.filename} · ${photoState(photo)}`;
    figure.append(frame, caption);
    if (canDeletePhotos) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger small";
      remove.textContent = _("Delete");
      remove.setAttribute("aria-label", _("Delete {name}", { name: photo.filename }));
      remove.addEventListener("click", async () => {
        if (!window.confirm(_("Delete {name} and the faces found in it?", { name: photo.filename }))) return;
        const result = await Visage.api(`/api/v1/photos/${photo.id}`, { method: "DELETE" });
        if (result.ok) { item.remove(); pollProgress(); } else caption.textContent = Visage.describeError(result);
      });
      figure.append(remove);
    }
    const reveal = () => { if (photo.status === "indexed" && photo.face_count) showFaces(figure, photo); };
    figure.addEventListener("mouseenter", reveal);
    figure.addEventListener("focus", reveal);
    item.append(figure);
    return item;
  }

  let galleryRequest = 0;
  async function loadGallery(page) {
    const request = ++galleryRequest;
    const result = await Visage.api(`${eventUrl}/photos?page=${page}&page_size=${GALLERY_PAGE_SIZE}`);
    // A slower, older answer must not replace a newer one (statuses change while indexing).
    if (!result.ok || request !== galleryRequest) return;
    galleryPage = page;
    const tiles = result.data.items.map(tile);
    if (page === 1) gallery.replaceChildren(...tiles); else gallery.append(...tiles);
    moreButton.hidden = page * GALLERY_PAGE_SIZE >= result.data.total;
  }
  moreButton.addEventListener("click", () => loadGallery(galleryPage + 1));

  // ---------------------------------------------------------------- people

  const peopleList = document.querySelector("[data-people]");
  const peopleMore = document.querySelector("[data-people-more]");
  const peopleOutcome = document.querySelector("[data-people-outcome]");
  const mergeButton = document.querySelector("[data-people-merge]");
  const personPanel = document.querySelector("[data-person]");
  const personFaces = document.querySelector("[data-person-faces]");
  const splitButton = document.querySelector("[data-person-split]");
  const PEOPLE_PAGE_SIZE = 24;
  let peoplePage = 1;
  let openPerson = null;

  // The face cut out of the photo's thumbnail: the box is in original pixels.
  function faceCrop(face) {
    const crop = document.createElement("div");
    crop.className = "face-crop";
    crop.setAttribute("role", "img");
    crop.setAttribute("aria-label", _("Face"));
    const width = face.box.right - face.box.left;
    const height = face.box.bottom - face.box.top;
    const side = Math.max(width, height);
    crop.style.backgroundSize = `${(100 * face.photo_width) / side}% ${(100 * face.photo_height) / side}%`;
    const x = face.photo_width > side ? (100 * face.box.left) / (face.photo_width - side) : 0;
    const y = face.photo_height > side ? (100 * face.box.top) / (face.photo_height - side) : 0;
    crop.style.backgroundPosition = `${Math.min(100, x)}% ${Math.min(100, y)}%`;
    blobUrl(face.thumbnail_url).then((url) => { if (url) crop.style.backgroundImage = `url("${url}")`; });
    return crop;
  }

  function selected(list) {
    return [...list.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  }

  function choice(value, text, onChange) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = value;
    box.addEventListener("change", onChange);
    label.append(box, document.createTextNode(text));
    return label;
  }

  function personTile(person) {
    const item = document.createElement("li");
    item.dataset.personId = person.id;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "small";
    open.textContent = `${person.photo_count} photo${person.photo_count === 1 ? "" : "s"}`;
    open.setAttribute("aria-label", ngettext("Show the {n} face of this person", "Show the {n} faces of this person", person.face_count));
    open.addEventListener("click", () => showPerson(person));
    item.append(faceCrop(person.cover), open);
    if (mergeButton) item.append(choice(person.id, _("Select"), () => { mergeButton.disabled = selected(peopleList).length < 2; }));
    return item;
  }

  let peopleRequest = 0;
  async function loadPeople(page) {
    const request = ++peopleRequest;
    const result = await Visage.api(`${eventUrl}/people?page=${page}&page_size=${PEOPLE_PAGE_SIZE}`);
    if (request !== peopleRequest) return;
    if (!result.ok) { Visage.say(peopleOutcome, Visage.describeError(result), "error"); return; }
    peoplePage = page;
    const tiles = result.data.items.map(personTile);
    if (page === 1) peopleList.replaceChildren(...tiles); else peopleList.append(...tiles);
    peopleMore.hidden = page * PEOPLE_PAGE_SIZE >= result.data.total;
    if (mergeButton) mergeButton.disabled = true;
    if (page === 1 && !result.data.total) Visage.say(peopleOutcome, _("Nobody found yet."), "ok");
  }
  peopleMore.addEventListener("click", () => loadPeople(peoplePage + 1));

  async function showPerson(person) {
    openPerson = person;
    const result = await Visage.api(`${eventUrl}/people/${person.id}/faces`);
    if (!result.ok) { Visage.say(peopleOutcome, Visage.describeError(result), "error"); return; }
    personFaces.replaceChildren(...result.data.faces.map((face) => {
      const item = document.createElement("li");
      item.append(faceCrop(face));
      if (splitButton) item.append(choice(face.id, _("Someone else"), () => { splitButton.disabled = !selected(personFaces).length; }));
      return item;
    }));
    if (splitButton) splitButton.disabled = true;
    personPanel.hidden = false;
    document.querySelector("[data-person-title]").focus();
  }

  async function changePeople(path, body, done) {
    const result = await Visage.api(`${eventUrl}/people/${path}`, { method: "POST", json: body });
    if (!result.ok) { Visage.say(peopleOutcome, Visage.describeError(result), "error"); return; }
    Visage.say(peopleOutcome, done, "ok");
    personPanel.hidden = true;
    loadPeople(1);
  }
  if (mergeButton) {
    mergeButton.addEventListener("click", () => {
      const ids = selected(peopleList);
      changePeople("merge", { person_ids: ids }, _("Merged {count} people into one.", { count: ids.length }));
    });
  }
  if (splitButton) {
    splitButton.addEventListener("click", () => {
      const ids = selected(personFaces);
      changePeople(`${openPerson.id}/split`, { face_ids: ids }, ngettext("{n} face split off into a new person.", "{n} faces split off into a new person.", ids.length));
    });
  }

  let canDeletePhotos = false;
  Visage.onReady((me) => {
    canDeletePhotos = me.permissions.includes("photos:manage");
    loadEvent();
    pollProgress();
  });
})();
