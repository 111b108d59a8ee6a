"""Fusion: which fusion-competent neighbours fuse in a tick, and which partner survives."""

from __future__ import annotations

import numba as nb
import numpy as np

from boneabm.cells.placement import moore_neighbours


def survivor_first(nuclei_a: int, id_a: int, nuclei_b: int, id_b: int) -> bool:
    """Whether partner a survives a fusion with b: the one with more nuclei (the older, lower id on a tie)
    keeps its id and random stream."""
    return (-nuclei_a, id_a) <= (-nuclei_b, id_b)


@nb.njit(cache=True)
def competent_cells(rows, drive, u_order, x, y, n_rows, shape):
    """What ``choose_fusions`` reads of the competent cells in population ``rows`` (fusion ``drive`` and priority
    draw ``u_order`` each): their order by the draw (stable), each row's place in it and drive (-1 and 0 for
    rows not listed; ``n_rows`` of each) and the row on each site (-1 where none). One compiled pass: as numpy
    calls, between kernel calls that evict what they touch, they cost ≈ 25 µs a tick."""
    order = np.argsort(u_order, kind="mergesort")
    rank = np.full(n_rows, -1, dtype=np.int64)
    drive_of_row = np.zeros(n_rows)
    site_row = np.full(shape, -1, dtype=np.int64)
    for k in range(order.shape[0]):
        rank[rows[order[k]]] = k
    for i in range(rows.shape[0]):
        drive_of_row[rows[i]] = drive[i]
        site_row[x[rows[i]], y[rows[i]]] = rows[i]
    return order, rank, drive_of_row, site_row


@nb.njit(cache=True)
def choose_fusions(site_row, x, y, nuclei, order, rank, drive, u_fuse, u_partner, rate_dt, multinucleated_pair_factor,
                   periodic):
    """Pairs of fusion-competent neighbours that fuse this tick.

    ``order`` lists competent rows by their per-cell priority draw; ``rank[row]`` is a row's place in it (-1 if
    not competent). Each unordered pair is considered once, by its earlier member: that cell fuses with some
    later, still-free competent neighbour j with probability 1 - exp(-rate·dt·Σ_j w_ij), w_ij = drive_i·drive_j
    (times ``multinucleated_pair_factor`` when both have more than one nucleus), the partner drawn in proportion
    to w_ij. A cell fuses at most once per tick. Returns (first, second) rows.
    """
    nx, ny = site_row.shape
    taken = np.zeros(rank.shape[0], dtype=np.bool_)
    first = np.empty(order.shape[0], dtype=np.int64)
    second = np.empty(order.shape[0], dtype=np.int64)
    weights = np.empty(8)
    partners = np.empty(8, dtype=np.int64)
    cx = np.empty(8, dtype=np.int64)
    cy = np.empty(8, dtype=np.int64)
    n_pairs = 0
    for k in range(order.shape[0]):
        i = order[k]
        if taken[i]:
            continue
        total, count = 0.0, 0
        for c in range(moore_neighbours(x[i], y[i], nx, ny, periodic, cx, cy)):
            j = site_row[cx[c], cy[c]]
            if j < 0 or rank[j] <= k or taken[j]:
                continue
            weights[count] = drive[i] * drive[j]
            if nuclei[i] > 1 and nuclei[j] > 1:
                weights[count] *= multinucleated_pair_factor
            partners[count] = j
            total += weights[count]
            count += 1
        if count == 0 or u_fuse[k] >= -np.expm1(-rate_dt * total):
            continue
        target = u_partner[k] * total
        pick, acc = 0, weights[0]
        while acc <= target and pick < count - 1:
            pick += 1
            acc += weights[pick]
        j = partners[pick]
        taken[i] = True
        taken[j] = True
        first[n_pairs], second[n_pairs] = i, j
        n_pairs += 1
    return first[:n_pairs], second[:n_pairs]
