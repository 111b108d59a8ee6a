"""What each osteoblast-lineage cell does in one tick — die, divide, hop, commit — from its molecule counts per
nucleus: the rates as small functions of one cell, and the kernel that applies them to every living cell.

Progenitors divide while their nuclear phospho-SMAD2/3 (active TGF-β1) lasts and wander by a random walk; a
progenitor whose Osterix reaches ``commitment_osterix_molecules`` commits for good, stops dividing and stays put;
once its Osterix falls again (Wnt lost to sclerostin, say), it stops making matrix and flattens into a lining cell.
A matrix-making osteoblast is embedded in its matrix as an osteocyte with a probability in proportion to the
matrix it lays, so the new bone holds osteocytes at ``embedding_osteocytes_per_mm3`` (the osteocytes already in
the new bone, their reach outgrown, recruit the osteoblast above them: Marotti 1996; Franz-Odendaal et al. 2006).
Every cell's apoptosis falls with its Bcl-2 family proteins, which PTH (PKA) and Wnt (β-catenin) raise.

Kept in one module with the kernel that calls its helpers, as the osteoclast lineage's fates are: numba's
cache does not notice an edit to a compiled helper in another module.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from boneabm.config import OsteoblastConfig

BCL2_HILL = 2.0  # calibrated: survival proteins hold apoptosis off cooperatively (they sequester BH3 proteins)
# Uniforms each living cell draws from its own stream per tick, by column.
U_DEATH, U_DIVIDE, U_HOP, U_SITE, U_ORDER, U_FLATTEN, U_EMBED = range(7)
N_UNIFORMS = 7
UM3_PER_MM3 = 1e9
OSTERIX_HILL = 4.0  # calibrated: flattening waits until Osterix has clearly fallen, not on a dip of a few molecules


class OsteoblastParameters(NamedTuple):
    division_rate_max_per_h: float
    division_smad_half_molecules: float
    commitment_osterix_molecules: float
    death_rate_max_per_h: float
    death_bcl2_half_molecules: float
    lining_osterix_molecules: float
    flattening_rate_max_per_h: float
    embedding_per_um3: float  # osteocytes the new bone gets per µm³ laid


def osteoblast_parameters(config: OsteoblastConfig) -> OsteoblastParameters:
    names = OsteoblastParameters._fields[:-1]
    return OsteoblastParameters(*(float(getattr(config, name)) for name in names),
                                config.embedding_osteocytes_per_mm3 / UM3_PER_MM3)


def fate_shares(apoptoses: float, embedded: float, flattened: float) -> dict[str, float]:
    """The shares of the matrix-making osteoblasts that ended by apoptosis, embedding as osteocytes and
    flattening into lining cells (NaN before any has ended)."""
    total = apoptoses + embedded + flattened
    return {fate: (n / total if total else float("nan"))
            for fate, n in (("apoptosis", apoptoses), ("osteocyte", embedded), ("lining", flattened))}


@nb.njit(cache=True)
def division_rate_per_h(smad_per_nucleus, q):
    """A progenitor divides in proportion to the saturable SMAD2/3 signal TGF-β1 keeps up (Tang 2009)."""
    s = max(smad_per_nucleus, 0.0)
    return q.division_rate_max_per_h * s / (q.division_smad_half_molecules + s)


@nb.njit(cache=True)
def death_rate_per_h(bcl2_per_nucleus, q):
    """Apoptosis held off by the Bcl-2 family: max·K²/(K² + Bcl2²)."""
    k2 = q.death_bcl2_half_molecules ** BCL2_HILL
    return q.death_rate_max_per_h * k2 / (k2 + max(bcl2_per_nucleus, 0.0) ** BCL2_HILL)


@nb.njit(cache=True)
def flattening_rate_per_h(osterix_per_nucleus, q):
    """A matrix-making osteoblast flattens as its Osterix, hence its collagen synthesis, falls."""
    k4 = q.lining_osterix_molecules ** OSTERIX_HILL
    return q.flattening_rate_max_per_h * k4 / (k4 + max(osterix_per_nucleus, 0.0) ** OSTERIX_HILL)


@nb.njit(cache=True)
def decide(u, rows, nuclei, molecules, columns, committed, laid_um3, dt_h, hop_rate_per_h, q):
    """Who dies, divides, hops, commits, flattens and is embedded this tick. ``columns``: the species columns of
    proliferation_signal, commitment_marker and survival_signal; ``committed`` is updated in place (commitment is
    for good); ``laid_um3``: the matrix each row laid on the bone this tick. A committed cell flattens into a
    lining cell at a rate that rises as its Osterix falls (it makes less and less matrix):
    ``flattening_rate_max_per_h``·K⁴/(K⁴ + Osx⁴), K = ``lining_osterix_molecules``; it is embedded with
    probability 1 − exp(−laid·``embedding_per_um3``)."""
    n = rows.size
    dies = np.zeros(n, dtype=np.bool_)
    divides = np.zeros(n, dtype=np.bool_)
    hops = np.zeros(n, dtype=np.bool_)
    flattens = np.zeros(n, dtype=np.bool_)
    embeds = np.zeros(n, dtype=np.bool_)
    smad, osterix, bcl2 = columns[0], columns[1], columns[2]
    for i in range(n):
        row = rows[i]
        per_nucleus = 1.0 / nuclei[row]
        if not committed[row] and molecules[row, osterix] * per_nucleus >= q.commitment_osterix_molecules:
            committed[row] = True
        if u[i, U_DEATH] < -np.expm1(-death_rate_per_h(molecules[row, bcl2] * per_nucleus, q) * dt_h):
            dies[i] = True
            continue
        if committed[row]:
            embeds[i] = u[i, U_EMBED] < -np.expm1(-laid_um3[row] * q.embedding_per_um3)
            flattens[i] = not embeds[i] and u[i, U_FLATTEN] < -np.expm1(
                -flattening_rate_per_h(molecules[row, osterix] * per_nucleus, q) * dt_h)
            continue
        divides[i] = u[i, U_DIVIDE] < -np.expm1(-division_rate_per_h(molecules[row, smad] * per_nucleus, q) * dt_h)
        hops[i] = not divides[i] and u[i, U_HOP] < -np.expm1(-hop_rate_per_h * dt_h)
    return dies, divides, hops, flattens, embeds
