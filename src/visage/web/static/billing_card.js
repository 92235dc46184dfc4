// The card page: Stripe.js collects the card and confirms the SetupIntent with Stripe, then
// Visage subscribes the member (or, for a one-time plan, charges it once) with the confirmed
// card. The number never reaches Visage.
"use strict";

(function () {
  const form = document.querySelector("[data-card-form]");
  const outcome = form.querySelector("[data-outcome]");
  const stripe = window.Stripe(form.dataset.publicKey);
  const card = stripe.elements().create("card");
  card.mount(form.querySelector("[data-card-element]"));

  // Stripe's subscription statuses, in the words of the sentence they end up in.
  const STATUS_WORDS = {
    trialing: _("trialing"),
    incomplete: _("incomplete"),
    incomplete_expired: _("incomplete, expired"),
    past_due: _("past due"),
    unpaid: _("unpaid"),
    canceled: _("canceled"),
    paused: _("paused"),
  };

  function say(text, kind) {
    outcome.textContent = text;
    outcome.dataset.kind = kind;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    say(_("Working…"), "busy");
    try {
      const confirmed = await stripe.confirmCardSetup(form.dataset.clientSecret, { payment_method: { card } });
      if (confirmed.error) { say(confirmed.error.message || _("The card was refused."), "error"); return; }
      const response = await fetch(form.dataset.subscribeUrl, { method: "POST" });
      const data = await response.json().catch(() => null);
      if (!response.ok) { say((data && data.error && data.error.message) || _("Please try again."), "error"); return; }
      if (form.hasAttribute("data-card-only")) { say(_("Card saved: your next payments use it."), "ok"); return; }
      if (data.status === "none" && data.purchases && data.purchases.length) { say(_("Paid: welcome!"), "ok"); return; }
      say(data.status === "active" ? _("Subscribed: welcome!") : _("Subscription {status}: {problem}", { status: STATUS_WORDS[data.status] || data.status, problem: data.payment_problem || "" }),
          data.status === "active" ? "ok" : "error");
    } catch {
      say(_("Cannot reach the payment service: check the connection and try again."), "error");
    } finally {
      button.disabled = false;
    }
  });
})();
