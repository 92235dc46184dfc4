"""The payment reason is stored as a code and its facts and read in the reader's language."""

from __future__ import annotations

from visage.billing.reasons import describe, payment_reason
from visage.i18n.context import using


def test_a_reason_reads_in_each_language_with_stripes_message_as_given() -> None:
    stored = payment_reason(
        {"code": "grace", "date": "2026-12-04"}, "Your card was declined.", confirm_with_bank=True
    )
    with using("en"):
        assert describe(stored) == (
            "Payment failed: grace period until December 4, 2026. "
            "(Your card was declined.; the bank asks the member to confirm the payment)"
        )
    with using("fr"):
        assert describe(stored) == (
            "Paiement échoué : délai de grâce jusqu’au 4 décembre 2026. "
            "(Your card was declined.; la banque demande au membre de confirmer le paiement)"
        )


def test_a_payment_the_bank_holds_is_pending_and_no_problem_is_no_reason() -> None:
    with using("fr"):
        assert describe(payment_reason(None, None, confirm_with_bank=True)) == (
            "Paiement en attente (la banque demande au membre de confirmer le paiement)"
        )
    assert payment_reason(None, "Your card was declined.", confirm_with_bank=False) is None
    assert describe(None) is None
