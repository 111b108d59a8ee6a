"""How cells move between grid sites: a random walk calibrated to a diffusivity, and batched moves."""

import numpy as np

from boneabm.cells.placement import BLOCKING, FREE, YIELDING

# Mean squared displacement of one hop on the Moore lattice, in units of the site pitch squared: four hops of
# length 1 and four diagonal hops of length sqrt(2), equally likely.
_MOORE_HOP_MSD = (4 * 1.0 + 4 * 2.0) / 8


def hop_rate_per_h(motility_um2_per_h: float, grid_spacing_um: float) -> float:
    """Hop rate that gives diffusivity D on an empty Moore lattice: D = rate·MSD/4 in two dimensions."""
    return 4.0 * motility_um2_per_h / (_MOORE_HOP_MSD * grid_spacing_um**2)


def move(population, model, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Move the cells in ``rows`` to the free neighbouring sites (x, y) that ``claim_free_neighbours`` gave them,
    in that order (a cell may step into a site vacated earlier in the batch). Returns each hop's length, µm.

    Mesa has no batch move, and its one-agent move (``agent.cell = cell``) touches the agent and both cells'
    lists and writes the grid's ``empty`` layer twice. Here the agents' rows and the sites' occupants
    (``model.site_agent``, which Mesa's cells read: ``cells/sites.py``) and the ``empty`` layer are written
    once for the batch; tests/test_precursors.py checks agents, cells and the layer agree.
    """
    domain = model.experiment.domain
    old_x, old_y = population.x[rows], population.y[rows]
    dx, dy = x - old_x, y - old_y
    if domain.periodic:  # a hop across the edge is one step, not the domain's width
        dx, dy = (dx + 1) % domain.shape[0] - 1, (dy + 1) % domain.shape[1] - 1
    population.x[rows], population.y[rows] = x, y
    # left first, then entered: a site left and entered in the same batch is held by the one that entered
    model.site_agent[old_x, old_y] = None
    model.site_agent[x, y] = population.agent[rows]
    empty = model.grid.empty.data
    empty[old_x, old_y] = True
    empty[x, y] = False
    return np.hypot(dx, dy) * domain.grid_spacing_um


def occupancy(model) -> np.ndarray:
    """What each site holds for a crawling osteoclast (``placement.claim_passable_neighbours``): nothing, a cell
    it can crawl over (each lineage says which of its cells yield, ``Lineage.yielding``), or one it cannot."""
    codes = np.where(model.grid.empty.data, FREE, BLOCKING).astype(np.int8)
    for lineage in model.lineages.values():
        rows = lineage.population.rows
        rows = rows[lineage.yielding(rows)]
        codes[lineage.population.x[rows], lineage.population.y[rows]] = YIELDING
    return codes


def crawl(population, model, rows: np.ndarray, x: np.ndarray, y: np.ndarray, swapped: np.ndarray) -> np.ndarray:
    """Move the cells in ``rows`` to the neighbouring sites (x, y) that ``claim_passable_neighbours`` gave them,
    in that order; where ``swapped``, the cell that held the site takes the mover's old one. Returns each hop's
    length, µm. One cell at a time, as the claims were made: a few dozen osteoclasts a tick."""
    step_um = np.zeros(rows.size)
    for k, (row, tx, ty) in enumerate(zip(rows, x, y)):
        old = (population.x[row], population.y[row])
        yielding = model.site_agent[tx, ty] if swapped[k] else None
        step_um[k] = move(population, model, rows[k:k + 1], x[k:k + 1], y[k:k + 1])[0]
        if yielding is not None:  # it takes the site move() has just freed
            other = yielding.lineage.population
            other.x[yielding.row], other.y[yielding.row] = old
            model.site_agent[old] = yielding
            model.grid.empty.data[old] = False
    return step_um
