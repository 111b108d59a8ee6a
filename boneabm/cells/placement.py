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
def _moore_neighbours(x, y, nx, ny, periodic, cx, cy):
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


@nb.njit(cache=True)
def claim_free_neighbours(empty, x, y, order, u_choice, periodic, vacate):
    """For each cell ``i`` in ``order``, claim a free Moore neighbour of ``(x[i], y[i])`` chosen uniformly
    with ``u_choice[i]``.

    ``empty`` (bool, shape (width, height)) is updated in place: a claimed site becomes occupied and, when
    ``vacate`` (a move rather than a division), the cell's own site becomes free. Returns the claimed sites'
    coordinates in the order processed, -1 where a cell found no free neighbour.
    """
    nx, ny = empty.shape
    n = order.shape[0]
    tx = np.full(n, -1, dtype=np.int64)
    ty = np.full(n, -1, dtype=np.int64)
    cx = np.empty(8, dtype=np.int64)
    cy = np.empty(8, dtype=np.int64)
    for k in range(n):
        i = order[k]
        count = 0
        for c in range(_moore_neighbours(x[i], y[i], nx, ny, periodic, cx, cy)):
            if empty[cx[c], cy[c]]:
                cx[count], cy[count] = cx[c], cy[c]
                count += 1
        if count == 0:
            continue
        pick = min(int(u_choice[i] * count), count - 1)
        tx[k], ty[k] = cx[pick], cy[pick]
        empty[tx[k], ty[k]] = False
        if vacate:
            empty[x[i], y[i]] = True
    return tx, ty


# what a site holds, for cells that crawl over others (``claim_passable_neighbours``)
FREE, YIELDING, BLOCKING = 0, 1, 2


@nb.njit(cache=True)
def claim_passable_neighbours(occupancy, bare, x, y, order, u_choice, periodic):
    """For each cell ``i`` in ``order``, claim a Moore neighbour of ``(x[i], y[i])`` that is free or holds a
    cell it can crawl over (``occupancy`` FREE or YIELDING; BLOCKING sites are closed), chosen uniformly with
    ``u_choice[i]`` among those over ``bare`` bone if there are any (its integrins find their matrix there),
    else among all. A crawler that enters a YIELDING site swaps places with the cell there, which takes the
    crawler's old site.

    ``occupancy`` (int8, shape (width, height)) is updated in place: the claimed site becomes BLOCKING (the
    crawlers are BLOCKING to each other) and the crawler's old site FREE, or YIELDING when it swapped. Returns
    the claimed sites' coordinates in the order processed (-1 where a cell found none) and whether each swapped.
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
        for c in range(_moore_neighbours(x[i], y[i], nx, ny, periodic, cx, cy)):
            if occupancy[cx[c], cy[c]] != BLOCKING:
                cx[count], cy[count] = cx[c], cy[c]
                count += 1
        if count == 0:
            continue
        n_bare = 0
        for c in range(count):  # the bare sites first, in the same order
            if bare[cx[c], cy[c]]:
                cx[n_bare], cx[c] = cx[c], cx[n_bare]
                cy[n_bare], cy[c] = cy[c], cy[n_bare]
                n_bare += 1
        if n_bare:
            count = n_bare
        pick = min(int(u_choice[i] * count), count - 1)
        tx[k], ty[k] = cx[pick], cy[pick]
        swapped[k] = occupancy[tx[k], ty[k]] == YIELDING
        occupancy[tx[k], ty[k]] = BLOCKING
        occupancy[x[i], y[i]] = YIELDING if swapped[k] else FREE
    return tx, ty, swapped
