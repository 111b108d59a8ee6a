"""What a run will cost, estimated from its experiment before anything is built: memory and ticks.

A run that cannot fit in this machine's memory is refused; one above the thresholds below needs ``--force``,
and the refusal says what it would cost. The thresholds can be changed per shell with the environment
variables ``BONEABM_FORCE_ABOVE_GB`` and ``BONEABM_FORCE_ABOVE_TICKS``.

The memory model is deliberately coarse and on the high side: ≈ 250 MB for the interpreter, numba and the
libraries; ≈ 4 kB per grid site (Mesa's cell object with its neighbour lists, a population row with the cell's
molecules and random stream, the fields and their transforms: benchmarks/step_cost.py measured 696 MB peak for
118 k cells, ≈ 6 kB per cell with everything); 32 bytes per bone pixel (two float64 depth maps and the label maps
of each recording's measurements). Checked once against a large run: benchmarks/step_cost.py --sizes 100000
peaked at 702 MB with 105,567 cells on 448² sites (2026-11-30), where this model estimates ≈ 1.2 GB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from boneabm.errors import UserError

BASE_BYTES = 250e6
BYTES_PER_SITE = 4e3
BYTES_PER_BONE_PIXEL = 32.0
FORCE_ABOVE_GB = 8.0  # default thresholds: a laptop's share, and ...
FORCE_ABOVE_TICKS = 5_000_000  # ... 57 years in ticks of 0.1 h
MAX_SWEEP_RUNS = 10_000  # runs a sweep may expand to without --force: each run's experiment is validated first


@dataclass(frozen=True)
class Cost:
    memory_bytes: float
    ticks: int

    def describe(self) -> str:
        return f"about {self.memory_bytes / 1e9:.3g} GB of memory and {self.ticks:,} ticks"


def estimate(experiment) -> Cost:
    width, height = experiment.domain.shape
    sites = width * height
    pixels = sites * experiment.bone.pixels_per_site ** 2
    memory = BASE_BYTES + sites * BYTES_PER_SITE + pixels * BYTES_PER_BONE_PIXEL
    return Cost(memory, experiment.time.n_ticks)


def machine_memory_bytes() -> float | None:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _threshold(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise UserError(f"environment variable {name}={text!r}: give a positive number")
    return value


def check_affordable(experiment, force: bool, what: str = "the run") -> Cost:
    """Refuse (``UserError``) a run that cannot fit in this machine's memory, and, without ``force``, one above
    the thresholds; returns the estimate."""
    cost = estimate(experiment)
    width, height = experiment.domain.shape
    size = (f"{width} x {height} sites with bone.pixels_per_site = {experiment.bone.pixels_per_site}, "
            f"time.duration_h = {experiment.time.duration_h:g} in ticks of time.dt_h = {experiment.time.dt_h:g}")
    available = machine_memory_bytes()
    if available is not None and cost.memory_bytes > available:
        raise UserError(f"{what} needs {cost.describe()} ({size}); this machine has {available / 1e9:.3g} GB. "
                        "Shrink domain.width_um/height_um or bone.pixels_per_site, or widen domain.grid_spacing_um")
    if force:
        return cost
    gigabytes = _threshold("BONEABM_FORCE_ABOVE_GB", FORCE_ABOVE_GB)
    ticks = _threshold("BONEABM_FORCE_ABOVE_TICKS", FORCE_ABOVE_TICKS)
    if cost.memory_bytes > gigabytes * 1e9 or cost.ticks > ticks:
        raise UserError(f"{what} needs {cost.describe()} ({size}), above the {gigabytes:g} GB or {ticks:,.0f} "
                        "ticks a run may take without --force (BONEABM_FORCE_ABOVE_GB, BONEABM_FORCE_ABOVE_TICKS); "
                        "give --force to run it anyway")
    return cost
