"""The 1:N decision: who is at the door, given the gallery size and the score model.

Pure: no database. The acceptance distance is the largest that keeps the false positive
identification rate FPIR(N) = 1 - (1 - FMR(d))^N within the tenant's target, so it tightens
as the gym grows. The nearest member must also be clearly nearer than the next one: two
members whose distances differ by less than one person's own photos vary (the calibration's
margin) cannot be told apart.

With a PIN the face only has to narrow the gallery to at most `MAX_PIN_CANDIDATES` members
within the candidate distance (at most the 1:1 tolerance, dlib's 0.6: FNMR under 1 %; in a
large gallery less, where fewer strangers crowd a member out of the k nearest), and the PIN
decides among them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from visage.faces.calibration.model import ScoreModel
from visage.i18n.context import N_, gettext, ngettext
from visage.i18n.formatting import format_number, format_percent

KioskMode = Literal["face", "face_then_pin", "face_and_pin"]
FaceOutcome = Literal["MATCH", "UNKNOWN_FACE", "LOW_CONFIDENCE"]
KIOSK_MODES: tuple[KioskMode, ...] = ("face", "face_then_pin", "face_and_pin")
DEFAULT_FPIR_TARGET = 0.001
MAX_PIN_CANDIDATES = 3
PIN_MIN_DIGITS = 4
# Face alone is the default only while it keeps the target refusing at most this many members.
MAX_FACE_ALONE_FNIR = 0.05


@dataclass(frozen=True)
class Rates:
    fpir: float  # a stranger let in (a PIN mode: per PIN typed)
    fnir: float  # a member not let in by the kiosk (face too far, not clearly nearest)


@dataclass(frozen=True)
class OperatingPoint:
    """Where a tenant of `gallery_size` members decides, and what it costs."""

    gallery_size: int
    fpir_target: float
    acceptance: float  # face alone: a match within this distance
    candidate_distance: float  # with a PIN: candidates within this distance
    margin: float
    mode: KioskMode
    rates: dict[KioskMode, Rates]

    @property
    def expected(self) -> Rates:
        return self.rates[self.mode]


def pin_guess_rate() -> float:
    """A stranger's chance that one typed PIN is one of the candidates' (4 digits at least)."""
    return MAX_PIN_CANDIDATES / float(10**PIN_MIN_DIGITS)


def operating_point(
    model: ScoreModel,
    gallery_size: int,
    *,
    fpir_target: float,
    candidate_distance: float,
    tolerance_override: float | None = None,
    mode: KioskMode | None = None,
) -> OperatingPoint:
    """Where to decide at this size. `candidate_distance`: the widest the PIN modes look
    (1:1 tolerance); within it, the distance that loses the fewest members to crowding.
    face_then_pin spends part of the target on PIN guesses, so its face alone is stricter.
    `tolerance_override`: the tenant chose its own acceptance distance."""
    size = max(gallery_size, 1)
    face_acceptance = (
        tolerance_override
        if tolerance_override is not None
        else model.acceptance_distance(size, fpir_target)
    )
    widest = max(candidate_distance, face_acceptance)
    candidates_within = model.best_candidate_distance(
        size, MAX_PIN_CANDIDATES, low=min(face_acceptance, widest), high=widest
    )
    guessed = model.fpir(candidates_within, size) * pin_guess_rate()
    pin_fnir = model.candidate_failure(candidates_within, size, MAX_PIN_CANDIDATES)
    then_pin_acceptance = (
        tolerance_override
        if tolerance_override is not None
        else model.acceptance_distance(size, max(fpir_target - guessed, fpir_target / 10))
    )
    acceptances: dict[KioskMode, float] = {
        "face": face_acceptance,
        "face_then_pin": then_pin_acceptance,
        "face_and_pin": face_acceptance,
    }
    rates: dict[KioskMode, Rates] = {
        "face": Rates(model.fpir(face_acceptance, size), model.fnir(face_acceptance, size)),
        # Clearly recognized members walk in; the others near someone type their PIN.
        "face_then_pin": Rates(model.fpir(then_pin_acceptance, size) + guessed, pin_fnir),
        "face_and_pin": Rates(guessed, pin_fnir),
    }
    if mode is None:
        mode = "face" if rates["face"].fnir <= MAX_FACE_ALONE_FNIR else "face_then_pin"
    return OperatingPoint(
        max(gallery_size, 0),
        fpir_target,
        acceptances[mode],
        candidates_within,
        model.margin,
        mode,
        rates,
    )


@dataclass(frozen=True)
class Nearest:
    member_id: uuid.UUID
    distance: float


@dataclass(frozen=True)
class FaceVerdict:
    outcome: FaceOutcome
    member_id: uuid.UUID | None  # MATCH only
    pin_candidates: tuple[uuid.UUID, ...]  # whom a PIN could confirm, nearest first


def judge(nearest: Sequence[Nearest], point: OperatingPoint) -> FaceVerdict:
    """Face alone's answer, and the members a PIN may choose among. `nearest`: distinct
    members, nearest first (at least two when the gallery holds two)."""
    within = tuple(
        n.member_id for n in nearest[:MAX_PIN_CANDIDATES] if n.distance <= point.candidate_distance
    )
    if not nearest or nearest[0].distance > point.candidate_distance:
        return FaceVerdict("UNKNOWN_FACE", None, ())
    best = nearest[0]
    clearly_nearest = len(nearest) < 2 or nearest[1].distance - best.distance >= point.margin
    if best.distance <= point.acceptance and clearly_nearest:
        return FaceVerdict("MATCH", best.member_id, within)
    return FaceVerdict("LOW_CONFIDENCE", None, within)


def describe(point: OperatingPoint) -> str:
    """The operating point in words, for the settings page."""
    face = point.rates["face"]
    text = ngettext(
        "At {count} member, face alone: about 1 wrong entry in {strangers} strangers, "
        "{asked} of members asked again.",
        "At {count} members, face alone: about 1 wrong entry in {strangers} strangers, "
        "{asked} of members asked again.",
        point.gallery_size,
    ).format(
        count=format_number(point.gallery_size),
        strangers=_one_in(face.fpir),
        asked=_percent(face.fnir),
    )
    if point.mode != "face":
        pin = point.rates[point.mode]
        text += " " + gettext(
            "With {mode} (this kiosk's mode): about 1 wrong entry in {strangers} strangers "
            "who each try one PIN, {missed} of members not recognized."
        ).format(
            mode=gettext(MODE_WORDS[point.mode]),
            strangers=_one_in(pin.fpir),
            missed=_percent(pin.fnir),
        )
    return text


MODE_WORDS = {"face_then_pin": N_("face then pin"), "face_and_pin": N_("face and pin")}


def _one_in(rate: float) -> str:
    if rate <= 0:
        return gettext("more than a billion")
    return format_number(round(1 / rate))


def _percent(rate: float) -> str:
    if rate < 0.001:
        return gettext("under {share}").format(share=format_percent(0.001))
    return format_percent(rate)
