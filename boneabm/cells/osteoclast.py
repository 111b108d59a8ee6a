"""Osteoclasts: how lineage cells commit, fuse, resorb, move and die, from their molecule counts.

Stages follow from each cell's signaling state, never from timers (per nucleus, so a fused cell is judged by
its concentrations):
  precursor        mononuclear, TRAP below threshold; divides on M-CSF
  pre-osteoclast   TRAP⁺ (TRAP ≥ threshold): committed for good, stops dividing
  fusion-competent a committed cell with DC-STAMP and OC-STAMP above threshold (both master fusogens are needed:
                   Yagi 2005, Witwicka 2015)
  multinucleated   ≥ 2 nuclei; an osteoclast from ``min_nuclei`` on, which resorbs
Multinucleated cells cycle between migrating and resorbing, in place (a pit) or while moving (a trench). The
per-tick rules (commitment, death, fusion drive, modes) are in ``fates.py``; here are the stages, resorption and
the choice of fusion partners.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from boneabm.cells.fates import hill
from boneabm.config import OsteoclastConfig

MODE_NAMES = np.array(["none", "migrating", "pit", "trench"])
# species the rules read from the network
STAGE_SPECIES = ("cFos", "TRAP", "DC_STAMP", "OC_STAMP", "CtsK", "Atp6v0d2", "Itgb3")

_DX = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DY = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)


def stages(nuclei, committed, min_nuclei: int) -> np.ndarray:
    """Each cell's stage name: precursor, preosteoclast (TRAP⁺ mononuclear), multinucleated, osteoclast."""
    return np.select([nuclei >= min_nuclei, nuclei > 1, committed], ["osteoclast", "multinucleated", "preosteoclast"],
                     "precursor")


def resorption_um3_per_h(nuclei, trap, ctsk, atp6v0d2, itgb3, p: OsteoclastConfig):
    """Mineral and collagen removal rates of an osteoclast, µm³/h, from its size and function genes.

    Integrin β3 (sealing zone) and Atp6v0d2 (acidification) gate demineralisation; TRAP adds to it; cathepsin K
    decides how much of the demineralised collagen is degraded (Saftig 1998: without it, collagen remains).
    """
    k = p.function_gene_half_molecules
    activity = hill(itgb3 / nuclei, k, 1.0) * hill(atp6v0d2 / nuclei, k, 1.0) * (0.5 + 0.5 * hill(trap / nuclei, k, 1.0))
    mineral = p.resorption_um3_per_h_per_nucleus * nuclei * activity
    return mineral, mineral * hill(ctsk / nuclei, k, 1.0)


def footprint_radius_um(nuclei, p: OsteoclastConfig):
    return p.footprint_radius_um_per_sqrt_nucleus * np.sqrt(nuclei)


@nb.njit(cache=True)
def choose_fusions(site_row, x, y, order, rank, drive, u_fuse, u_partner, rate_dt, periodic):
    """Pairs of fusion-competent neighbours that fuse this tick.

    ``order`` lists competent rows by their per-cell priority draw; ``rank[row]`` is a row's place in it (-1 if
    not competent). Each unordered pair is considered once, by its earlier member: that cell fuses with some
    later, still-free competent neighbour j with probability 1 - exp(-rate·dt·Σ_j drive_i·drive_j), the partner
    drawn in proportion to drive_i·drive_j. A cell fuses at most once per tick. Returns (first, second) rows.
    """
    nx, ny = site_row.shape
    taken = np.zeros(rank.shape[0], dtype=np.bool_)
    first = np.empty(order.shape[0], dtype=np.int64)
    second = np.empty(order.shape[0], dtype=np.int64)
    weights = np.empty(8)
    partners = np.empty(8, dtype=np.int64)
    n_pairs = 0
    for k in range(order.shape[0]):
        i = order[k]
        if taken[i]:
            continue
        total, count = 0.0, 0
        for o in range(8):
            ax, ay = x[i] + _DX[o], y[i] + _DY[o]
            if periodic:
                ax, ay = (ax + nx) % nx, (ay + ny) % ny
            elif ax < 0 or ax >= nx or ay < 0 or ay >= ny:
                continue
            j = site_row[ax, ay]
            if j < 0 or rank[j] <= k or taken[j]:
                continue
            weights[count] = drive[i] * drive[j]
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
