"""Osteoclast precursors (bone-marrow macrophages): what they do and how fast, and the lineage cell agent.

A precursor lives, divides and dies by M-CSF (CSF-1), and wanders by a random walk into free neighbouring
sites. The rates below are the biology; ``BoneModel`` decides them for all cells at once as array masks and
calls the agent methods only for the cells whose state changes. What committed and fused cells do is in
``osteoclast.py``.
"""

import numpy as np
from mesa.discrete_space import CellAgent

from boneabm.config import PrecursorConfig

# Mean squared displacement of one hop on the Moore lattice, in units of the site pitch squared: four hops of
# length 1 and four diagonal hops of length sqrt(2), equally likely.
_MOORE_HOP_MSD = (4 * 1.0 + 4 * 2.0) / 8


def hill(concentration, ec50, n):
    """Fraction of maximal response, c^n / (ec50^n + c^n)."""
    c = np.power(np.maximum(concentration, 0.0), n)
    return c / (ec50**n + c)


def division_rate_per_h(mcsf_ng_ml, cfos_per_nucleus, p: PrecursorConfig):
    """M-CSF drives proliferation (Tushinski & Stanley 1985); RANKL signaling through c-Fos withdraws the cell
    from the cycle (Sankar et al. 2004)."""
    arrest = 1.0 - hill(cfos_per_nucleus, p.division_arrest_cfos_molecules, 2.0)
    return p.division_rate_max_per_h * hill(mcsf_ng_ml, p.division_mcsf_ec50_ng_ml, p.division_hill_n) * arrest


def death_rate_per_h(mcsf_ng_ml, p: PrecursorConfig):
    """Without M-CSF macrophages die by apoptosis within days; low M-CSF already keeps them alive
    (Tushinski et al. 1982)."""
    survival = hill(mcsf_ng_ml, p.survival_mcsf_ec50_ng_ml, p.survival_hill_n)
    return p.death_rate_basal_per_h + (p.death_rate_no_mcsf_per_h - p.death_rate_basal_per_h) * (1.0 - survival)


def hop_rate_per_h(p: PrecursorConfig, grid_spacing_um: float) -> float:
    """Hop rate that gives diffusivity D on an empty Moore lattice: D = rate·MSD/4 in two dimensions."""
    return 4.0 * p.motility_um2_per_h / (_MOORE_HOP_MSD * grid_spacing_um**2)


def probability(rate_per_h, dt_h):
    """Probability that an event of constant rate happens within one tick."""
    return -np.expm1(-np.asarray(rate_per_h) * dt_h)


class LineageCell(CellAgent):
    """A cell of the osteoclast lineage on one grid site, from bone-marrow macrophage to multinucleated
    osteoclast; its numbers live in row ``row`` of the population, its stage follows from them."""

    def __init__(self, model, cell, born_h: float, generation: int):
        super().__init__(model)
        self.cell = cell
        x, y = cell.coordinate
        self.row = model.population.add(self, x, y, born_h, generation)

    def move_to_site(self, cell) -> None:
        population = self.model.population
        if population.nuclei[self.row] > 1:
            dx, dy = np.subtract(cell.coordinate, self.cell.coordinate)
            periodic, shape = self.model.experiment.domain.periodic, self.model.experiment.domain.shape
            if periodic:  # a hop across the edge is one step, not the domain's width
                dx, dy = (dx + 1) % shape[0] - 1, (dy + 1) % shape[1] - 1
            population.distance_um[self.row] += np.hypot(dx, dy) * self.model.experiment.domain.grid_spacing_um
        self.cell = cell
        population.x[self.row], population.y[self.row] = cell.coordinate

    def divide(self, cell) -> "LineageCell":
        """Divide into ``cell``: both daughters are one generation on; the one placed there gets a new id and
        stream, this one keeps its own."""
        population = self.model.population
        population.generation[self.row] += 1
        return LineageCell(self.model, cell, self.model.time_h, int(population.generation[self.row]))

    def absorb(self, other: "LineageCell") -> None:
        """Fuse ``other`` into this cell: the cytoplasm is pooled (molecules, nuclei, hence volume, and
        counters add up); ``other`` leaves the grid and the model."""
        pop = self.model.population
        for column in ("molecules", "counters", "nuclei"):
            getattr(pop, column)[self.row] += getattr(pop, column)[other.row]
        pop.committed[self.row] = True
        pop.max_nuclei[self.row] = max(pop.max_nuclei[self.row], pop.nuclei[self.row])
        other.die()

    def die(self) -> None:
        self.model.population.release(self.row)
        self.remove()
