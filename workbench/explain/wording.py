"""How drivers are put into words for one experiment: the target's label, the reference each
forecast is compared with, the phrase for each concept, and which concepts are structural breaks
(context, never drivers of a period outside the break)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from features.areas import RegionalTrend
from features.calendar import StructuralBreak

PHRASES = {
    "recent demand": "recent demand in this area",
    "seasonality": "the time of year",
    "COVID period": "the COVID period",
    "possession claims rate": "landlord possession claims",
    "claimant rate": "the claimant rate",
    "private rent index": "private rents",
    "deprivation": "deprivation",
    "urban/rural": "how urban or rural the area is",
    "region": "the region",
    "regional trend": "the trend in the rest of the region",
    "forecast horizon": "how far ahead the forecast is",
    "population make-up": "population make-up",
}
TYPICAL_PHRASES = {"recent demand": "the area's size and recent level"}
RESIDUAL = "recent ups and downs"
RESIDUAL_PHRASE = "ups and downs in the reference periods that the model does not carry forward"
NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 12: "twelve"}


@dataclass(frozen=True)
class Wording:
    target_label: str = "households"
    reference: str = "recent"  # recent | same_period_last_year
    periods: int = 4
    period_word: str = "quarter"
    phrases: dict[str, str] = field(default_factory=dict)  # concept -> phrase, on top of PHRASES
    breaks: dict[str, tuple[str, str]] = field(default_factory=dict)  # concept -> (first, last period)

    @property
    def reference_name(self) -> str:
        """The reference in words, as every change sentence names it."""
        if self.reference == "same_period_last_year":
            return f"the same {self.period_word} last year in this area"
        if self.periods == 1:
            return f"the latest {self.period_word} in this area"
        return f"the last {NUMBERS.get(self.periods, str(self.periods))} {self.period_word}s in this area"

    def phrase(self, concept: str, *, typical: bool = False) -> str:
        if concept == RESIDUAL:
            return RESIDUAL_PHRASE
        if typical and concept in TYPICAL_PHRASES:
            return TYPICAL_PHRASES[concept]
        return self.phrases.get(concept) or PHRASES.get(concept, concept)

    def is_context(self, concept: str, period: object) -> bool:
        """True when `concept` is a structural break and `period` lies outside it."""
        if concept not in self.breaks:
            return False
        first, last = self.breaks[concept]
        text = str(period)
        return not (first <= text <= last) if len(text) == len(first) else True

    def context(self, period: object) -> str:
        notes = [
            f"The model treats {first} to {last} ({self.phrase(c)}) as unusual and discounts it; it is not a driver of "
            f"this forecast for {period}."
            for c, (first, last) in self.breaks.items()
            if self.is_context(c, period)
        ]
        return " ".join(notes)


def wording_for(
    builders: Sequence[object],
    *,
    target_label: str,
    period_word: str,
    reference: str = "recent",
    periods: int = 4,
) -> Wording:
    """The wording of an experiment, from its feature builders and report settings."""
    phrases, breaks = {}, {}
    for builder in builders:
        if isinstance(builder, RegionalTrend) and builder.level != "region":
            phrases["regional trend"] = f"the trend in other areas with the same {builder.level.replace('_', ' ')}"
        if isinstance(builder, StructuralBreak):
            breaks[builder.concept] = (builder.start, builder.end)
    return Wording(target_label, reference, periods, period_word, phrases, breaks)
