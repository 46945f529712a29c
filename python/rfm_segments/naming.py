"""Human names for clusters, from a fixed vocabulary of archetypes.

K-Means only says "these customers are alike"; marketers need to know *how*. Each cluster
centre is placed on two axes against the whole customer population:

- recency: where the centre's recency falls among all customers' recencies: in the most
  recent third -> "Recent", in the least recent third -> "Dormant", else "Lapsing";
- value: the same for a value score, the mean of standardised log frequency and log
  monetary -> "High-Value" / "Mid-Value" / "Low-Value".

"Falls" is the centre's mid-rank percentile (customers tied with it count half), so heavy ties
behave: a cluster of the 40% of customers who all bought yesterday is "Recent", although the
first tercile of recency is "yesterday" too.

The two words give one of nine archetypes; a single cluster (one segment for everybody) is
"All Customers". The vocabulary is fixed (`SEGMENT_ARCHETYPES`) because a marketer-edited seed
maps each archetype to a strategy; a name outside it would silently get no strategy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

RECENCY_WORDS: tuple[str, str, str] = ("Recent", "Lapsing", "Dormant")
VALUE_WORDS: tuple[str, str, str] = ("High-Value", "Mid-Value", "Low-Value")
SINGLE_SEGMENT: str = "All Customers"

#: Every value `segment_archetype` can take, most valuable first (recency, then value).
SEGMENT_ARCHETYPES: tuple[str, ...] = tuple(
    f"{r} {v}" for r in RECENCY_WORDS for v in VALUE_WORDS
) + (SINGLE_SEGMENT,)


_TIE = 1e-9  # centres are float means: equal to a tied value only up to rounding


def _third(value: float, population_sorted: NDArray[np.float64]) -> int:
    """0, 1 or 2: which third of the (ascending) population `value` falls in, by mid-rank."""
    below = np.searchsorted(population_sorted, value - _TIE, side="left")
    not_above = np.searchsorted(population_sorted, value + _TIE, side="right")
    percentile = (below + not_above) / 2 / len(population_sorted)
    if percentile < 1 / 3:
        return 0
    if percentile > 2 / 3:
        return 2
    return 1


def archetypes_for_centres(
    centres: NDArray[np.float64], population: NDArray[np.float64]
) -> list[str]:
    """Archetype of each cluster centre, judged against the population it was fitted on.

    Both arrays are in the standardised feature space (columns: log recency, log frequency,
    log monetary). Working there keeps the value score linear, so a centre's score is exactly
    the mean score of its members.
    """
    centres = np.asarray(centres, dtype=float)
    if len(centres) == 1:
        return [SINGLE_SEGMENT]
    population = np.asarray(population, dtype=float)
    recency = np.sort(population[:, 0])
    value = np.sort(population[:, 1:3].mean(axis=1))
    names = []
    for centre in centres:
        r = _third(float(centre[0]), recency)  # fewest days since last order = word 0
        v = 2 - _third(float(centre[1:3].mean()), value)  # highest value = word 0
        names.append(f"{RECENCY_WORDS[r]} {VALUE_WORDS[v]}")
    return names


def unique_names(archetypes: Sequence[str]) -> list[str]:
    """Segment names: the archetype, suffixed " (2)", " (3)", ... on later repeats.

    Callers pass archetypes in cluster order (most valuable first), so the most valuable
    cluster of an archetype keeps the plain name and the rebuild gives the same names.
    """
    seen: dict[str, int] = {}
    names = []
    for archetype in archetypes:
        seen[archetype] = seen.get(archetype, 0) + 1
        n = seen[archetype]
        names.append(archetype if n == 1 else f"{archetype} ({n})")
    return names
