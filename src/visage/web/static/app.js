// Visage web app: the signed-in session, calls to the JSON API, and the generic behaviour of
// forms and buttons marked with data-api. Page-specific scripts use window.Visage.
"use strict";

// Translations: the page's catalog is a JSON data block the server renders in the page's
// language (the same as /app/i18n/<locale>.json). Babel extracts _() and ngettext() calls.
//   _("Welcome, {name}!", { name })      ngettext("{n} photo", "{n} photos", count)
const VISAGE_MESSAGES = (() => {
  const block = document.getElementById("visage-messages");
  try { return block ? JSON.parse(block.textContent) : {}; } catch { return {}; }
})();
const VISAGE_LOCALE = document.documentElement.lang || "en";

function interpolate(text, values) {
  return values ? text.replace(/\{(\w+)\}/g, (whole, key) => (values[key] == null ? whole : String(values[key]))) : text;
}

function _(message, values) {
  const found = VISAGE_MESSAGES[message];
  return interpolate(typeof found === "string" ? found : message, values);
}

function ngettext(singular, plural, count, values) {
  const forms = VISAGE_MESSAGES[singular];
  // Two forms in English and French; CLDR's "one" is 0 and 1 in French, 1 in English.
  const index = new Intl.PluralRules(VISAGE_LOCALE).select(count) === "one" ? 0 : 1;
  const text = Array.isArray(forms) ? forms[index] : [singular, plural][index];
  return interpolate(text, { n: count, ...values });
}

(function () {
  const ACCESS = "visage.access_token";
  const REFRESH = "visage.refresh_token";
  const HOPPED = "visage.language_hop";
  const NETWORK_ERROR = _("Cannot reach Visage — check the connection and try again.");

  // The access token lives in sessionStorage: gone when the tab closes, never sent
  // automatically (so no CSRF), and the pages' CSP allows no script but ours.
  const session = {
    get access() { return sessionStorage.getItem(ACCESS); },
    save(tokens) {
      sessionStorage.setItem(ACCESS, tokens.access_token);
      if (tokens.refresh_token) sessionStorage.setItem(REFRESH, tokens.refresh_token);
    },
    clear() { sessionStorage.removeItem(ACCESS); sessionStorage.removeItem(REFRESH); },
  };

  function labelFor(form, field) {
    const input = form && form.querySelector(`[name="${CSS.escape(field)}"]`);
    const label = input && input.id && form.querySelector(`label[for="${CSS.escape(input.id)}"]`);
    return label ? label.textContent.trim() : field.replaceAll("_", " ");
  }

  // The API's error body in words: its message, then what is wrong with each field.
  function describeError(result, form) {
    if (!result.status) return NETWORK_ERROR;
    const error = result.data && result.data.error;
    if (!error) return _("Something went wrong (HTTP {status}). Please try again.", { status: result.status });
    const fields = Array.isArray(error.details) ? error.details.filter((d) => d && d.field) : [];
    const parts = fields.map((d) => {
      const field = String(d.field).replace(/^(body|query|path)\.?/, "") || "request";
      return `${labelFor(form, field)}: ${d.message}`;
    });
    return [error.message, ...parts].join(" ");
  }

  let refreshing = null;
  async function refreshTokens() {
    const refreshToken = sessionStorage.getItem(REFRESH);
    if (!refreshToken) return false;
    refreshing = refreshing || fetch("/api/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    }).then(async (response) => {
      if (!response.ok) return false;
      session.save(await response.json());
      return true;
    }).catch(() => false).finally(() => { refreshing = null; });
    return refreshing;
  }

  function toLogin() {
    session.clear();
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign(`/app/login?next=${next}`);
  }

  // One call to the JSON API. Resolves to {ok, status, data}; status 0 means no connection.
  async function api(path, options = {}) {
    const { method = "GET", json, form, token, headers = {}, retry = true } = options;
    // The page's language: API messages (errors, kiosk answers) come back in it.
    const request = { method, headers: { Accept: "application/json", "Accept-Language": VISAGE_LOCALE, ...headers } };
    const bearer = token === undefined ? session.access : token;
    if (bearer) request.headers.Authorization = `Bearer ${bearer}`;
    if (json !== undefined) {
      request.headers["Content-Type"] = "application/json";
      request.body = JSON.stringify(json);
    } else if (form) {
      request.body = form;
    }
    let response;
    try {
      response = await fetch(path, request);
    } catch {
      return { ok: false, status: 0, data: null };
    }
    if (response.status === 401 && token === undefined && retry && session.access) {
      if (await refreshTokens()) return api(path, { ...options, retry: false });
      toLogin();
    }
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json().catch(() => null) : null;
    return { ok: response.ok, status: response.status, data, response };
  }

  // The nearest status line around `element`, not one belonging to another form.
  function outcomeOf(element) {
    for (let node = element; node; node = node.parentElement) {
      for (const line of node.querySelectorAll("[data-outcome]")) {
        const form = line.closest("form");
        if (!form || form.contains(element)) return line;
      }
    }
    return null;
  }

  function say(target, text, kind) {
    if (!target) return;
    target.textContent = text;
    target.dataset.kind = kind;
  }

  function fill(template, data) {
    return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(data && data[key] != null ? data[key] : ""));
  }

  function formBody(form) {
    const body = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled || element.hasAttribute("data-skip")) continue;
      const type = element.dataset.type;
      if (element.type === "checkbox") {
        if (type === "bool") body[element.name] = element.checked;
        continue;
      }
      const value = element.value.trim();
      if (value === "") {
        // A choice such as "the organization's default": empty clears the saved value.
        if (element.hasAttribute("data-empty-is-null")) body[element.name] = null;
        continue;
      }
      if (type === "int") body[element.name] = Number.parseInt(value, 10);
      else if (type === "float") body[element.name] = Number.parseFloat(value);
      else if (type === "bool") body[element.name] = value === "true";
      else body[element.name] = value;
    }
    return body;
  }

  function checkForm(form) {
    for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
    for (const element of form.elements) {
      if (element.willValidate && !element.checkValidity()) {
        element.setAttribute("aria-invalid", "true");
        element.focus();
        return `${labelFor(form, element.name)}: ${element.validationMessage}`;
      }
      const same = element.dataset.sameAs;
      if (same && element.value !== form.elements[same].value) {
        element.setAttribute("aria-invalid", "true");
        element.focus();
        return _("The two passwords are not the same.");
      }
    }
    return null;
  }

  function markInvalidFields(form, result) {
    const details = result.data && result.data.error && result.data.error.details;
    if (!form || !Array.isArray(details)) return;
    for (const detail of details) {
      const name = String(detail.field || "").replace(/^(body|query|path)\.?/, "");
      const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }

  // What a successful data-api call does next: messages, refreshed fragments, redirects.
  function afterSuccess(element, result, outcome) {
    const data = result.data;
    if (element.dataset.successMessage) say(outcome, element.dataset.successMessage, "ok");
    if (element.hasAttribute("data-result-message") && data) {
      say(outcome, data.message || _("Done."), data.allowed === false ? "error" : "ok");
    }
    if (element.dataset.fill) {
      const box = document.querySelector(element.dataset.fill);
      for (const slot of box.querySelectorAll("[data-field]")) slot.textContent = data[slot.dataset.field];
      box.hidden = false;
      box.focus && box.focus();
    }
    if (element.dataset.refresh) {
      for (const target of document.querySelectorAll(element.dataset.refresh)) htmx.trigger(target, "refresh");
    }
    if (element.tagName === "FORM" && element.hasAttribute("data-reset")) element.reset();
    const then = element.dataset.then || "";
    if (then.startsWith("redirect:")) location.assign(fill(then.slice(9), data));
    if (then.startsWith("event:")) document.dispatchEvent(new CustomEvent(then.slice(6)));
  }

  async function submitForm(form) {
    const outcome = outcomeOf(form);
    const problem = checkForm(form);
    if (problem) { say(outcome, problem, "error"); return; }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    say(outcome, _("Working…"), "busy");
    try {
      const result = await api(form.dataset.api, { method: form.dataset.method || "POST", json: formBody(form) });
      if (!result.ok) {
        markInvalidFields(form, result);
        say(outcome, describeError(result, form), "error");
        return;
      }
      say(outcome, "", "ok");
      afterSuccess(form, result, outcome);
    } finally {
      if (button) button.disabled = false;
    }
  }

  async function pressButton(button, json) {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const outcome = outcomeOf(button);
    button.disabled = true;
    try {
      const result = await api(button.dataset.api, { method: button.dataset.method || "POST", json });
      if (!result.ok) { say(outcome, describeError(result), "error"); return; }
      say(outcome, "", "ok");
      afterSuccess(button, result, outcome);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form[data-api]")) { event.preventDefault(); submitForm(form); }
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-api]");
    if (!button) return;
    event.preventDefault();
    pressButton(button, button.dataset.body ? JSON.parse(button.dataset.body) : undefined);
  });
  // Files behind the bearer token (CSV exports): fetched, then saved from a blob: URL.
  async function download(button) {
    const filters = document.querySelector(button.dataset.downloadFilters);
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(filters)) if (value) query.append(name, value);
    const outcome = outcomeOf(button);
    let response;
    try {
      response = await fetch(`${button.dataset.download}?${query}`, {
        headers: { Authorization: `Bearer ${session.access}` },
      });
    } catch {
      say(outcome, NETWORK_ERROR, "error");
      return;
    }
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      say(outcome, describeError({ status: response.status, data }), "error");
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = button.dataset.filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-download]");
    if (button) download(button);
  });
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select.matches("select[data-api]")) pressButton(select, { [select.dataset.fieldName]: select.value });
  });

  // htmx fragments carry the bearer token; a failed one says why in words.
  document.addEventListener("htmx:configRequest", (event) => {
    if (session.access) event.detail.headers.Authorization = `Bearer ${session.access}`;
    event.detail.headers["Accept-Language"] = VISAGE_LOCALE;  // fragments in the page's language
  });
  document.addEventListener("htmx:responseError", async (event) => {
    const xhr = event.detail.xhr;
    const target = event.detail.target;
    if (xhr.status === 401) {
      if (await refreshTokens()) htmx.trigger(event.detail.elt, "refresh");
      else toLogin();
      return;
    }
    let data = null;
    try { data = JSON.parse(xhr.responseText); } catch { data = null; }
    const message = describeError({ status: xhr.status, data });
    const line = document.createElement("p");
    line.className = "outcome";
    line.dataset.kind = "error";
    line.setAttribute("role", "alert");
    line.textContent = _("Could not load this part: {message}", { message });
    target.replaceChildren(line);
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    event.detail.target.removeAttribute("aria-busy");
  });
  document.addEventListener("htmx:sendError", (event) => {
    const line = document.createElement("p");
    line.className = "outcome";
    line.dataset.kind = "error";
    line.textContent = NETWORK_ERROR;
    event.detail.target.replaceChildren(line);
  });

  const ROLE_NAMES = {
    super_admin: _("Super admin"),
    tenant_owner: _("Tenant owner"),
    staff: _("Staff"),
    photographer: _("Photographer"),
    member: _("Member"),
  };

  let me = null;
  const readyCallbacks = [];
  function onReady(callback) { if (me) callback(me); else readyCallbacks.push(callback); }

  function showUser(user) {
    const values = {
      display_name: user.full_name || user.username,
      tenant_name: user.tenant ? user.tenant.name : _("Platform administration"),
      username: user.username,
      email: user.email,
      role: ROLE_NAMES[user.role] || user.role,
      email_state: user.email_verified ? "confirmed" : _("not confirmed yet"),
    };
    for (const element of document.querySelectorAll("[data-api*='{me}']")) {
      element.dataset.api = element.dataset.api.replace("{me}", user.id);
    }
    for (const slot of document.querySelectorAll("[data-me]")) slot.textContent = values[slot.dataset.me] || "";
    const permissions = new Set(user.permissions);
    for (const element of document.querySelectorAll("[data-permission]")) {
      if (!permissions.has(element.dataset.permission)) element.remove();
    }
    // A platform administrator belongs to no tenant: tenant pages have nothing to show them.
    if (!user.tenant) for (const element of document.querySelectorAll("[data-tenant-only]")) element.remove();
  }

  async function startSignedIn() {
    if (!session.access) { toLogin(); return; }
    const result = await api("/api/v1/auth/me");
    if (!result.ok) {
      if (result.status !== 401) {
        const main = document.getElementById("main");
        const line = document.createElement("p");
        line.className = "outcome";
        line.dataset.kind = "error";
        line.setAttribute("role", "alert");
        line.textContent = describeError(result);
        main.prepend(line);
      }
      return;
    }
    // The account's language (its saved choice, else the tenant's default) wins over the
    // browser's. Signing in put it in the language cookie, so the page already speaks it;
    // when it changed since (on another device), the API says which one it used and the
    // switch link remembers it in the cookie.
    const spoken = result.response.headers.get("content-language");
    if (spoken && spoken !== VISAGE_LOCALE && sessionStorage.getItem(HOPPED) !== spoken) {
      sessionStorage.setItem(HOPPED, spoken);
      location.replace(languageHref(spoken));
      return;
    }
    sessionStorage.removeItem(HOPPED);
    me = result.data;
    showUser(me);
    document.body.dispatchEvent(new CustomEvent("visage:ready"));
    for (const callback of readyCallbacks.splice(0)) callback(me);
    document.body.dataset.ready = "";  // the page's handlers are in place (browser tests wait for it)
  }

  // ------------------------------------------------------------------ language and dates

  function languageHref(code) {
    return `/app/language/${code}?next=${encodeURIComponent(location.pathname + location.search)}`;
  }

  // The switch: a signed-in user's choice is saved on the account too (it follows them to
  // other browsers and outlives signing out); the link itself sets the cookie.
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-language]");
    if (!link || !session.access) return;
    event.preventDefault();
    await api("/api/v1/auth/me/locale", { method: "PUT", json: { locale: link.dataset.language } });
    location.assign(link.href);
  });

  function asDate(value) {
    // A plain day ("2026-12-01") is that day wherever the browser is.
    return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
  }

  function formatDate(value) {
    return value ? new Intl.DateTimeFormat(VISAGE_LOCALE, { dateStyle: "long" }).format(asDate(value)) : "—";
  }

  function formatDateTime(value) {
    return value ? new Intl.DateTimeFormat(VISAGE_LOCALE, { dateStyle: "long", timeStyle: "short" }).format(asDate(value)) : "—";
  }

  // ------------------------------------------------------------------ sign-in pages

  function safeNext() {
    const next = new URLSearchParams(location.search).get("next") || "/app/";
    return next.startsWith("/") && !next.startsWith("//") ? next : "/app/";
  }

  const FLASHES = {
    "password-changed": _("Your password is changed. Sign in with the new one."),
    "signed-out": _("You are signed out."),
  };

  function startLogin(form) {
    const flash = FLASHES[new URLSearchParams(location.search).get("flash")];
    const flashLine = document.querySelector("[data-flash]");
    if (flash && flashLine) { flashLine.textContent = flash; flashLine.hidden = false; }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const outcome = outcomeOf(form);
      const problem = checkForm(form);
      if (problem) { say(outcome, problem, "error"); return; }
      const login = form.elements.login.value.trim();
      const body = { password: form.elements.password.value };
      body[/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(login) ? "email" : "username"] = login;
      const tenant = form.elements.tenant.value.trim();
      if (tenant) body.tenant = tenant;
      say(outcome, _("Signing in…"), "busy");
      const result = await api("/api/v1/auth/login", { method: "POST", json: body, token: null });
      if (!result.ok) { say(outcome, describeError(result, form), "error"); return; }
      session.save(result.data);
      location.assign(safeNext());
    });
  }

  async function startLogout(line) {
    if (session.access) await api("/api/v1/auth/logout", { method: "POST", retry: false });
    session.clear();
    location.replace("/app/login?flash=signed-out");
    line.textContent = _("You are signed out.");
  }

  async function startVerifyEmail(line) {
    const token = new URLSearchParams(location.search).get("token");
    if (!token) { say(line, _("This page needs the link from the email. Ask for a new link below."), "error"); return; }
    const result = await api("/api/v1/auth/verify-email", { method: "POST", json: { token }, token: null });
    if (result.ok) say(line, _("Thank you — your email address is confirmed. You can sign in."), "ok");
    else say(line, describeError(result), "error");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tokenForm = document.querySelector("[data-token-from-url]");
    if (tokenForm) tokenForm.elements.token.value = new URLSearchParams(location.search).get("token") || "";
    const loginForm = document.querySelector("form[data-login]");
    if (loginForm) startLogin(loginForm);
    const logoutLine = document.querySelector("[data-logout]");
    if (logoutLine) startLogout(logoutLine);
    const verifyLine = document.querySelector("[data-verify-email]");
    if (verifyLine) startVerifyEmail(verifyLine);
    for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => window.print());
    if (document.body.hasAttribute("data-requires-session")) startSignedIn();
  });

  window.Visage = { api, session, describeError, say, onReady, formatDate, formatDateTime, NETWORK_ERROR };
})();
