"""The per-tick fate rules (boneabm/cells/osteoclast/fates.py), checked cell by cell with chosen uniforms.

Each rule fires when its uniform falls below 1 - exp(-rate·dt), so placing a cell's uniform just below or just
above that probability tells exactly whether the kernel applied the rate the biology says:
- RANKL withdraws precursors from the cycle through c-Fos (Sankar et al. 2004): c-Fos at the arrest constant
  halves division; TRAP⁺ (committed) cells never divide;
- committed cells die as their Bim says (Akiyama et al. 2003), not as the medium's factors would; multinucleated
  ones die faster;
- fusion needs both DC-STAMP and OC-STAMP (Yagi 2005; Witwicka 2015);
- multinucleated cells migrate, then settle into pits (still) or trenches (slow) (Søe & Delaissé 2017).
"""

import numpy as np
import pytest

from boneabm.cells.osteoclast import fates
from boneabm.catalog import find
from boneabm.config import load_experiment

E = load_experiment(find("osteoclastogenesis").path)
P, Q = fates.precursor_parameters(E.precursors), fates.osteoclast_parameters(E.osteoclasts)
DT, HOPS_PER_H, SPACING = E.time.dt_h, 1.28, E.domain.grid_spacing_um
BELOW, ABOVE = 1 - 1e-9, 1 + 1e-9


def kernel(u, nuclei, trap, cfos, dcstamp, ocstamp, csf1r, bim, committed, mode, precursor=P, on_bare_bone=None,
           osteoclast=Q, unligated_beta3=None):
    """The kernel on a population whose rows are the cells given (per-cell arrays); returns its outputs and
    the updated committed and mode columns."""
    rows = np.arange(u.shape[0])
    molecules = np.column_stack([trap, cfos, dcstamp, ocstamp, csf1r, bim]).astype(np.int64)
    committed, mode = committed.copy(), mode.copy()
    on_bare_bone = np.ones(rows.size, dtype=np.bool_) if on_bare_bone is None else on_bare_bone
    unligated_beta3 = np.zeros(rows.size) if unligated_beta3 is None else unligated_beta3
    out = fates.decide(u, rows, nuclei, molecules, np.arange(6), committed, mode, DT, HOPS_PER_H, SPACING, precursor,
                       osteoclast, on_bare_bone, unligated_beta3)
    return [*out, committed, mode]


def decide(n=1, u=None, nuclei=1, trap=0, cfos=0, dcstamp=0, ocstamp=0, csf1r=10, bim=8, committed=False,
           mode=fates.NEW, precursor=P, on_bare_bone=True, osteoclast=Q):
    """Run the kernel on ``n`` identical cells; ``u`` overrides columns: {column: value or array}."""
    uniforms = np.full((n, fates.N_UNIFORMS), 0.999999)  # by default nothing happens
    for column, value in (u or {}).items():
        uniforms[:, column] = value
    col = lambda v, dtype: np.full(n, v, dtype=dtype)  # noqa: E731
    out = kernel(uniforms, col(nuclei, np.int64), col(trap, np.int64), col(cfos, np.int64), col(dcstamp, np.int64),
                 col(ocstamp, np.int64), col(csf1r, np.int64), col(bim, np.int64), col(committed, np.bool_),
                 col(mode, np.int64), precursor, col(on_bare_bone, np.bool_), osteoclast)
    return dict(zip(("dies", "divides", "hops", "drive", "leaves", "extruded", "committed", "mode"), out))


def p(rate_per_h):
    return -np.expm1(-rate_per_h * DT)


def test_division_fires_at_exactly_its_probability_and_c_fos_halves_it():
    full = fates.division_rate_per_h(10.0, 0.0, P)  # 10 M-CSF-bound CSF-1R, the default decide()'s
    assert full == pytest.approx(P.division_rate_max_per_h * 10 / (10 + P.division_csf1r_half_molecules))
    assert decide(u={fates.U_DIVIDE: p(full) * BELOW})["divides"][0]
    assert not decide(u={fates.U_DIVIDE: p(full) * ABOVE})["divides"][0]
    arrested = fates.division_rate_per_h(10.0, P.division_arrest_cfos_molecules, P)
    assert arrested == pytest.approx(full / 2)
    # c-Fos is read per nucleus (the constant is 0.75: 3 molecules over 4 nuclei)
    assert P.division_arrest_cfos_molecules == 0.75
    assert decide(u={fates.U_DIVIDE: p(arrested) * BELOW}, cfos=3, csf1r=40, nuclei=4)["divides"][0]
    assert not decide(u={fates.U_DIVIDE: p(arrested) * ABOVE}, cfos=3, csf1r=40, nuclei=4)["divides"][0]
    # the receptor signal is read per nucleus too, and without it a precursor does not divide
    assert not decide(u={fates.U_DIVIDE: 0.0}, csf1r=0)["divides"][0]


def test_trap_positive_cells_commit_for_good_and_never_divide():
    threshold = int(np.ceil(Q.trap_positive_molecules))
    out = decide(u={fates.U_DIVIDE: 0.0}, trap=threshold)
    assert out["committed"][0] and not out["divides"][0]
    assert not decide(u={fates.U_DIVIDE: 0.0}, trap=threshold - 1)["committed"][0]
    # once committed, losing TRAP does not undo it
    assert decide(trap=0, committed=True)["committed"][0]


def test_committed_cells_die_by_their_bim_per_nucleus_and_multinucleated_ones_faster():
    no_bim = fates.committed_death_rate_per_h(0.0, 1, Q)
    half = fates.committed_death_rate_per_h(Q.death_bim_half_molecules, 1, Q)
    saturated = fates.committed_death_rate_per_h(1e6, 1, Q)
    assert no_bim == Q.death_rate_supported_per_h and saturated == pytest.approx(Q.death_rate_per_h)
    assert half == pytest.approx((Q.death_rate_supported_per_h + Q.death_rate_per_h) / 2)
    supported = fates.committed_death_rate_per_h(8.0, 1, Q)  # ≈ the Bim of a cell in the assay's medium
    assert fates.committed_death_rate_per_h(8.0, 3, Q) == pytest.approx(supported * Q.multinucleated_death_factor)
    for nuclei, rate in ((1, supported), (3, supported * Q.multinucleated_death_factor)):
        assert decide(u={fates.U_DEATH: p(rate) * BELOW}, committed=True, nuclei=nuclei, bim=8 * nuclei)["dies"][0]
        assert not decide(u={fates.U_DEATH: p(rate) * ABOVE}, committed=True, nuclei=nuclei,
                          bim=8 * nuclei)["dies"][0]
    # Bim is read per nucleus: 8 molecules shared by 3 nuclei is a cell with little Bim
    diluted = fates.committed_death_rate_per_h(8.0 / 3, 3, Q)
    assert decide(u={fates.U_DEATH: p(diluted) * BELOW}, committed=True, nuclei=3, bim=8)["dies"][0]
    assert not decide(u={fates.U_DEATH: p(diluted) * ABOVE}, committed=True, nuclei=3, bim=8)["dies"][0]
    # precursors follow their CSF-1R survival signal instead
    precursor = fates.death_rate_per_h(10.0, P)
    assert decide(u={fates.U_DEATH: p(precursor) * BELOW})["dies"][0]
    assert not decide(u={fates.U_DEATH: p(precursor) * ABOVE})["dies"][0]


def test_a_dying_cell_does_nothing_else_and_a_dividing_one_does_not_hop():
    out = decide(u={fates.U_DEATH: 0.0, fates.U_DIVIDE: 0.0, fates.U_HOP: 0.0})
    assert out["dies"][0] and not out["divides"][0] and not out["hops"][0]
    out = decide(u={fates.U_DIVIDE: 0.0, fates.U_HOP: 0.0})
    assert out["divides"][0] and not out["hops"][0]
    dying_competent = decide(u={fates.U_DEATH: 0.0}, committed=True, dcstamp=50, ocstamp=50)
    assert dying_competent["drive"][0] == 0


def test_fusion_needs_both_fusogens_and_grows_with_them():
    k = Q.fusion_gene_half_molecules
    dc, oc = int(np.ceil(max(Q.fusion_dcstamp_molecules, k))), int(np.ceil(max(Q.fusion_ocstamp_molecules, k)))
    drive = decide(committed=True, dcstamp=dc, ocstamp=oc)["drive"][0]
    assert drive == pytest.approx(dc / (k + dc) * oc / (k + oc))
    assert decide(committed=True, dcstamp=4 * dc, ocstamp=4 * oc)["drive"][0] > drive
    assert decide(committed=True, dcstamp=0, ocstamp=oc)["drive"][0] == 0  # DC-STAMP loss
    assert decide(committed=True, dcstamp=dc, ocstamp=0)["drive"][0] == 0  # OC-STAMP loss
    assert decide(committed=False, dcstamp=dc, ocstamp=oc, trap=0)["drive"][0] == 0  # not TRAP⁺


def test_multinucleated_cells_migrate_then_settle_into_pits_or_trenches():
    start = decide(nuclei=2, mode=fates.NEW, committed=True)
    assert start["mode"][0] == fates.MIGRATING
    settle = p(Q.migrating_to_resorbing_per_h)
    stays = decide(nuclei=2, mode=fates.MIGRATING, committed=True, u={fates.U_MODE: settle * ABOVE})
    assert stays["mode"][0] == fates.MIGRATING
    trench = decide(nuclei=2, mode=fates.MIGRATING, committed=True,
                    u={fates.U_MODE: settle * BELOW, fates.U_MODE_CHOICE: Q.trench_fraction * BELOW})
    pit = decide(nuclei=2, mode=fates.MIGRATING, committed=True,
                 u={fates.U_MODE: settle * BELOW, fates.U_MODE_CHOICE: Q.trench_fraction * ABOVE})
    assert trench["mode"][0] == fates.TRENCH and pit["mode"][0] == fates.PIT
    # no sealing zone over a lining cell or osteoid: a migrating cell there goes on migrating
    assert decide(nuclei=2, mode=fates.MIGRATING, committed=True, on_bare_bone=False,
                  u={fates.U_MODE: 0.0, fates.U_MODE_CHOICE: 0.0})["mode"][0] == fates.MIGRATING
    leave_pit = p(Q.pit_to_migrating_per_h)
    assert decide(nuclei=2, mode=fates.PIT, committed=True, u={fates.U_MODE: leave_pit * BELOW})["mode"][0] \
        == fates.MIGRATING
    # hop rates by mode: none in a pit, slow along a trench, fast while migrating
    assert not decide(nuclei=2, mode=fates.PIT, committed=True, u={fates.U_HOP: 1e-12})["hops"][0]
    trench_hop = p(Q.trench_speed_um_per_h / SPACING)
    assert decide(nuclei=2, mode=fates.TRENCH, committed=True, u={fates.U_HOP: trench_hop * BELOW})["hops"][0]
    assert not decide(nuclei=2, mode=fates.TRENCH, committed=True, u={fates.U_HOP: trench_hop * ABOVE})["hops"][0]
    migrate_hop = p(Q.migration_speed_um_per_h / SPACING)
    assert decide(nuclei=2, mode=fates.MIGRATING, committed=True,
                  u={fates.U_HOP: migrate_hop * BELOW})["hops"][0]
    # mononuclear cells keep their mode and hop at the precursor rate
    mono = decide(mode=fates.NEW, u={fates.U_HOP: p(HOPS_PER_H) * BELOW})
    assert mono["mode"][0] == fates.NEW and mono["hops"][0]
    assert not decide(u={fates.U_HOP: p(HOPS_PER_H) * ABOVE})["hops"][0]


def test_cells_are_decided_independently_of_their_neighbours_in_the_batch():
    rng = np.random.default_rng(7)
    u = rng.random((500, fates.N_UNIFORMS))
    args = dict(nuclei=rng.integers(1, 4, 500), trap=rng.integers(0, 8, 500), cfos=rng.integers(0, 3, 500),
                dcstamp=rng.integers(0, 40, 500), ocstamp=rng.integers(0, 40, 500), csf1r=rng.integers(0, 20, 500),
                bim=rng.integers(0, 60, 500), committed=rng.random(500) < 0.5, mode=rng.integers(0, 4, 500))

    def run(order):
        return kernel(u[order], *(args[name][order] for name in ("nuclei", "trap", "cfos", "dcstamp", "ocstamp",
                                                                 "csf1r", "bim", "committed", "mode")))

    order = rng.permutation(500)
    forward, shuffled = run(np.arange(500)), run(order)
    for a, b in zip(forward, shuffled):
        assert np.array_equal(a[order], b)


def test_egress_falls_with_rank_signaling_and_spares_committed_and_fused_cells():
    """Precursors leave for the circulation along blood S1P, through S1PR1, which RANKL signaling represses
    (Ishii et al. 2009 Nature 458:524): the full rate without c-Fos, a fifth of it at twice the half c-Fos
    (Hill 2); TRAP⁺ and fused cells stay; a culture (rate 0) loses nobody."""
    tissue = P._replace(egress_rate_max_per_h=0.05, egress_cfos_half_molecules=0.5)
    full = -np.expm1(-0.05 * DT)
    assert decide(u={fates.U_MODE: full * BELOW}, precursor=tissue)["leaves"][0]
    assert not decide(u={fates.U_MODE: full * ABOVE}, precursor=tissue)["leaves"][0]
    fifth = -np.expm1(-0.05 * 0.2 * DT)
    assert decide(u={fates.U_MODE: fifth * BELOW}, cfos=1, precursor=tissue)["leaves"][0]
    assert not decide(u={fates.U_MODE: fifth * ABOVE}, cfos=1, precursor=tissue)["leaves"][0]
    assert not decide(u={fates.U_MODE: 0.0}, committed=True, precursor=tissue)["leaves"][0]
    assert not decide(u={fates.U_MODE: 0.0}, nuclei=3, precursor=tissue)["leaves"][0]
    left = decide(u={fates.U_MODE: 0.0, fates.U_DIVIDE: 0.0, fates.U_HOP: 0.0}, precursor=tissue)
    assert left["leaves"][0] and not left["divides"][0] and not left["hops"][0]  # a leaving cell does nothing else
    assert not decide(u={fates.U_MODE: 0.0})["leaves"][0]


def test_multinucleated_cells_extrude_apoptotic_nuclei_and_one_left_without_any_dies():
    """Osteoclasts shed compartments holding apoptotic nuclei and live on (Jansen et al. 2012 Calcif Tissue Int
    90:515): each nucleus of a multinucleated cell goes at ``nucleus_extrusion_rate_per_h`` (here bone's, as the
    `bmu` example sets it: Parfitt 1994), so a cell of k nuclei loses Binomial(k, p) of them in a tick;
    mononuclear cells have none to spare; a cell that would keep none dies; the culture's rate (0) takes none."""
    bone = Q._replace(nucleus_extrusion_rate_per_h=0.0033)
    each = p(bone.nucleus_extrusion_rate_per_h)
    any_of_5 = 1 - (1 - each) ** 5
    assert decide(u={fates.U_DIVIDE: any_of_5 * BELOW}, committed=True, nuclei=5, osteoclast=bone)["extruded"][0] == 1
    assert decide(u={fates.U_DIVIDE: any_of_5 * ABOVE}, committed=True, nuclei=5, osteoclast=bone)["extruded"][0] == 0
    assert decide(u={fates.U_DIVIDE: 0.0}, committed=True, nuclei=1, osteoclast=bone)["extruded"][0] == 0
    emptied = decide(u={fates.U_DIVIDE: 0.0}, committed=True, nuclei=4, osteoclast=bone)
    assert emptied["dies"][0] and emptied["extruded"][0] == 0
    culture = decide(u={fates.U_DIVIDE: 0.0}, committed=True, nuclei=4)
    assert Q.nucleus_extrusion_rate_per_h == 0 and not culture["dies"][0] and culture["extruded"][0] == 0
    # over many cells, the count extruded has the binomial's mean (4 standard errors)
    n, k = 20000, 10
    extruded = decide(n, u={fates.U_DIVIDE: np.random.default_rng(5).random(n)}, committed=True, nuclei=k,
                      osteoclast=bone)["extruded"]
    assert abs(extruded.mean() - k * each) < 4 * np.sqrt(k * each * (1 - each) / n)


def test_the_binomial_quantile_is_the_inverse_of_its_distribution():
    from scipy.stats import binom
    u = (np.arange(4000) + 0.5) / 4000
    for n, prob in ((12, 0.3), (40, 0.01), (3, 0.9)):
        mine = np.array([fates.binomial_quantile(n, prob, v) for v in u])
        cdf = binom.cdf(np.arange(n + 1), n, prob)
        away_from_steps = np.min(np.abs(u[:, None] - cdf[None, :]), axis=1) > 1e-9
        assert np.array_equal(mine[away_from_steps], binom.ppf(u, n, prob)[away_from_steps].astype(int))
    assert fates.binomial_quantile(7, 0.0, 0.99) == 0 and fates.binomial_quantile(7, 1.0, 0.0) == 7
