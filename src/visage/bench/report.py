"""FPIR/FNIR per kiosk mode and gallery size, as one table for the benchmark commands."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from visage.bench.identification import ModeRates

DEFAULT_ACCURACY_SIZES = "1000,10000,100000"


def rates_table(title: str, rates: Sequence[ModeRates]) -> Table:
    table = Table(title=title)
    for column in (
        "members (N)",
        "kiosk mode",
        "FPIR measured",
        "FPIR expected",
        "FNIR measured",
        "FNIR expected",
        "asked for PIN",
        "strangers / members tried",
    ):
        table.add_column(column)
    for rate in rates:
        table.add_row(
            f"{rate.gallery_size:,}",
            rate.mode,
            f"{rate.fpir:.2e}",
            f"{rate.expected_fpir:.2e}",
            f"{rate.fnir:.1%}",
            f"{rate.expected_fnir:.1%}",
            f"{rate.pin_asked:.1%}",
            f"{rate.strangers:,} / {rate.members:,}",
        )
    return table


TABLE_NOTE = (
    "FPIR: strangers let in (PIN modes: per PIN a stranger types, 1 in 10,000 per candidate). "
    "FNIR: members not let in, or let in as someone else. Expected: the closed form the "
    "settings page shows (faces/decision.py)."
)
