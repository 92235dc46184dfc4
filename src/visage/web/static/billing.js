// Billing pages: the price form's URL follows the plan chosen; "Update my card" opens a card
// page made for the signed-in member.
"use strict";

(function () {
  const form = document.getElementById("price-form");
  if (form) {
    const plan = form.querySelector("[data-price-plan]");
    form.addEventListener("submit", () => {
      form.dataset.api = `/api/v1/plans/${encodeURIComponent(plan.value)}/price`;
    });
  }
  const update = document.querySelector("[data-card-update]");
  if (update) {
    const outcome = document.querySelector("[data-card-outcome]");
    update.addEventListener("click", async () => {
      update.disabled = true;
      const result = await window.Visage.api("/api/v1/me/card", { method: "POST" });
      update.disabled = false;
      if (!result.ok) { window.Visage.say(outcome, window.Visage.describeError(result), "error"); return; }
      location.assign(result.data.url);
    });
  }
})();
