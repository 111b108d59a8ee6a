"""New bone in a cavity: the matrix osteoblasts lay down and how it mineralises.

Matrix deposited at a pixel is osteoid until the mineralisation lag has passed; then primary mineralisation
brings it to ``primary_fraction`` of full mineral over ``primary_days`` (a linear ramp), and secondary
mineralisation takes it the rest of the way, first order with ``secondary_half_life_days`` (a mineralisation queue
as in the Martínez-Reina models; lag ≈ 8-12 d, Agerbaek et al. 1991; primary ≈ 60-70 % of final mineral within
days, secondary over months to years).

The matrix of one day at one pixel is one packet, so a packet's mineral fraction is a function of its age alone.
Packets stay apart until primary mineralisation ends (lag + primary days: a ring of daily bins), then join one
secondary pool per pixel: first-order kinetics keep such a pool exact, because every packet enters it at the same
fraction. Thicknesses are µm of matrix per pixel; "mineral" is the thickness it would have fully mineralised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boneabm.config import MineralisationConfig

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Mineralisation:
    """The kinetics, as ``bone.mineralisation`` (boneabm.config) gives them."""

    lag_days: float
    primary_days: float
    primary_fraction: float
    secondary_half_life_days: float

    @classmethod
    def of(cls, config: MineralisationConfig) -> "Mineralisation":
        return cls(**config.model_dump())

    def primary_fraction_at(self, age_days: np.ndarray) -> np.ndarray:
        """Mineral fraction of a packet of the given age, while it is in the ring (before the secondary pool)."""
        ramp = np.clip((np.asarray(age_days, dtype=float) - self.lag_days) / self.primary_days, 0.0, 1.0)
        return self.primary_fraction * ramp


class NewBone:
    """Matrix formed per pixel of a ``shape`` map since ``start_h``, and its mineralisation."""

    def __init__(self, shape: tuple[int, int], mineralisation: Mineralisation,
                 start_h: float = 0.0):
        self.kinetics = mineralisation
        self.n_bins = int(np.ceil(mineralisation.lag_days + mineralisation.primary_days)) + 1
        self.ring_um = np.zeros((self.n_bins, *shape))  # a day's matrix per pixel, by day number mod n_bins
        self.ring_day = np.full(self.n_bins, -1, dtype=np.int64)  # which day each bin holds (-1: none)
        self.pool_um = np.zeros(shape)  # matrix past primary mineralisation
        self.pool_fraction = np.zeros(shape)  # its mineral fraction
        self.formed_h = np.full(shape, np.nan)  # when each pixel's formation began
        self.time_h = start_h

    _ARRAYS = ("ring_um", "ring_day", "pool_um", "pool_fraction", "formed_h")

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        return {name: getattr(self, name).copy() for name in self._ARRAYS}, {"time_h": self.time_h}

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict, mineralisation: Mineralisation) -> "NewBone":
        new_bone = cls(arrays["pool_um"].shape, mineralisation, start_h=float(meta["time_h"]))
        if arrays["ring_um"].shape != new_bone.ring_um.shape:
            raise ValueError(f"new bone: {arrays['ring_um'].shape[0]} daily bins saved, the mineralisation "
                             f"kinetics need {new_bone.n_bins}")
        for name in cls._ARRAYS:
            setattr(new_bone, name, arrays[name])
        return new_bone

    def deposit(self, ix: np.ndarray, iy: np.ndarray, thickness_um: np.ndarray) -> None:
        """Add matrix at pixels (ix, iy) at the current time (repeated pixels add up)."""
        day = int(np.floor(self.time_h / HOURS_PER_DAY))
        b = day % self.n_bins
        if self.ring_day[b] != day:
            if self.ring_day[b] != -1:
                raise RuntimeError("NewBone.advance() must run at least every few days: a packet still holds the "
                                   "slot a new day needs")
            self.ring_day[b] = day
        np.add.at(self.ring_um[b], (ix, iy), thickness_um)
        new = np.isnan(self.formed_h[ix, iy])
        self.formed_h[ix[new], iy[new]] = self.time_h

    def advance(self, time_h: float) -> None:
        """Move to ``time_h``: packets whose primary phase has ended join the pool, which mineralises on."""
        k = np.log(2.0) / (self.kinetics.secondary_half_life_days * HOURS_PER_DAY)
        # the pool's own progress over the interval, before the packets that join it at its end
        self.pool_fraction = 1.0 - (1.0 - self.pool_fraction) * np.exp(-k * (time_h - self.time_h))
        self.time_h = time_h
        ring_days = self.kinetics.lag_days + self.kinetics.primary_days
        ages = self._age_days()
        for b in np.flatnonzero((self.ring_day >= 0) & (ages >= ring_days)):
            packet = self.ring_um[b]
            # it left the ring when its primary phase ended, however long this step: secondary since then
            since_h = (ages[b] - ring_days) * HOURS_PER_DAY
            fraction = 1.0 - (1.0 - self.kinetics.primary_fraction) * np.exp(-k * since_h)
            total = self.pool_um + packet
            with np.errstate(invalid="ignore", divide="ignore"):
                mixed = (self.pool_um * self.pool_fraction + packet * fraction) / total
            self.pool_fraction = np.where(total > 0, mixed, 0.0)
            self.pool_um = total
            self.ring_um[b] = 0.0
            self.ring_day[b] = -1

    def _age_days(self) -> np.ndarray:
        """Age of each bin's packet, days, from the middle of the day it was laid down."""
        return self.time_h / HOURS_PER_DAY - (self.ring_day + 0.5)

    @property
    def formed_um(self) -> np.ndarray:
        """All matrix formed per pixel, µm."""
        return self.ring_um.sum(axis=0) + self.pool_um

    @property
    def osteoid_um(self) -> np.ndarray:
        """Matrix not yet mineralising (younger than the lag): the osteoid seam, µm."""
        young = (self.ring_day >= 0) & (self._age_days() < self.kinetics.lag_days)
        return self.ring_um[young].sum(axis=0)

    @property
    def front_um(self) -> np.ndarray:
        """Depth of the mineralisation front above the cement line per pixel, µm: the matrix past the lag. A
        tetracycline label binds there, so the front's advance between two labels is what MAR measures; the
        secondary mineralisation behind it moves no label."""
        return self.formed_um - self.osteoid_um

    @property
    def mineral_um(self) -> np.ndarray:
        """The mineral in the new bone, as the thickness it would make fully mineralised, µm."""
        held = self.ring_day >= 0
        fraction = np.where(held, self.kinetics.primary_fraction_at(self._age_days()), 0.0)
        return np.tensordot(fraction, self.ring_um, axes=1) + self.pool_um * self.pool_fraction

    @property
    def mineral_fraction(self) -> np.ndarray:
        """Mean mineral fraction of each pixel's new bone (0 where none has formed)."""
        formed = self.formed_um
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(formed > 0, self.mineral_um / formed, 0.0)
