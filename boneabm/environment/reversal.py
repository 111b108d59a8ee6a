"""Reversal: what the osteoblast-lineage cells on an eroded surface do before any osteoid is laid there.

Osteoclasts leave a thin fringe of demineralised collagen in their lacunae (cathepsin K lags the acid: the
``collagen_fringe_half_um`` of OsteoclastConfig). Reversal cells, osteoblast-lineage cells that sit on the eroded
surface, digest these remnants with matrix metalloproteinases and then lay a thin cement line, on which osteoblasts
lay osteoid (Everts et al. 2002 JBMR 17:77; Delaissé 2014 BoneKEy Rep 3:561). So the reversal phase lasts as long
as the cells present take to clear the remnants and cement the surface: it follows from how many reversal cells
there are, how much the osteoclasts left and the rates of OsteoblastConfig, not from a timer.

A cell works on its own site's pixels: all its time goes to the remnants while any are left (the cement line
needs a clean surface), the rest of it to the cement line.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def prepare_sites(mineral_um, collagen_um, cement_um, x_sites, y_sites, pixels_per_site, clear_um3, cement_um3,
                  cement_line_um, pixel_area_um2):
    """Each cell at (x_sites[k], y_sites[k]) in turn spends its tick on its site: clearing up to ``clear_um3`` of
    remnants (the collagen depth catches up with the mineral depth, in proportion under every pixel), then, once
    its site is clean, laying cement up to ``cement_line_um`` with the time left (``cement_um3`` for a whole tick).
    Updates ``collagen_um`` and ``cement_um`` in place; returns the remnants cleared, µm³."""
    p = pixels_per_site
    cleared_um3 = 0.0
    for k in range(x_sites.shape[0]):
        x0, y0 = x_sites[k] * p, y_sites[k] * p
        remnant_um3 = 0.0
        for i in range(x0, x0 + p):
            for j in range(y0, y0 + p):
                remnant_um3 += (mineral_um[i, j] - collagen_um[i, j]) * pixel_area_um2
        time_left = 1.0
        if remnant_um3 > 0.0:
            if clear_um3 <= remnant_um3:
                share = clear_um3 / remnant_um3
                for i in range(x0, x0 + p):
                    for j in range(y0, y0 + p):
                        collagen_um[i, j] += share * (mineral_um[i, j] - collagen_um[i, j])
                cleared_um3 += clear_um3
                continue
            for i in range(x0, x0 + p):
                for j in range(y0, y0 + p):
                    collagen_um[i, j] = mineral_um[i, j]
            cleared_um3 += remnant_um3
            time_left = 1.0 - remnant_um3 / clear_um3
        missing_um3 = 0.0
        for i in range(x0, x0 + p):
            for j in range(y0, y0 + p):
                missing_um3 += max(cement_line_um - cement_um[i, j], 0.0) * pixel_area_um2
        if missing_um3 <= 0.0:
            continue
        share = min(cement_um3 * time_left / missing_um3, 1.0)
        for i in range(x0, x0 + p):
            for j in range(y0, y0 + p):
                if share >= 1.0:
                    cement_um[i, j] = max(cement_um[i, j], cement_line_um)
                else:
                    cement_um[i, j] += share * max(cement_line_um - cement_um[i, j], 0.0)
    return cleared_um3


def cemented_sites(cement_um: np.ndarray, pixels_per_site: int, cement_line_um: float) -> np.ndarray:
    """Sites whose every pixel carries a complete cement line."""
    p = pixels_per_site
    nx, ny = cement_um.shape
    return cement_um.reshape(nx // p, p, ny // p, p).min(axis=(1, 3)) >= cement_line_um
