"""Claiming free neighbouring sites: no double occupancy, crowding respected, uniform choice."""

import numpy as np
from scipy import stats

from boneabm.cells.placement import claim_free_neighbours


def claim(empty, xy, u, order=None, periodic=True, vacate=False):
    xy = np.asarray(xy, dtype=np.int64)
    order = np.arange(len(xy)) if order is None else np.asarray(order)
    return claim_free_neighbours(empty, xy[:, 0].copy(), xy[:, 1].copy(), order, np.asarray(u, float),
                                 periodic, vacate)


def test_two_cells_never_claim_the_same_site():
    empty = np.zeros((5, 5), bool)
    empty[2, 2] = True  # the only free site, next to both cells
    tx, ty = claim(empty, [(1, 1), (3, 3)], [0.0, 0.0])
    assert (tx[0], ty[0]) == (2, 2) and tx[1] == -1
    assert not empty.any()


def test_a_surrounded_cell_finds_no_site():
    empty = np.zeros((3, 3), bool)
    tx, _ = claim(empty, [(1, 1)], [0.5])
    assert tx[0] == -1


def test_a_move_frees_the_site_it_leaves_for_the_next_cell():
    empty = np.zeros((4, 1 + 3), bool)
    empty[0, 0] = True
    # cell A at (1, 0) moves into (0, 0); cell B at (2, 1) can then only step into A's old site
    tx, ty = claim(empty, [(1, 0), (2, 1)], [0.0, 0.0], periodic=False, vacate=True)
    assert (tx[0], ty[0]) == (0, 0)
    assert (tx[1], ty[1]) == (1, 0)


def test_periodic_edges_wrap_and_closed_edges_do_not():
    empty = np.zeros((6, 6), bool)
    empty[5, 5] = True
    assert claim(empty.copy(), [(0, 0)], [0.0], periodic=True)[0][0] == 5
    assert claim(empty.copy(), [(0, 0)], [0.0], periodic=False)[0][0] == -1


def test_the_target_is_uniform_over_free_neighbours():
    counts = np.zeros((5, 5), int)
    rng = np.random.default_rng(1)
    for u in rng.random(8000):
        empty = np.ones((5, 5), bool)
        empty[2, 2] = False
        tx, ty = claim(empty, [(2, 2)], [u])
        counts[tx[0], ty[0]] += 1
    observed = counts[1:4, 1:4].ravel()
    observed = np.delete(observed, 4)  # the cell's own site
    assert observed.sum() == 8000
    assert stats.chisquare(observed).pvalue > 1e-4
