// The WhatsApp page: connect (the QR stays live until WORKING), send to a member, a segment or an
// event's attendees
// with a preview of who is skipped, a member's conversation with delivery ticks, templates.
(() => {
  "use strict";
  const { api, describeError, say, onReady } = window.Visage;
  const $ = (id) => document.getElementById(id);
  const TICKS = { queued: "🕓", sending: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓ read", played: "✓✓ played", failed: "✗ failed", unknown: "? unknown" };
  const POLL_MS = 2000;
  let qrUrls = {};

  function element(tag, text, attrs = {}) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  async function showQr(session, box) {
    const result = await api(`/api/v1/messaging/sessions/${session.id}/qr`, { headers: { Accept: "image/png" } });
    if (!result.ok || !result.response) return;
    const blob = await result.response.blob();
    if (qrUrls[session.id]) URL.revokeObjectURL(qrUrls[session.id]);
    qrUrls[session.id] = URL.createObjectURL(blob);
    box.append(element("img", undefined, { src: qrUrls[session.id], alt: _("QR code to scan with WhatsApp"), width: "264", height: "264", "data-qr": session.id }));
  }

  async function refreshSessions() {
    const box = $("wa-sessions");
    const result = await api("/api/v1/messaging/sessions");
    if (!result.ok) { say($("wa-connect-outcome"), describeError(result), "error"); return; }
    box.replaceChildren();
    const missing = result.data.missing;
    $("wa-connect").disabled = missing.length > 0;
    if (missing.length) box.append(element("p", _("WhatsApp is not configured yet: set {variables} in the server's environment (or .env) and restart Visage.", { variables: missing.join(", ") }), { class: "warning", "data-not-configured": "" }));
    else if (!result.data.live) box.append(element("p", _("WAHA cannot be reached: the statuses below are the last known."), { class: "warning" }));
    if (!result.data.items.length) box.append(element("p", _("Not connected yet."), { class: "muted" }));
    for (const session of result.data.items) {
      const line = element("div", undefined, { class: "wa-session", "data-session": session.name });
      line.append(element("strong", session.label), " ", element("span", session.status, { "data-status": "" }));
      if (session.me) line.append(" ", element("span", `(${session.me.replace("@c.us", "")})`));
      box.append(line);
      if (session.status === "SCAN_QR_CODE") await showQr(session, line);
    }
  }

  async function connect() {
    const result = await api("/api/v1/messaging/sessions", { method: "POST", json: { label: "WhatsApp" } });
    say($("wa-connect-outcome"), result.ok ? _("Session started: scan the code below.") : describeError(result), result.ok ? "ok" : "error");
    await refreshSessions();
  }

  function variables() {
    const values = {};
    for (const pair of $("wa-vars").value.split(";")) {
      const [name, ...rest] = pair.split("=");
      if (name && name.trim() && rest.length) values[name.trim()] = rest.join("=").trim();
    }
    return values;
  }

  function sendBody() {
    const template = $("wa-template").value;
    const body = { segment: $("wa-segment").value, variables: variables() };
    if ($("wa-segment").value === "members") body.member_ids = [$("wa-member").value];
    if ($("wa-segment").value === "event_attendees") body.event_id = $("wa-event").value;
    if (template) body.template_id = template; else body.text = $("wa-text").value;
    return body;
  }

  async function preview() {
    const result = await api("/api/v1/messages/bulk/preview", { method: "POST", json: sendBody() });
    if (!result.ok) { say($("wa-send-outcome"), describeError(result, $("wa-send")), "error"); return; }
    say($("wa-send-outcome"), _("{recipients} get it, {skipped} skipped.", { recipients: result.data.recipients.length, skipped: result.data.skipped.length }), "ok");
    $("wa-recipients").replaceChildren(...result.data.recipients.map((r) => element("li", `${r.full_name}: “${r.text}”`)));
    $("wa-skipped").replaceChildren(...result.data.skipped.map((r) => element("li", `${r.full_name} — ${r.reason}`)));
    $("wa-preview-result").hidden = false;
  }

  async function send(event) {
    event.preventDefault();
    const result = await api("/api/v1/messages/bulk", { method: "POST", json: sendBody() });
    if (!result.ok) { say($("wa-send-outcome"), describeError(result, $("wa-send")), "error"); return; }
    say($("wa-send-outcome"), _("Queued {queued}, skipped {skipped}.", { queued: result.data.queued.length, skipped: result.data.skipped.length }), "ok");
    await refreshConversation();
  }

  async function refreshConversation() {
    const member = $("wa-conversation-member").value;
    if (!member) return;
    const result = await api(`/api/v1/messages?member_id=${member}&page_size=50`);
    if (!result.ok) return;
    const items = result.data.items.slice().reverse();
    $("wa-conversation").replaceChildren(...items.map((m) => {
      const line = element("li", undefined, { class: `bubble ${m.direction}`, "data-message": m.id });
      line.append(element("span", m.text));
      if (m.direction === "outbound") line.append(" ", element("span", TICKS[m.status] || m.status, { class: "ticks", "data-ticks": m.status, title: m.status }));
      return line;
    }));
  }

  async function loadMembers() {
    const result = await api("/api/v1/members?page_size=100&active=true");
    if (!result.ok) return;
    for (const id of ["wa-member", "wa-conversation-member"]) {
      $(id).replaceChildren(...result.data.items.map((m) => element("option", m.full_name, { value: m.id })));
    }
  }

  async function loadEvents() {
    const result = await api("/api/v1/events?page_size=100");
    if (!result.ok) return;
    $("wa-event").replaceChildren(...result.data.items.map((e) => element("option", `${e.name} (${e.event_date})`, { value: e.id })));
  }

  async function loadTemplates() {
    const result = await api("/api/v1/messaging/templates");
    if (!result.ok) return;
    $("wa-template").replaceChildren(element("option", _("(no template: write the text)"), { value: "" }),
      ...result.data.map((t) => element("option", t.name, { value: t.id })));
    $("wa-templates").replaceChildren(...result.data.map((t) => element("li", `${t.name}: ${t.body}`)));
  }

  async function saveTemplate(event) {
    event.preventDefault();
    const json = { name: $("wa-template-name").value, body: $("wa-template-body").value };
    const result = await api("/api/v1/messaging/templates", { method: "POST", json });
    say($("wa-template-outcome"), result.ok ? _("Template saved.") : describeError(result, event.target), result.ok ? "ok" : "error");
    if (result.ok) { event.target.reset(); await loadTemplates(); }
  }

  function toggleFields() {
    $("wa-member-field").hidden = $("wa-segment").value !== "members";
    $("wa-event-field").hidden = $("wa-segment").value !== "event_attendees";
    $("wa-text-field").hidden = Boolean($("wa-template").value);
  }

  onReady(async (me) => {
    $("wa-connect").addEventListener("click", connect);
    $("wa-preview").addEventListener("click", preview);
    $("wa-send").addEventListener("submit", send);
    $("wa-template-form").addEventListener("submit", saveTemplate);
    $("wa-segment").addEventListener("change", toggleFields);
    $("wa-template").addEventListener("change", toggleFields);
    $("wa-conversation-member").addEventListener("change", refreshConversation);
    await Promise.all([loadMembers(), loadTemplates(), loadEvents()]);
    toggleFields();
    const admin = me.permissions && me.permissions.includes("tenant:update");
    const tick = async () => {
      if (admin) await refreshSessions();
      await refreshConversation();
      setTimeout(tick, POLL_MS);
    };
    tick();
  });
})();
