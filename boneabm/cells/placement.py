"""Claiming free neighbouring grid sites, for a move or for a daughter cell.

Cells that want a site claim one in a given order; each sees the grid as the cells before it left it, so two
cells never take the same site and a cell may step into a site another has just vacated.
"""

import numba as nb
import numpy as np

# Moore neighbourhood offsets (dx, dy)
_DX = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DY = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)


@nb.njit(cache=True)
def moore_neighbours(x, y, nx, ny, periodic, cx, cy):
    """Write the Moore neighbours of (x, y) inside the domain (wrapped when ``periodic``) into ``cx``, ``cy`` in a
    fixed order; returns how many."""
    count = 0
    for o in range(8):
        ax = x + _DX[o]
        ay = y + _DY[o]
        if periodic:
            ax = (ax + nx) % nx
            ay = (ay + ny) % ny
        elif ax < 0 or ax >= nx or ay < 0 or ay >= ny:
            continue
        cx[count] = ax
        cy[count] = ay
        count += 1
    return count


# what a site holds for a cell claiming it: nothing, a cell it can crawl over, or one it cannot
FREE, YIELDING, BLOCKING = 0, 1, 2


@nb.njit(cache=True)
def claim_free_neighbours(empty, x, y, order, u_choice, periodic, vacate):
    """For each cell ``i`` in ``order``, claim a free Moore neighbour of ``(x[i], y[i])`` chosen uniformly
    with ``u_choice[i]``.

    ``empty`` (bool, shape (width, height)) is updated in place: a claimed site becomes occupied and, when
    ``vacate`` (a move rather than a division), the cell's own site becomes free. Returns the claimed sites'
    coordinates in the order processed, -1 where a cell found no free neighbour. The claim of crawling cells
    (``claim_neighbours``) with no cell to crawl over and every site as good as another. Compiled, with the map's
    conversions: as numpy calls between kernel calls that evict the map they cost ≈ 40 µs, twice a tick.
    """
    nx, ny = empty.shape
    occupancy = np.empty((nx, ny), dtype=np.int8)
    for i in range(nx):
        for j in range(ny):
            occupancy[i, j] = FREE if empty[i, j] else BLOCKING
    tx, ty, _ = claim_neighbours(occupancy, np.ones((nx, ny), dtype=np.bool_), x, y, order, u_choice, periodic,
                                 vacate)
    for i in range(nx):
        for j in range(ny):
            empty[i, j] = occupancy[i, j] == FREE
    return tx, ty


def claim_passable_neighbours(occupancy, bare, x, y, order, u_choice, periodic):
    """The claim of cells that crawl over others, moving (``claim_neighbours``); their integrins find their
    matrix only on ``bare`` bone."""
    return claim_neighbours(occupancy, bare, x, y, order, u_choice, periodic, True)


@nb.njit(cache=True)
def claim_neighbours(occupancy, preferred, x, y, order, u_choice, periodic, vacate):
    """For each cell ``i`` in ``order``, claim a Moore neighbour of ``(x[i], y[i])`` that is free or holds a
    cell it can crawl over (``occupancy`` FREE or YIELDING; BLOCKING sites are closed), chosen uniformly with
    ``u_choice[i]`` among the ``preferred`` ones if there are any, else among all. A cell that enters a YIELDING
    site swaps places with the cell there, which takes its old site.

    ``occupancy`` (int8, shape (width, height)) is updated in place: the claimed site becomes BLOCKING (the
    claimants are BLOCKING to each other) and, when ``vacate`` (a move rather than a division), the cell's old
    site FREE, or YIELDING when it swapped. Returns the claimed sites' coordinates in the order processed (-1
    where a cell found none) and whether each swapped.
    """
    nx, ny = occupancy.shape
    n = order.shape[0]
    tx = np.full(n, -1, dtype=np.int64)
    ty = np.full(n, -1, dtype=np.int64)
    swapped = np.zeros(n, dtype=np.bool_)
    cx = np.empty(8, dtype=np.int64)
    cy = np.empty(8, dtype=np.int64)
    for k in range(n):
        i = order[k]
        count = 0
        for c in range(moore_neighbours(x[i], y[i], nx, ny, periodic, cx, cy)):
            if occupancy[cx[c], cy[c]] != BLOCKING:
                cx[count], cy[count] = cx[c], cy[c]
                count += 1
        if count == 0:
            continue
        n_preferred = 0
        for c in range(count):  # the preferred sites first, in the same order
            if preferred[cx[c], cy[c]]:
                cx[n_preferred], cx[c] = cx[c], cx[n_preferred]
                cy[n_preferred], cy[c] = cy[c], cy[n_preferred]
                n_preferred += 1
        if n_preferred:
            count = n_preferred
        pick = min(int(u_choice[i] * count), count - 1)
        tx[k], ty[k] = cx[pick], cy[pick]
        swapped[k] = occupancy[tx[k], ty[k]] == YIELDING
        occupancy[tx[k], ty[k]] = BLOCKING
        if vacate:
            occupancy[x[i], y[i]] = YIELDING if swapped[k] else FREE
    return tx, ty, swapped
