"""Human names for clusters, from a fixed vocabulary of archetypes.

K-Means only says "these customers are alike"; marketers need to know *how*. Each cluster
centre gets two words:

- recency, in business time: the centre's days since the last order against day bounds
  (`RecencyBounds`, from seed recency_words: a marketer's days, or a number of purchase cycles,
  the median gap between a repeat customer's orders) -> "Recent", "Lapsing" or "Dormant". A
  cluster whose typical member last bought 263 days ago is never "Recent", whatever the rest of
  the population did;
- value, relative to the population: where the centre's value score (the mean of standardised
  log frequency and log monetary) falls among all customers' scores, by mid-rank percentile
  (customers tied with it count half) -> "High-Value" / "Mid-Value" / "Low-Value" by thirds.
  Value words say "better or worse than the other customers of this business", nothing absolute.

The two words give one of nine archetypes; a single cluster (one segment for everybody) is
"All Customers". The vocabulary is fixed (`SEGMENT_ARCHETYPES`) because a marketer-edited seed
maps each archetype to a strategy; a name outside it would silently get no strategy.

Hysteresis: when a model is refitted, a cluster matched to a previous one keeps each previous
word while its centre stays within NAME_MARGIN of that word's band (15% of a day bound, 0.05 of
percentile), so a centre moving a few days across a bound does not flip "Recent" to "Lapsing".

Names are unique: a later cluster of an archetype already named is called after the archetype
plus what sets it apart from the first ("Dormant Low-Value, fewer orders"); it keeps the
archetype (so the strategy seed still applies) and the marts flag that it shares the strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

RECENCY_WORDS: tuple[str, str, str] = ("Recent", "Lapsing", "Dormant")
VALUE_WORDS: tuple[str, str, str] = ("High-Value", "Mid-Value", "Low-Value")
SINGLE_SEGMENT: str = "All Customers"

#: Every value `segment_archetype` can take, most valuable first (recency, then value).
SEGMENT_ARCHETYPES: tuple[str, ...] = tuple(
    f"{r} {v}" for r in RECENCY_WORDS for v in VALUE_WORDS
) + (SINGLE_SEGMENT,)

#: Hysteresis: a previous recency word survives while the centre is within this share of the
#: word's day bounds; a previous value word while the percentile is within this of its third.
NAME_MARGIN = 0.15
VALUE_MARGIN = 0.05

_TIE = 1e-9  # centres are float means: equal to a tied value only up to rounding

#: How a later cluster of an archetype differs from the first, per feature (higher, lower).
_QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("bought longer ago", "bought more recently"),
    ("more orders", "fewer orders"),
    ("higher spend", "lower spend"),
)


@dataclass(frozen=True)
class RecencyBounds:
    """Upper day bounds of "Recent" and "Lapsing"; beyond `lapsing_up_to_days` is "Dormant"."""

    recent_up_to_days: float
    lapsing_up_to_days: float

    def __post_init__(self) -> None:
        if not 0 <= self.recent_up_to_days <= self.lapsing_up_to_days:
            raise ValueError(
                "recency bounds must satisfy 0 <= Recent up_to_days <= Lapsing up_to_days, got "
                f"{self.recent_up_to_days} and {self.lapsing_up_to_days}"
            )

    @classmethod
    def from_words(cls, words: Sequence[tuple[str, float | None]]) -> RecencyBounds:
        """From (recency_word, up_to_days) pairs as in int_snapshot_recency_words."""
        bounds = {str(w): d for w, d in words}
        missing = [w for w in RECENCY_WORDS[:2] if bounds.get(w) is None or not np.isfinite(bounds[w])]
        if missing:
            raise ValueError(f"recency words without a day bound: {', '.join(missing)}")
        return cls(float(bounds["Recent"]), float(bounds["Lapsing"]))

    def band(self, word: str) -> tuple[float, float]:
        """[low, high] days of a recency word."""
        return {
            "Recent": (0.0, self.recent_up_to_days),
            "Lapsing": (self.recent_up_to_days, self.lapsing_up_to_days),
            "Dormant": (self.lapsing_up_to_days, np.inf),
        }[word]

    def word(self, days: float, previous: str | None = None) -> str:
        """Recency word of a centre `days` since its last order; `previous` is kept within the margin."""
        if previous in RECENCY_WORDS:
            low, high = self.band(previous)
            if low * (1 - NAME_MARGIN) <= days <= high * (1 + NAME_MARGIN):
                return previous
        if days <= self.recent_up_to_days:
            return "Recent"
        return "Lapsing" if days <= self.lapsing_up_to_days else "Dormant"


#: Used only when no bounds are given (library callers): a 30-day purchase cycle, times the
#: default multipliers of seed recency_words (2 and 6). The dbt models always pass the seed's.
DEFAULT_RECENCY_BOUNDS = RecencyBounds(60.0, 180.0)


def _percentile(value: float, population_sorted: NDArray[np.float64]) -> float:
    """Mid-rank percentile of `value` in the (ascending) population: ties count half."""
    below = np.searchsorted(population_sorted, value - _TIE, side="left")
    not_above = np.searchsorted(population_sorted, value + _TIE, side="right")
    return float((below + not_above) / 2 / len(population_sorted))


def _value_word(percentile: float, previous: str | None) -> str:
    third = 0 if percentile > 2 / 3 else (2 if percentile < 1 / 3 else 1)  # highest value first
    if previous in VALUE_WORDS:
        i = VALUE_WORDS.index(previous)
        high = 1 - i / 3  # the previous word's band of percentiles is [high - 1/3, high]
        if high - 1 / 3 - VALUE_MARGIN <= percentile <= high + VALUE_MARGIN:
            return previous
    return VALUE_WORDS[third]


def archetypes_for_centres(
    centres: NDArray[np.float64],
    population: NDArray[np.float64],
    centre_recency_days: Sequence[float] | NDArray[np.float64],
    bounds: RecencyBounds = DEFAULT_RECENCY_BOUNDS,
    previous: Sequence[str | None] | None = None,
) -> list[str]:
    """Archetype of each cluster centre.

    `centres` and `population` are in the standardised feature space (columns: log recency,
    log frequency, log monetary), where the value score is linear, so a centre's score is the
    mean score of its members. `centre_recency_days` is each centre's recency back in days.
    `previous` (optional, per centre) is the archetype of the cluster it continues: its words are
    kept within the hysteresis margin.
    """
    centres = np.asarray(centres, dtype=float)
    if len(centres) == 1:
        return [SINGLE_SEGMENT]
    population = np.asarray(population, dtype=float)
    value = np.sort(population[:, 1:3].mean(axis=1))
    names = []
    for i, centre in enumerate(centres):
        before = previous[i] if previous is not None else None
        r_before, v_before = _split(before)
        r = bounds.word(float(centre_recency_days[i]), r_before)
        v = _value_word(_percentile(float(centre[1:3].mean()), value), v_before)
        names.append(f"{r} {v}")
    return names


def _split(archetype: str | None) -> tuple[str | None, str | None]:
    if not archetype or " " not in archetype or archetype == SINGLE_SEGMENT:
        return None, None
    r, v = archetype.split(" ", 1)
    return r, v


def unique_names(
    archetypes: Sequence[str],
    centres: NDArray[np.float64] | None = None,
    kept: Sequence[str | None] | None = None,
) -> list[str]:
    """Segment names, one per cluster, never two alike.

    The first cluster of an archetype (callers pass them most valuable first) is called by the
    archetype. A later one gets the archetype plus the feature that sets it most apart from the
    first, in the standardised space of `centres` ("Dormant Low-Value, fewer orders"); without
    centres, or if that name is taken too, a " (2)", " (3)" suffix. `kept` (per cluster, optional)
    holds names already decided (a refit's clusters that keep their previous name).
    """
    kept = list(kept) if kept is not None else [None] * len(archetypes)
    taken = {name for name in kept if name}
    first: dict[str, int] = {}
    for i, archetype in enumerate(archetypes):
        if kept[i] and archetype not in first:
            first[archetype] = i
    names = []
    for i, archetype in enumerate(archetypes):
        if kept[i]:
            names.append(str(kept[i]))
            continue
        first.setdefault(archetype, i)
        name = archetype
        if name in taken and centres is not None and first[archetype] != i:
            diff = np.asarray(centres[i], dtype=float) - np.asarray(centres[first[archetype]], dtype=float)
            f = int(np.argmax(np.abs(diff)))
            name = f"{archetype}, {_QUALIFIERS[f][0 if diff[f] > 0 else 1]}"
        base, n = name, 2
        while name in taken:
            name = f"{base} ({n})"
            n += 1
        taken.add(name)
        names.append(name)
    return names
