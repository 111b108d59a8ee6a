"""The lineage cell agent, from bone-marrow macrophage to multinucleated osteoclast, and how cells move.

What a cell does each tick is decided for all cells at once in ``fates.py``; the agents are touched only for
the cells whose state changes: birth, death, fusion and moves between grid sites. What committed and fused
cells are and do is in ``osteoclast.py``.
"""

import numpy as np
from mesa.discrete_space import CellAgent

from boneabm.config import PrecursorConfig

# Mean squared displacement of one hop on the Moore lattice, in units of the site pitch squared: four hops of
# length 1 and four diagonal hops of length sqrt(2), equally likely.
_MOORE_HOP_MSD = (4 * 1.0 + 4 * 2.0) / 8


def hop_rate_per_h(p: PrecursorConfig, grid_spacing_um: float) -> float:
    """Hop rate that gives diffusivity D on an empty Moore lattice: D = rate·MSD/4 in two dimensions."""
    return 4.0 * p.motility_um2_per_h / (_MOORE_HOP_MSD * grid_spacing_um**2)


def move(model, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Move the cells in ``rows`` to the free neighbouring sites (x, y) that ``claim_free_neighbours`` gave them,
    in that order (a cell may step into a site vacated earlier in the batch). Multinucleated cells add the hop to
    the path they have travelled.

    Mesa has no batch move, and its one-agent move (``agent.cell = cell``) writes the grid's ``empty`` layer
    twice per agent: at a thousand moves a tick that was a tenth of the tick. Here each agent changes cell
    through the same three attributes Mesa's setter changes, and the ``empty`` layer is written once for the
    batch; tests/test_precursors.py checks agents, cells and the layer agree.
    """
    population, domain = model.population, model.experiment.domain
    old_x, old_y = population.x[rows], population.y[rows]
    dx, dy = x - old_x, y - old_y
    if domain.periodic:  # a hop across the edge is one step, not the domain's width
        dx, dy = (dx + 1) % domain.shape[0] - 1, (dy + 1) % domain.shape[1] - 1
    population.distance_um[rows] += np.where(population.nuclei[rows] > 1, np.hypot(dx, dy), 0.0) \
        * domain.grid_spacing_um
    population.x[rows], population.y[rows] = x, y
    for agent, old, new in zip(population.agent[rows], model.site_cells[old_x, old_y], model.site_cells[x, y]):
        old._agents.remove(agent)
        new._agents.append(agent)
        agent._mesa_cell = new
    empty = model.grid.empty.data
    empty[old_x, old_y] = True
    empty[x, y] = False  # after: a site left and entered in the same batch is occupied


class LineageCell(CellAgent):
    """A cell of the osteoclast lineage on one grid site, from bone-marrow macrophage to multinucleated
    osteoclast; its numbers live in row ``row`` of the population, its stage follows from them."""

    def __init__(self, model, cell, born_h: float, generation: int):
        super().__init__(model)
        self.cell = cell
        x, y = cell.coordinate
        self.row = model.population.add(self, x, y, born_h, generation)

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
