"""Each osteoclast's days: per day of the run, how long it was an osteoclast, its nuclei, the time it spent in
each resorption mode and the bone it removed, booked every tick from what the bone recorded under it.

A tick (t0, t1] belongs to day floor(t0 / 24 h) (with the default tick of 0.1 h no tick straddles midnight).
It counts its dt for a cell that was an osteoclast at t0, the tick it dies or fuses in included; the tick it
forms in counts no time (it forms at t1, ``formed_h``), but the bone it removes in that tick's bone phase is
booked to the day holding t1. So an osteoclast's days add up to ``died_h - formed_h`` (or the end -
``formed_h``) and to exactly the mineral and collagen ``Bone.removed_by`` holds for it.

The day being booked lives in population columns (one vectorised update per tick); a day is closed into
``closed`` when the next one starts or the osteoclast dies or fuses, and the open days of the living are read
at the end.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from boneabm.cells.osteoclast.fates import MIGRATING, PIT, TRENCH

HOURS_PER_DAY = 24.0
_DAY_EPSILON = 1e-9  # t / 24 h of a tick starting at midnight can come out as 0.99999999999 in floating point

# population columns (name -> dtype, trailing shape, value at birth) holding each osteoclast's open day
COLUMNS = {
    "day": (np.int64, (), -1),  # the day being booked; -1 while the cell is not an osteoclast
    "day_ticks": (np.int64, (), 0),  # ticks counted as an osteoclast that day
    "day_pit_ticks": (np.int64, (), 0),
    "day_trench_ticks": (np.int64, (), 0),
    "day_migrating_ticks": (np.int64, (), 0),
    "day_nuclei": (np.int64, (), 0),  # at its last tick booked
    "day_max_nuclei": (np.int64, (), 0),
    "day_removed_um3": (np.float64, (2,), 0.0),  # mineral, collagen
}
# a closed day's integers, in this order; its (mineral, collagen) µm³ are kept apart as floats
_INTS = ("osteoclast_id", "day", "ticks", "nuclei", "max_nuclei", "pit_ticks", "trench_ticks", "migrating_ticks")
_OPEN = ("cell_id", "day", "day_ticks", "day_nuclei", "day_max_nuclei", "day_pit_ticks", "day_trench_ticks",
         "day_migrating_ticks")


def day_of(time_h: float) -> int:
    return int(math.floor(time_h / HOURS_PER_DAY + _DAY_EPSILON))


class OsteoclastDays:
    """The days of a population's osteoclasts (cells whose ``formed_h`` is set)."""

    def __init__(self, population):
        self.population = population
        self.closed_ints = np.zeros((0, len(_INTS)), dtype=np.int64)
        self.closed_removed_um3 = np.zeros((0, 2))
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # closed since the last concatenation

    def book(self, rows: np.ndarray, time_h: float, dt_h: float, resorbing: np.ndarray,
             removed_um3: np.ndarray) -> None:
        """The tick ending at ``time_h``, after the bone phase: ``rows`` are the living osteoclasts,
        ``resorbing`` those of them that resorbed and ``removed_um3`` the (mineral, collagen) the bone
        recorded under each."""
        pop = self.population
        through = pop.formed_h[rows] < time_h  # an osteoclast since t0, not formed in this tick
        day = np.where(through, day_of(time_h - dt_h), day_of(time_h))
        self._advance(rows, day, through)
        pop.day_removed_um3[resorbing] += removed_um3

    def end(self, row: int, time_h: float, dt_h: float) -> None:
        """An osteoclast dies or fuses into another in the tick ending at ``time_h``: that tick counts (it was
        one until then, unless it formed in it) and its day closes."""
        pop = self.population
        if np.isnan(pop.formed_h[row]):
            return
        rows = np.array([row])
        if pop.formed_h[row] < time_h:
            self._advance(rows, np.array([day_of(time_h - dt_h)]), np.array([True]))
        self._close(rows)

    def _advance(self, rows: np.ndarray, day: np.ndarray, counted: np.ndarray) -> None:
        """Book one tick of ``rows`` into ``day``, closing the day they had open if it was another; the tick's
        time counts for ``counted``."""
        pop = self.population
        self._close(rows[pop.day[rows] != day])
        _count_tick(rows, day, counted, pop.mode, pop.nuclei, pop.day, pop.day_ticks, pop.day_pit_ticks,
                    pop.day_trench_ticks, pop.day_migrating_ticks, pop.day_nuclei, pop.day_max_nuclei)

    def _close(self, rows: np.ndarray) -> None:
        pop = self.population
        rows = rows[pop.day[rows] >= 0]
        if rows.size == 0:
            return
        self._pending.append((np.column_stack([getattr(pop, name)[rows] for name in _OPEN]),
                              pop.day_removed_um3[rows].copy()))
        for name, (_, _, value) in COLUMNS.items():
            getattr(pop, name)[rows] = value

    def _closed(self) -> tuple[np.ndarray, np.ndarray]:
        if self._pending:
            ints, removed = zip(*self._pending)
            self.closed_ints = np.concatenate([self.closed_ints, *ints])
            self.closed_removed_um3 = np.concatenate([self.closed_removed_um3, *removed])
            self._pending = []
        return self.closed_ints, self.closed_removed_um3

    def table(self, dt_h: float) -> dict[str, np.ndarray]:
        """Every day booked, closed or still open, by osteoclast and day: the columns of
        ``osteoclast_days.csv`` (boneabm/columns.py)."""
        pop = self.population
        closed_ints, closed_removed = self._closed()
        living = pop.rows[pop.day[pop.rows] >= 0]
        ints = np.concatenate([closed_ints, np.column_stack([getattr(pop, name)[living] for name in _OPEN])
                               .reshape(-1, len(_INTS))])
        removed = np.concatenate([closed_removed, pop.day_removed_um3[living]])
        order = np.lexsort((ints[:, 1], ints[:, 0]))
        ints, removed = ints[order], removed[order]
        column = dict(zip(_INTS, ints.T))
        return {"osteoclast_id": column["osteoclast_id"], "day": column["day"],
                "alive_h": column["ticks"] * dt_h, "nuclei": column["nuclei"], "max_nuclei": column["max_nuclei"],
                "resorbed_um3": removed[:, 0], "collagen_removed_um3": removed[:, 1],
                "pit_h": column["pit_ticks"] * dt_h, "trench_h": column["trench_ticks"] * dt_h,
                "migrating_h": column["migrating_ticks"] * dt_h}

    def state(self) -> dict[str, np.ndarray]:
        """The closed days (the open ones are population columns)."""
        ints, removed = self._closed()
        return {"days/ints": ints.copy(), "days/removed_um3": removed.copy()}

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.closed_ints = arrays["days/ints"].astype(np.int64).reshape(-1, len(_INTS))
        self.closed_removed_um3 = arrays["days/removed_um3"].astype(np.float64).reshape(-1, 2)
        self._pending = []


@nb.njit(cache=True)
def _count_tick(rows, day, counted, mode, nuclei, open_day, ticks, pit_ticks, trench_ticks, migrating_ticks,
                day_nuclei, day_max_nuclei):
    """``OsteoclastDays._advance`` once the days that end are closed: each of ``rows`` books ``day``, a tick of it
    where ``counted`` (in its mode), and its nuclei. One compiled pass over the population columns: as a dozen
    numpy calls on columns the kernel has just evicted it took ≈ 30 µs a tick."""
    for k in range(rows.shape[0]):
        row = rows[k]
        open_day[row] = day[k]
        if counted[k]:
            ticks[row] += 1
            pit_ticks[row] += mode[row] == PIT
            trench_ticks[row] += mode[row] == TRENCH
            migrating_ticks[row] += mode[row] == MIGRATING
        day_nuclei[row] = nuclei[row]
        day_max_nuclei[row] = max(day_max_nuclei[row], nuclei[row])
