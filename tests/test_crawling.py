"""A moving osteoclast crawls over the mononuclear cells in its way (`osteoclasts.crawl_over_mononuclear_cells`),
swapping sites with the one it meets, but never over another osteoclast or a lining cell; Mesa's grid and the
population arrays agree after every swap."""

import numpy as np

from boneabm.cells.motility import occupancy
from boneabm.cells.placement import BLOCKING, FREE, YIELDING, claim_passable_neighbours
from boneabm.catalog import find
from boneabm.yamlio import read_yaml as load_yaml
from boneabm.config import load_experiment
from boneabm.model import BoneModel

BARE = np.ones((5, 5), dtype=np.bool_)
FROZEN = {"division_rate_max_per_h": 0.0, "death_rate_basal_per_h": 0.0, "death_rate_no_mcsf_per_h": 0.0}


def test_a_crawler_takes_a_free_or_yielding_neighbour_never_a_blocking_one():
    occupancy = np.full((5, 5), BLOCKING, dtype=np.int8)
    occupancy[1, 2] = YIELDING
    occupancy[3, 3] = FREE
    x, y = np.array([2, 2]), np.array([2, 2])  # two crawlers asking for the same neighbourhood in turn
    picks = {}
    for u in np.linspace(0.01, 0.99, 7):
        grid = occupancy.copy()
        grid[2, 2] = BLOCKING
        tx, ty, swapped = claim_passable_neighbours(grid, BARE, x[:1], y[:1], np.array([0]), np.array([u]), False)
        picks[(int(tx[0]), int(ty[0]))] = bool(swapped[0])
        # the crawler blocks its new site; its old one holds the cell it swapped with, or nothing
        assert grid[tx[0], ty[0]] == BLOCKING
        assert grid[2, 2] == (YIELDING if swapped[0] else FREE)
    assert picks == {(1, 2): True, (3, 3): False}  # both open sites, and only they, are taken
    # the second of two crawlers finds the first one's new site closed
    grid = occupancy.copy()
    tx, ty, swapped = claim_passable_neighbours(grid, BARE, np.array([2, 2]), np.array([2, 2]), np.array([0, 1]),
                                                np.array([0.01, 0.01]), False)
    assert (tx[0], ty[0]) == (1, 2) and (tx[1], ty[1]) != (1, 2)


def packed_culture(crawl: bool):
    experiment = load_experiment(data={
        "seed": 5, "domain": {"width_um": 250, "height_um": 250},
        "precursors": {"plating_density_per_cm2": 1.6e5, **FROZEN},
        "osteoclasts": {"crawl_over_mononuclear_cells": crawl}})
    model = BoneModel(experiment)
    assert not model.grid.empty.data.any()  # one cell per site: no mononuclear cell can move
    lineage = model.osteoclasts
    pop = lineage.population
    site_row = {(int(pop.x[r]), int(pop.y[r])): r for r in pop.rows}
    # two of them side by side: they may not swap with each other
    crawlers = np.array([site_row[site] for site in [(1, 1), (5, 5), (5, 6), (8, 2)]])
    pop.nuclei[crawlers] = 8
    return model, lineage, pop, crawlers


def test_osteoclasts_cross_a_packed_monolayer_by_swapping_and_the_grid_stays_consistent():
    model, lineage, pop, crawlers = packed_culture(crawl=True)
    start = np.column_stack([pop.x[crawlers], pop.y[crawlers]])
    rng = np.random.default_rng(0)
    for _ in range(50):
        lineage._crawl(crawlers, rng.random(crawlers.size), rng.random(crawlers.size), model.bone.bare_sites())
    moved = np.column_stack([pop.x[crawlers], pop.y[crawlers]])
    assert (moved != start).any(axis=1).all()
    # every one hopped at each of the 50 calls
    assert (pop.distance_um[crawlers] >= 50 * model.experiment.domain.grid_spacing_um).all()
    # still one cell per site, and Mesa's cells, the empty layer and the arrays agree
    occupied = np.zeros(model.experiment.domain.shape, bool)
    for agent in model.agents:
        x, y = agent.cell.coordinate
        assert (pop.x[agent.row], pop.y[agent.row]) == (x, y)
        assert not occupied[x, y] and agent.cell.agents == [agent]
        occupied[x, y] = True
    assert occupied.all() and not model.grid.empty.data.any()


def test_without_crawling_the_osteoclasts_of_a_packed_monolayer_stay_where_they_are():
    model, lineage, pop, crawlers = packed_culture(crawl=False)
    before = np.column_stack([pop.x[crawlers], pop.y[crawlers]])
    pop.mode[crawlers] = 1  # migrating: they would hop if they could
    for _ in range(10):
        model.step()
    alive = crawlers[pop.alive[crawlers]]
    assert alive.size >= 3
    assert np.array_equal(np.column_stack([pop.x[alive], pop.y[alive]]), before[pop.alive[crawlers]])


def test_a_crawler_keeps_to_bare_bone_where_its_neighbourhood_has_any():
    """Its integrins find their matrix only on bare mineralised bone: of its open neighbours it takes a bare one,
    whichever its draw; with none bare, any."""
    occupancy = np.full((5, 5), FREE, dtype=np.int8)
    bare = np.zeros((5, 5), dtype=np.bool_)
    bare[3, 1] = True
    taken = set()
    for u in np.linspace(0.01, 0.99, 9):
        tx, ty, _ = claim_passable_neighbours(occupancy.copy(), bare, np.array([2]), np.array([2]), np.array([0]),
                                              np.array([u]), False)
        taken.add((int(tx[0]), int(ty[0])))
    assert taken == {(3, 1)}
    taken = set()
    for u in np.linspace(0.01, 0.99, 9):
        tx, ty, _ = claim_passable_neighbours(occupancy.copy(), ~BARE, np.array([2]), np.array([2]), np.array([0]),
                                              np.array([u]), False)
        taken.add((int(tx[0]), int(ty[0])))
    assert len(taken) == 8


def test_lining_cells_and_osteoclasts_block_a_crawler_and_other_cells_yield():
    """Lining cells cover the quiescent surface and keep osteoclasts off it (Everts et al. 2002); an osteoclast
    cannot crawl over another; reversal cells, osteoblasts and precursors yield."""
    data = load_yaml(find("bmu").path)
    data["domain"].update(width_um=250, height_um=250)
    data["osteocytes"]["activations"] = []
    data["seed"] = 1
    model = BoneModel(load_experiment(data=data))
    blasts = model.lineages["osteoblast"].population
    rows = blasts.rows
    assert rows.size and blasts.lining[rows].all()
    assert (occupancy(model)[blasts.x[rows], blasts.y[rows]] == BLOCKING).all()
    lifted = rows[:5]
    blasts.lining[lifted] = False  # as reversal cells
    codes = occupancy(model)
    assert (codes[blasts.x[lifted], blasts.y[lifted]] == YIELDING).all()
    assert (codes[blasts.x[rows[5:-2]], blasts.y[rows[5:-2]]] == BLOCKING).all()
    model.lineages["osteoblast"].die(rows[-2:])  # room for two osteoclast-lineage cells
    clasts = model.osteoclasts
    clasts.plate(clasts.free_sites(2))
    cells = clasts.population.rows
    clasts.population.nuclei[cells[0]] = 6
    codes = occupancy(model)
    x, y = clasts.population.x[cells], clasts.population.y[cells]
    assert codes[x[0], y[0]] == BLOCKING and codes[x[1], y[1]] == YIELDING
    assert (codes[model.grid.empty.data] == FREE).all()
