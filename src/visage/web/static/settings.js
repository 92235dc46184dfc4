// The owner's settings: forms filled from the API; opening hours as one interval per weekday.
"use strict";

(function () {
  const hoursForm = document.querySelector("[data-opening-hours]");
  const hoursState = document.querySelector("[data-hours-state]");
  const hoursOutcome = hoursForm.querySelector("[data-outcome]");
  let loadedWeekly = {};

  function fill(form, values) {
    for (const [name, value] of Object.entries(values)) {
      const input = form.elements[name];
      if (input) input.value = value == null ? "" : value;
    }
  }

  function describeHours(hours) {
    if (hours.always_open) return _("No opening hours are set: check-in works at any time.");
    return hours.open_now ? _("Open now.") : _("Closed now: the kiosk turns members away until opening time.");
  }

  async function loadHours() {
    const result = await Visage.api("/api/v1/tenant/opening-hours");
    if (!result.ok) { Visage.say(hoursOutcome, Visage.describeError(result), "error"); return; }
    const hours = result.data;
    loadedWeekly = hours.weekly;
    hoursForm.elements.timezone.value = hours.timezone;
    hoursState.textContent = describeHours(hours);
    hoursForm.querySelector("[data-hours-fields]").disabled = false;
    for (const row of hoursForm.querySelectorAll("[data-day]")) {
      const [first] = hours.weekly[row.dataset.day] || [];
      row.querySelector("[name=opens]").value = first ? first.opens.slice(0, 5) : "";
      row.querySelector("[name=closes]").value = first ? first.closes.slice(0, 5) : "";
    }
  }

  // A day keeps the extra intervals set through the API unless its first one was edited here.
  function dayIntervals(row) {
    const opens = row.querySelector("[name=opens]").value;
    const closes = row.querySelector("[name=closes]").value;
    if (!opens && !closes) return [];
    if (!opens || !closes) throw new Error(_("{day}: give both the opening and the closing time, or neither.", { day: row.querySelector("th").textContent }));
    const loaded = loadedWeekly[row.dataset.day] || [];
    const unchanged = loaded.length && loaded[0].opens.slice(0, 5) === opens && loaded[0].closes.slice(0, 5) === closes;
    return unchanged ? loaded : [{ opens, closes }];
  }

  hoursForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const weekly = {};
    try {
      for (const row of hoursForm.querySelectorAll("[data-day]")) {
        const intervals = dayIntervals(row);
        if (intervals.length) weekly[row.dataset.day] = intervals;
      }
    } catch (error) {
      Visage.say(hoursOutcome, error.message, "error");
      return;
    }
    const body = { timezone: hoursForm.elements.timezone.value.trim(), weekly };
    const result = await Visage.api("/api/v1/tenant/opening-hours", { method: "PUT", json: body });
    if (!result.ok) { Visage.say(hoursOutcome, Visage.describeError(result, hoursForm), "error"); return; }
    Visage.say(hoursOutcome, _("Opening hours saved."), "ok");
    loadHours();
  });
  hoursForm.querySelector("[data-always-open]").addEventListener("click", async () => {
    const result = await Visage.api("/api/v1/tenant/opening-hours", { method: "DELETE" });
    if (!result.ok) { Visage.say(hoursOutcome, Visage.describeError(result), "error"); return; }
    Visage.say(hoursOutcome, _("Opening hours removed: always open."), "ok");
    loadHours();
  });

  Visage.onReady(async (me) => {
    fill(document.querySelector("[data-settings=tenant]"), {
      name: me.tenant ? me.tenant.name : "",
      default_locale: me.tenant ? me.tenant.default_locale : "",
    });
    const faces = await Visage.api("/api/v1/faces/settings");
    const facesForm = document.querySelector("[data-settings=faces]");
    if (faces.ok) {
      fill(facesForm, faces.data);
      facesForm.elements.recognition_tolerance.placeholder = _("Default: {value}", { value: faces.data.effective_tolerance });
      const summary = document.querySelector("[data-faces-summary]");
      summary.querySelector("[data-faces-summary-text]").textContent = faces.data.summary;
      summary.hidden = false;
    } else {
      Visage.say(facesForm.querySelector("[data-outcome]"), Visage.describeError(faces), "error");
    }
    loadHours();
  });
})();
