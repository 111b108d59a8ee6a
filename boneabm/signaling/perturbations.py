"""Knockouts, inhibitors and clamps acting on a network, each on for a time window.

- A knockout removes a gene (or one species): its species are held at zero and the reactions that make them
  from anything else are switched off.
- An inhibitor multiplies the named reactions (or a named inhibitor's reactions) by its remaining activity.
- A clamp holds a species at a fixed count per nucleus (an overexpressed or constitutively active form: the
  transgene is in every nucleus, so a fused cell of n nuclei holds n times the count, the same concentration).
- A pulse train clamps a species during pulses of a given duration repeating with a given period, and leaves
  it to the network in between (Ca²⁺ pulses applied from outside hold calcineurin active while Ca²⁺ is high,
  Tomida et al. 2003). The signaling step is split at every pulse edge, so pulses shorter than a tick are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only named in annotations: network.py reaches this module through the solver
    from boneabm.signaling.network import Network


@dataclass(frozen=True)
class Perturbation:
    kind: str  # "knockout", "inhibitor", "clamp" or "pulse"
    target: str  # gene or species; inhibitor or reaction; species; species
    value: float = 0.0  # inhibitor: remaining activity (0..1); clamp and pulse: molecules per nucleus
    start_h: float = 0.0
    stop_h: float | None = None
    period_h: float | None = None  # pulse: from one pulse's start to the next
    duration_h: float | None = None  # pulse: how long each pulse holds its species

    def active(self, time_h: float) -> bool:
        in_window = self.start_h <= time_h and (self.stop_h is None or time_h < self.stop_h)
        if not in_window or self.kind != "pulse":
            return in_window
        return time_h - self.start_h - self._pulse_index(time_h) * self.period_h < self.duration_h - 1e-9

    def _pulse_index(self, time_h: float) -> int:
        return int(np.floor((time_h - self.start_h) / self.period_h + 1e-9))

    def edges(self, from_h: float, to_h: float) -> list[float]:
        """Times in (from_h, to_h) at which this perturbation switches on or off."""
        times = [self.start_h] + ([self.stop_h] if self.stop_h is not None else [])
        if self.kind == "pulse":
            first = max(0, self._pulse_index(max(from_h, self.start_h)))
            last = self._pulse_index(to_h)
            for k in range(first, last + 1):
                times += [self.start_h + k * self.period_h, self.start_h + k * self.period_h + self.duration_h]
        last_h = to_h if self.stop_h is None else self.stop_h  # no pulse edge after the train stops
        return sorted({t for t in times if from_h < t < to_h and t <= last_h})


@dataclass(frozen=True)
class Effect:
    """What the active perturbations do to the kernel: per-reaction factors and per-species clamps."""

    rate_scale: np.ndarray  # [R]
    clamped: np.ndarray  # [S] bool
    clamp_values: np.ndarray  # [S] molecules per nucleus, where clamped

    def apply_clamps(self, X: np.ndarray, rows: np.ndarray, volume: np.ndarray) -> None:
        """Hold the clamped species of the cells in ``rows`` at their values times each cell's ``volume`` (its
        nuclei), to the nearest molecule."""
        species = np.flatnonzero(self.clamped)
        if species.size and rows.size:
            X[np.ix_(rows, species)] = np.rint(np.outer(volume, self.clamp_values[species])).astype(X.dtype)


class PerturbationSchedule:
    """Resolves perturbations against a network once and gives the effect in force at any time."""

    def __init__(self, network: Network, perturbations: list[Perturbation] = ()):
        self.network = network
        self.perturbations = list(perturbations)
        self._resolved = []
        for p in self.perturbations:
            if p.kind == "knockout":
                species = network.resolve_gene(p.target)
                self._resolved.append((p, species, network.synthesis_reactions(species)))
            elif p.kind == "inhibitor":
                self._resolved.append((p, [], network.resolve_inhibitor(p.target)))
            elif p.kind in ("clamp", "pulse"):
                self._resolved.append((p, network.resolve_gene(p.target), []))
            else:
                raise ValueError(f"unknown perturbation kind {p.kind!r}")
        self._cache: dict[tuple[bool, ...], Effect] = {}

    def at(self, time_h: float) -> Effect:
        key = tuple(p.active(time_h) for p in self.perturbations)
        if key not in self._cache:
            rate_scale = np.ones(self.network.n_reactions)
            clamped = np.zeros(self.network.n_species, dtype=np.bool_)
            values = np.zeros(self.network.n_species, dtype=np.int64)
            for on, (p, species, reactions) in zip(key, self._resolved):
                if not on:
                    continue
                if p.kind == "knockout":
                    rate_scale[reactions] = 0.0
                    clamped[species] = True
                    values[species] = 0
                elif p.kind == "inhibitor":
                    rate_scale[reactions] *= p.value
                else:
                    clamped[species] = True
                    values[species] = round(p.value)
            self._cache[key] = Effect(rate_scale, clamped, values)
        return self._cache[key]

    def edges(self, from_h: float, to_h: float) -> list[float]:
        """Times in (from_h, to_h) at which some perturbation switches on or off: a signaling step over that
        interval is split there."""
        return sorted({t for p in self.perturbations for t in p.edges(from_h, to_h)})

    def segments(self, from_h: float, to_h: float) -> list[tuple[float, float]]:
        """(start, end) pieces of [from_h, to_h] over which no perturbation switches."""
        cuts = [from_h, *self.edges(from_h, to_h), to_h]
        return [(a, b) for a, b in zip(cuts, cuts[1:]) if b - a > 1e-12]
