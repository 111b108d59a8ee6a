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
        for o in range(8):
            ax = x[i] + _DX[o]
            ay = y[i] + _DY[o]
            if periodic:
                ax = (ax + nx) % nx
                ay = (ay + ny) % ny
            elif ax < 0 or ax >= nx or ay < 0 or ay >= ny:
                continue
            if empty[ax, ay]:
                cx[count] = ax
                cy[count] = ay
                count += 1
        if count == 0:
            continue
        pick = min(int(u_choice[i] * count), count - 1)
        tx[k], ty[k] = cx[pick], cy[pick]
        empty[tx[k], ty[k]] = False
        if vacate:
            empty[x[i], y[i]] = True
    return tx, ty
