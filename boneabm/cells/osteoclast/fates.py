"""What each lineage cell does in one tick — die, shed nuclei, divide, hop, switch resorption mode, drive
fusion — from the factors at its site and its molecule counts: the rates as small functions of one cell, and the
kernel that applies them to every living cell.

Precursors live, divide and die by their M-CSF-bound CSF-1R (so by the M-CSF they take up from the medium,
which their neighbours share) and wander by a random walk; RANKL signaling withdraws them from the cycle
through c-Fos. TRAP⁺ cells commit for good: they stop dividing, and their apoptosis follows their Bim, which
CSF-1R and RANK signaling keep low (so what supports them is what their receptors report, not the medium).
A multinucleated cell's nuclei may also die one by one and be extruded while the cell lives on (Jansen
et al. 2012). Committed cells with enough DC-STAMP and OC-STAMP drive fusion. Multinucleated cells cycle between
migrating and resorbing a pit (in place) or a trench (while moving). Molecule counts are read per nucleus, so a
fused cell is judged by its concentrations.

The functions are compiled with numba and kept in this one module with the kernel that calls them: numba's
cache does not notice an edit to a compiled helper in another module. Parameters come as named tuples whose
fields are the config's own names (``precursor_parameters``, ``osteoclast_parameters``).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from boneabm.config import OsteoclastConfig, PrecursorConfig

NEW, MIGRATING, PIT, TRENCH = 0, 1, 2, 3
BIM_HILL = 2.0  # calibrated: apoptosis rises steeply once Bim outnumbers what the anti-apoptotic Bcl-2 proteins hold
# Uniforms each living cell draws from its own stream per tick, by column.
U_DEATH, U_DIVIDE, U_HOP, U_SITE, U_ORDER, U_MODE, U_MODE_CHOICE, U_FUSE, U_PARTNER = range(9)
N_UNIFORMS = 9


class PrecursorParameters(NamedTuple):
    division_rate_max_per_h: float
    division_csf1r_half_molecules: float
    division_arrest_cfos_molecules: float
    death_rate_basal_per_h: float
    death_rate_no_mcsf_per_h: float
    survival_csf1r_half_molecules: float
    egress_rate_max_per_h: float
    egress_cfos_half_molecules: float


class OsteoclastParameters(NamedTuple):
    trap_positive_molecules: float
    fusion_dcstamp_molecules: float
    fusion_ocstamp_molecules: float
    fusion_gene_half_molecules: float
    death_rate_per_h: float
    death_rate_supported_per_h: float
    death_bim_half_molecules: float
    multinucleated_death_factor: float
    unligated_integrin_death_rate_per_h: float
    function_gene_half_molecules: float
    nucleus_extrusion_rate_per_h: float
    migrating_to_resorbing_per_h: float
    trench_fraction: float
    pit_to_migrating_per_h: float
    trench_to_migrating_per_h: float
    migration_speed_um_per_h: float
    trench_speed_um_per_h: float


def precursor_parameters(config: PrecursorConfig) -> PrecursorParameters:
    return PrecursorParameters(*(float(getattr(config, name)) for name in PrecursorParameters._fields))


def osteoclast_parameters(config: OsteoclastConfig) -> OsteoclastParameters:
    return OsteoclastParameters(*(float(getattr(config, name)) for name in OsteoclastParameters._fields))


@nb.njit(cache=True)
def hill(concentration, ec50, n):
    """Fraction of maximal response, c^n / (ec50^n + c^n) (scalars or arrays)."""
    c = np.maximum(concentration, 0.0)
    if n == 1.0:  # the common case, exactly as below without two calls to pow
        return c / (ec50 + c)
    cn = np.power(c, n)
    return cn / (ec50**n + cn)


@nb.njit(cache=True)
def probability(rate_per_h, dt_h):
    """Probability that an event of constant rate happens within one tick."""
    return -np.expm1(-rate_per_h * dt_h)


@nb.njit(cache=True)
def division_rate_per_h(csf1r_per_nucleus, cfos_per_nucleus, p):
    """Activated CSF-1R drives proliferation (Tushinski & Stanley 1985); RANKL signaling through c-Fos
    withdraws the cell from the cycle (Sankar et al. 2004)."""
    arrest = 1.0 - hill(cfos_per_nucleus, p.division_arrest_cfos_molecules, 2.0)
    return p.division_rate_max_per_h * hill(csf1r_per_nucleus, p.division_csf1r_half_molecules, 1.0) * arrest


@nb.njit(cache=True)
def death_rate_per_h(csf1r_per_nucleus, p):
    """Without CSF-1R signaling macrophages die by apoptosis within days; a little already keeps them alive
    (Tushinski et al. 1982)."""
    survival = hill(csf1r_per_nucleus, p.survival_csf1r_half_molecules, 1.0)
    return p.death_rate_basal_per_h + (p.death_rate_no_mcsf_per_h - p.death_rate_basal_per_h) * (1.0 - survival)


@nb.njit(cache=True)
def egress_rate_per_h(cfos_per_nucleus, p):
    """An uncommitted precursor on the surface follows blood S1P back into the circulation through S1PR1, which
    RANKL signaling represses (Ishii et al. 2009 Nature 458:524): it leaves at the full rate without RANK
    signaling and stays once its c-Fos is up (lumped on c-Fos; calibrated)."""
    return p.egress_rate_max_per_h * (1.0 - hill(cfos_per_nucleus, p.egress_cfos_half_molecules, 2.0))


@nb.njit(cache=True)
def committed_death_rate_per_h(bim_per_nucleus, nuclei, q, unligated_beta3=0.0):
    """Bim, the BH3-only protein that M-CSF and RANKL signaling keep degraded, sets a committed cell's apoptosis
    (Akiyama et al. 2003): from the rate without Bim to the rate with it saturating; multinucleated cells die
    faster. Integrin β3 per nucleus with no bare bone to bind (``unligated_beta3``) adds caspase-8's death
    signal (Zhao et al. 2005)."""
    rate = q.death_rate_supported_per_h + (q.death_rate_per_h - q.death_rate_supported_per_h) * hill(
        bim_per_nucleus, q.death_bim_half_molecules, BIM_HILL)
    if nuclei > 1:
        rate *= q.multinucleated_death_factor
    if q.unligated_integrin_death_rate_per_h > 0.0:
        rate += q.unligated_integrin_death_rate_per_h * hill(unligated_beta3, q.function_gene_half_molecules, 1.0)
    return rate


@nb.njit(cache=True)
def binomial_quantile(n, p, u):
    """The Binomial(n, p) count whose cumulative probability first exceeds the uniform ``u`` (inverse transform:
    one uniform per cell, for the small counts of nuclei)."""
    if p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    odds = p / (1.0 - p)
    mass = (1.0 - p) ** n
    cumulative = mass
    m = 0
    while u >= cumulative and m < n:
        mass *= odds * (n - m) / (m + 1)
        m += 1
        cumulative += mass
    return m


@nb.njit(cache=True)
def fusion_factor(dcstamp_per_nucleus, ocstamp_per_nucleus, q):
    """0 unless fusion-competent (both master fusogens above threshold: Yagi 2005, Witwicka 2015); else how
    strongly the fusion genes drive fusion (0-1)."""
    if dcstamp_per_nucleus < q.fusion_dcstamp_molecules or ocstamp_per_nucleus < q.fusion_ocstamp_molecules:
        return 0.0
    return (hill(dcstamp_per_nucleus, q.fusion_gene_half_molecules, 1.0)
            * hill(ocstamp_per_nucleus, q.fusion_gene_half_molecules, 1.0))


@nb.njit(cache=True)
def next_mode(mode, u_switch, u_choice, dt_h, q, on_bare_bone):
    """A multinucleated cell's mode after one tick: a new one starts migrating; a migrating one settles into a
    trench (a ``trench_fraction`` of the time) or a pit, but only over bare mineralised bone (its sealing zone
    forms on the bone's matrix proteins, not on new matrix: ``Bone.bare_sites``); a resorbing one leaves to migrate
    again."""
    if mode == NEW:
        return MIGRATING
    if mode == MIGRATING:
        if not on_bare_bone:
            return MIGRATING
        leave = q.migrating_to_resorbing_per_h
    elif mode == PIT:
        leave = q.pit_to_migrating_per_h
    else:
        leave = q.trench_to_migrating_per_h
    if u_switch >= probability(leave, dt_h):
        return mode
    if mode != MIGRATING:
        return MIGRATING
    return TRENCH if u_choice < q.trench_fraction else PIT


@nb.njit(cache=True)
def decide(u, rows, nuclei, molecules, stage_columns, committed, mode, dt_h, precursor_hops_per_h, grid_spacing_um,
           p, q, on_bare_bone, unligated_beta3):
    """One tick's fates for the cells in population ``rows``: ``u`` is per listed cell; ``nuclei``,
    ``molecules``, ``committed`` and ``mode`` are population columns, the last two updated in place;
    ``stage_columns`` are the molecule columns of the roles commitment_marker, arrest_signal, fusion_gene_1,
    fusion_gene_2, mitogenic_signal and apoptosis_signal (TRAP, c-Fos, DC-STAMP, OC-STAMP, M-CSF-bound CSF-1R
    and Bim in the built-in network). Every fate reads the cell's own molecules, never the medium.
    ``on_bare_bone``: per listed cell, whether its site holds bare mineralised bone it could seal onto;
    ``unligated_beta3``: per listed cell, its integrin β3 per nucleus over no bare bone
    (``OsteoclastLineage.unligated_beta3``).
    Returns per listed cell (dies, divides, hops, fusion drive, leaves, nuclei extruded).

    A cell that dies does nothing else; each nucleus of a multinucleated survivor may die and be extruded
    (``nucleus_extrusion_rate_per_h``, drawn on the division column, which committed cells never use) and a cell
    that would keep none dies; an uncommitted mononuclear cell may leave the surface for the
    circulation (``egress_rate_per_h``; it draws on the mode columns, which only multinucleated cells use, so a
    culture without egress draws as before), and then does nothing else; a dividing cell does not also hop; only
    committed survivors drive fusion. Precursors hop at ``precursor_hops_per_h``, multinucleated cells by their
    mode (fast while migrating, slow along a trench, not at all in a pit).
    """
    n = rows.shape[0]
    trap, cfos, dcstamp, ocstamp, csf1r, bim = (stage_columns[0], stage_columns[1], stage_columns[2],
                                                stage_columns[3], stage_columns[4], stage_columns[5])
    dies = np.zeros(n, dtype=np.bool_)
    divides = np.zeros(n, dtype=np.bool_)
    hops = np.zeros(n, dtype=np.bool_)
    drive = np.zeros(n)
    leaves = np.zeros(n, dtype=np.bool_)
    extruded = np.zeros(n, dtype=np.int64)
    for i in range(n):
        r = rows[i]
        k = float(nuclei[r])
        committed[r] = committed[r] or molecules[r, trap] / k >= q.trap_positive_molecules
        if committed[r]:
            death = committed_death_rate_per_h(molecules[r, bim] / k, nuclei[r], q, unligated_beta3[i])
        else:
            death = death_rate_per_h(molecules[r, csf1r] / k, p)
        if u[i, U_DEATH] < probability(death, dt_h):
            dies[i] = True
            continue
        if nuclei[r] > 1:
            # 1 - u: as for every rule here, a uniform below the event's probability (here of any) brings it
            extruded[i] = binomial_quantile(nuclei[r], probability(q.nucleus_extrusion_rate_per_h, dt_h),
                                            1.0 - u[i, U_DIVIDE])
            if extruded[i] == nuclei[r]:
                dies[i] = True
                extruded[i] = 0
                continue
        if not committed[r] and nuclei[r] == 1 and p.egress_rate_max_per_h > 0.0:
            if u[i, U_MODE] < probability(egress_rate_per_h(molecules[r, cfos] / k, p), dt_h):
                leaves[i] = True
                continue
        if not committed[r]:
            division = division_rate_per_h(molecules[r, csf1r] / k, molecules[r, cfos] / k, p)
            divides[i] = u[i, U_DIVIDE] < probability(division, dt_h)
        hop_rate = precursor_hops_per_h
        if nuclei[r] > 1:
            mode[r] = next_mode(mode[r], u[i, U_MODE], u[i, U_MODE_CHOICE], dt_h, q, on_bare_bone[i])
            if mode[r] == MIGRATING:
                hop_rate = q.migration_speed_um_per_h / grid_spacing_um
            elif mode[r] == TRENCH:
                hop_rate = q.trench_speed_um_per_h / grid_spacing_um
            else:
                hop_rate = 0.0
        hops[i] = not divides[i] and u[i, U_HOP] < probability(hop_rate, dt_h)
        if committed[r]:
            drive[i] = fusion_factor(molecules[r, dcstamp] / k, molecules[r, ocstamp] / k, q)
    return dies, divides, hops, drive, leaves, extruded
