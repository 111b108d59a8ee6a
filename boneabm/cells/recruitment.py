"""Cells that come to the surface from the marrow: a lineage's marrow pool is a count, not agents, and a cell
becomes an agent only when the signal at a free surface site recruits it there. Quiet marrow costs nothing.

Recruitment is chemotaxis up a factor's gradient: the chance that a pool cell settles on a free site grows with
the occupancy of its receptor by the factor there, c/(K + c) (active TGF-β1 for mesenchymal progenitors, Tang et
al. 2009 Nat Med 15:757; RANKL for osteoclast precursors, Henriksen et al. 2003 J Biol Chem 278:48745), and
with how full the pool is. Each free site is an independent Bernoulli trial per tick,
p = 1 − exp(−rate·occupancy·pool/pool_steady·dt), rate = ``recruitment_per_mm2_per_h`` × the site's area; the
pool loses what it gives and refills toward its steady count at ``renewal_per_h`` (progenitor proliferation
and influx in the marrow, lumped), and takes back the cells that leave the surface (osteoclast precursors'
egress). A pool cell runs no network: a perturbation of its receptor's signaling scales its recruitment by the
share of signaling it leaves (``Lineage.transmission``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def settling_probability(rate_per_h, c_nM, half_nM: float, dt_h: float, scale=1.0):
    """The chance that a cell drawn by a factor settles on a site in a tick: 1 − exp(−rate·c/(K + c)·scale·dt),
    the rate scaled by its receptor's occupancy by the factor there (and by ``scale``)."""
    return -np.expm1(-(rate_per_h * c_nM / (half_nM + c_nM) * scale) * dt_h)


@dataclass
class MarrowPool:
    field: str  # the factor that recruits
    half_nM: float  # its receptor's half-occupancy, nM
    steady_cells: float  # the pool's count with nothing recruited
    recruitment_per_site_h: float  # arrivals per free site per hour at full occupancy and a full pool
    renewal_per_h: float
    cells: float = -1.0  # the pool now (set to steady at the start)

    def __post_init__(self):
        if self.cells < 0:
            self.cells = self.steady_cells

    def recruit(self, fields, empty: np.ndarray, rng: np.random.Generator, dt_h: float, signal: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray]:
        """The free sites (x, y) on which a pool cell settles this tick; the pool gives them up, then renews.
        ``signal``: the share of the receptor's signaling that perturbations leave (0 under a full block)."""
        x = y = np.zeros(0, dtype=np.int64)
        if self.steady_cells > 0 and self.cells >= 1 and signal > 0:
            free_x, free_y = np.nonzero(empty)
            settles = rng.random(free_x.size) < settling_probability(
                self.recruitment_per_site_h * signal, fields.sites[self.field][free_x, free_y], self.half_nM, dt_h,
                self.cells / self.steady_cells)
            x, y = free_x[settles], free_y[settles]
            if x.size > self.cells:  # the pool runs dry: the first in random order come
                keep = np.sort(rng.permutation(x.size)[: int(self.cells)])
                x, y = x[keep], y[keep]
            self.cells -= x.size
        self.cells += (self.steady_cells - self.cells) * -np.expm1(-self.renewal_per_h * dt_h)
        return x, y


def marrow_pool(field: str, half_nM: float, per_mm2: float, recruitment_per_mm2_per_h: float, renewal_per_h: float,
                experiment) -> MarrowPool | None:
    """A lineage's pool over the experiment's surface from its config's densities; None if it has none."""
    if per_mm2 <= 0:
        return None
    domain = experiment.domain
    site_mm2 = (domain.grid_spacing_um / 1000.0) ** 2
    return MarrowPool(field, half_nM, per_mm2 * domain.area_cm2 * 100.0, recruitment_per_mm2_per_h * site_mm2,
                      renewal_per_h)
