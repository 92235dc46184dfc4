// Social publishing pages: connected accounts, the queue and posts list, and the composer
// (gallery selection, per-platform previews with the counted length and blurred faces, AI
// captions with the credits left, publish now or at a time in the author's zone).
"use strict";

(function () {
  const PLATFORM_NAMES = { x: "X", facebook: "Facebook", instagram: "Instagram", linkedin: "LinkedIn", mastodon: "Mastodon", bluesky: "Bluesky" };

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.append(td);
    return td;
  }

  function when(value) {
    return Visage.formatDateTime(value);
  }

  async function blobUrl(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${Visage.session.access}` } });
    return response.ok ? { url: URL.createObjectURL(await response.blob()), response } : null;
  }

  async function connect(platform, outcome) {
    Visage.say(outcome, _("Opening {platform}…", { platform: PLATFORM_NAMES[platform] }), "busy");
    const result = await Visage.api(`/api/v1/social/accounts/${platform}/connect`, { method: "POST" });
    if (!result.ok) { Visage.say(outcome, Visage.describeError(result), "error"); return; }
    location.assign(result.data.authorize_url);
  }

  async function loadAccounts(body, outcome) {
    const result = await Visage.api("/api/v1/social/accounts");
    body.replaceChildren();
    if (!result.ok) { Visage.say(outcome, Visage.describeError(result), "error"); return []; }
    if (!result.data.length) {
      const row = body.insertRow();
      const empty = cell(row, _("No account connected yet."));
      empty.colSpan = 5;
    }
    for (const account of result.data) {
      const row = body.insertRow();
      row.dataset.account = account.platform;
      cell(row, PLATFORM_NAMES[account.platform]);
      cell(row, account.username);
      cell(row, account.status === "EXPIRED" ? _("EXPIRED — reconnect ({reason})", { reason: account.last_error || "" }) : account.status);
      cell(row, account.token_expires_at ? when(account.token_expires_at) : _("does not expire"));
      const actions = cell(row, "");
      const refresh = document.createElement("button");
      refresh.type = "button";
      refresh.textContent = _("Refresh");
      refresh.addEventListener("click", async () => {
        const answer = await Visage.api(`/api/v1/social/accounts/${account.id}/refresh`, { method: "PUT" });
        Visage.say(outcome, answer.ok ? `${account.username}: ${answer.data.status}` : Visage.describeError(answer), answer.ok ? "ok" : "error");
        loadAccounts(body, outcome);
      });
      const reconnect = document.createElement("button");
      reconnect.type = "button";
      reconnect.textContent = _("Reconnect");
      reconnect.addEventListener("click", () => connect(account.platform, outcome));
      actions.append(refresh, " ", reconnect);
    }
    return result.data;
  }

  // A post's or a delivery's status in words; the raw value stays in data-post-status.
  const STATUS_WORDS = {
    draft: _("draft"), scheduled: _("scheduled"), pending: _("pending"), publishing: _("publishing"),
    published: _("published"), failed: _("failed"), unknown: _("unknown"),
  };

  async function loadPosts(body) {
    const result = await Visage.api("/api/v1/posts?page_size=50");
    body.replaceChildren();
    if (!result.ok) return;
    if (!result.data.items.length) cell(body.insertRow(), _("No posts yet.")).colSpan = 4;
    for (const post of result.data.items) {
      const row = body.insertRow();
      row.dataset.post = post.id;
      cell(row, post.scheduled_local ? `${Visage.formatDateTime(post.scheduled_for)} (${post.timezone})` : _("draft"));
      cell(row, post.text);
      cell(row, STATUS_WORDS[post.status]).dataset.postStatus = post.status;
      const where = cell(row, "");
      for (const delivery of post.deliveries) {
        const line = document.createElement("div");
        if (delivery.platform_url) {
          const link = document.createElement("a");
          link.href = delivery.platform_url;
          link.textContent = `${PLATFORM_NAMES[delivery.platform]}: ${STATUS_WORDS[delivery.status]}`;
          line.append(link);
        } else {
          line.textContent = `${PLATFORM_NAMES[delivery.platform]}: ${STATUS_WORDS[delivery.status]}${delivery.last_error ? ` — ${delivery.last_error}` : ""}`;
        }
        where.append(line);
      }
    }
  }

  async function loadQueue(target) {
    const result = await Visage.api("/api/v1/posts/queue/status");
    if (!result.ok) { target.textContent = Visage.describeError(result); return; }
    const q = result.data;
    target.textContent = _("Due: {due} · scheduled: {scheduled} · publishing: {publishing} · waiting for a rate limit: {rate_limited} · unknown (being checked): {unknown} · failed: {failed} · published: {published}", q);
  }

  function accountsPage(root) {
    const outcome = root.querySelector("[data-accounts-outcome]");
    const connected = new URLSearchParams(location.search).get("connected");
    if (connected) Visage.say(root.querySelector("[data-connected-outcome]"), _("{platform} connected.", { platform: PLATFORM_NAMES[connected] || connected }), "ok");
    for (const button of root.querySelectorAll("[data-connect]")) {
      button.addEventListener("click", () => connect(button.dataset.connect, outcome));
    }
    const refreshAll = () => {
      loadAccounts(root.querySelector("[data-accounts]"), outcome);
      loadPosts(root.querySelector("[data-posts]"));
      loadQueue(root.querySelector("[data-queue]"));
    };
    refreshAll();
    setInterval(() => { loadPosts(root.querySelector("[data-posts]")); loadQueue(root.querySelector("[data-queue]")); }, 3000);
  }

  function composer(form) {
    const eventId = form.dataset.event;
    const text = form.querySelector("[data-compose-text]");
    const previews = form.querySelector("[data-previews]");
    const outcome = form.querySelector("[data-compose-outcome]");
    const aiOutcome = form.querySelector("[data-ai-outcome]");
    const zone = form.querySelector("[data-compose-zone]");
    zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    let accounts = [];
    const imageCache = new Map();

    const chosenPhotos = () => [...form.querySelectorAll("[data-photo-choice]:checked")].map((box) => box.value);
    const chosenAccounts = () => accounts.filter((a) => form.querySelector(`[data-account-choice="${a.id}"]`).checked);

    async function creditsLine() {
      const result = await Visage.api("/api/v1/ai/credits");
      if (result.ok) form.querySelector("[data-ai-credits]").textContent = _("{remaining} of {limit} AI credits left this month", result.data);
    }

    let previewTimer = null;
    function schedulePreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(renderPreviews, 300);
    }

    async function renderPreviews() {
      const targets = chosenAccounts();
      const photos = chosenPhotos();
      previews.replaceChildren();
      for (const account of targets) {
        const card = document.createElement("article");
        card.className = "card";
        card.dataset.preview = account.platform;
        const heading = document.createElement("h3");
        heading.textContent = `${PLATFORM_NAMES[account.platform]} · ${account.username}`;
        const body = document.createElement("p");
        body.textContent = text.value;
        const count = document.createElement("p");
        count.dataset.countedLength = account.platform;
        card.append(heading, body, count);
        previews.append(card);
        const analysis = await Visage.api("/api/v1/ai/analyze-content", {
          method: "POST", json: { content: text.value, platform: account.platform, image_count: photos.length },
        });
        if (analysis.ok) {
          const a = analysis.data;
          count.textContent = `${a.counted_length} / ${a.limit} characters` + (a.ok ? "" : ` — ${a.issues.map((i) => i.message).join(" ")}`);
          count.dataset.kind = a.ok ? "ok" : "error";
        }
        for (const photoId of photos) {
          const key = `${photoId}:${account.platform}`;
          if (!imageCache.has(key)) imageCache.set(key, blobUrl(`/api/v1/social/preview/${photoId}?platform=${account.platform}`));
          const image = document.createElement("img");
          image.alt = _("What will be published, faces of people who did not agree blurred");
          image.width = 320;
          image.dataset.previewImage = "";
          card.append(image);
          imageCache.get(key).then((loaded) => {
            if (!loaded) return;
            image.src = loaded.url;
            image.dataset.facesBlurred = loaded.response.headers.get("x-faces-blurred");
          });
        }
      }
    }

    async function loadGallery() {
      const gallery = form.querySelector("[data-compose-gallery]");
      const result = await Visage.api(`/api/v1/events/${eventId}/photos?page=1&page_size=100`);
      gallery.replaceChildren();
      if (!result.ok) { gallery.textContent = Visage.describeError(result); return; }
      for (const photo of result.data.items) {
        const item = document.createElement("li");
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = photo.id;
        box.dataset.photoChoice = "";
        box.addEventListener("change", schedulePreview);
        const image = document.createElement("img");
        image.alt = photo.filename;
        image.width = 160;
        blobUrl(photo.thumbnail_url).then((loaded) => { if (loaded) image.src = loaded.url; });
        label.append(box, image, document.createTextNode(photo.filename));
        item.append(label);
        gallery.append(item);
      }
    }

    async function loadTargets() {
      const holder = form.querySelector("[data-compose-accounts]");
      const result = await Visage.api("/api/v1/social/accounts");
      holder.replaceChildren();
      if (!result.ok) { holder.textContent = Visage.describeError(result); return; }
      accounts = result.data.filter((a) => a.status === "ACTIVE");
      if (!accounts.length) {
        const link = document.createElement("a");
        link.href = "/app/publishing";
        link.textContent = _("Connect an account first.");
        holder.append(link);
      }
      for (const account of accounts) {
        const line = document.createElement("div");
        line.className = "check";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.id = `acc-${account.id}`;
        box.dataset.accountChoice = account.id;
        box.addEventListener("change", schedulePreview);
        const label = document.createElement("label");
        label.htmlFor = box.id;
        label.textContent = `${PLATFORM_NAMES[account.platform]} · ${account.username}`;
        line.append(box, label);
        holder.append(line);
      }
    }

    text.addEventListener("input", schedulePreview);

    form.querySelector("[data-ai-caption]").addEventListener("click", async () => {
      const target = chosenAccounts()[0];
      Visage.say(aiOutcome, _("Writing…"), "busy");
      const result = await Visage.api("/api/v1/ai/captions", {
        method: "POST",
        json: { event_id: eventId, photo_ids: chosenPhotos(), platform: target ? target.platform : "x" },
      });
      if (!result.ok) { Visage.say(aiOutcome, Visage.describeError(result), "error"); return; }
      text.value = result.data.captions[0] || "";
      const by = result.data.provider === "template" ? _("a template (no AI provider is configured)") : result.data.provider;
      Visage.say(aiOutcome, _("Suggested by {by}.", { by }), "ok");
      creditsLine();
      schedulePreview();
    });

    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const targets = chosenAccounts();
      if (!targets.length) { Visage.say(outcome, _("Choose at least one account."), "error"); return; }
      const whenValue = form.querySelector("[data-compose-when]").value;
      const body = { account_ids: targets.map((a) => a.id), text: text.value, photo_ids: chosenPhotos(), timezone: zone.value.trim() || "UTC" };
      if (whenValue) body.scheduled_for = whenValue;
      Visage.say(outcome, _("Saving…"), "busy");
      const created = await Visage.api("/api/v1/posts", { method: "POST", json: body });
      if (!created.ok) { Visage.say(outcome, Visage.describeError(created), "error"); return; }
      if (!whenValue) {
        const sent = await Visage.api(`/api/v1/posts/${created.data.id}/publish-now`, { method: "POST" });
        if (!sent.ok) { Visage.say(outcome, Visage.describeError(sent), "error"); return; }
      }
      location.assign("/app/publishing");
    });

    loadGallery();
    loadTargets();
    creditsLine();
  }

  Visage.onReady(() => {
    const page = document.querySelector("[data-publishing]");
    if (page) accountsPage(page);
    const form = document.querySelector("[data-composer]");
    if (form) composer(form);
  });
})();
