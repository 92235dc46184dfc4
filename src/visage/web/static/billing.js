// The billing page: the price form's URL follows the plan chosen.
"use strict";

(function () {
  const form = document.getElementById("price-form");
  if (!form) return;
  const plan = form.querySelector("[data-price-plan]");
  form.addEventListener("submit", () => {
    form.dataset.api = `/api/v1/plans/${encodeURIComponent(plan.value)}/price`;
  });
})();
