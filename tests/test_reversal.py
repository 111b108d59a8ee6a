"""Reversal: the collagen fringe osteoclasts leave, the reversal cells that clear it and lay a cement line, and
osteoid laid only on a complete cement line (docs/references.md#reversal).

Phenotypes checked:
- cathepsin K works on the collagen the acid bares, so a wild-type osteoclast leaves a thin fringe of
  demineralised collagen in its lacuna (Everts et al. 2002 JBMR 17:77; Søe & Delaissé 2017 J Cell Sci 130:2026);
- osteoclasts resorb mineralised bone, not osteoid (Chambers & Fuller 1985 J Cell Sci 76:155), and a site's new bone
  is not resorbed again within the cycle the maps hold;
- reversal cells clear the remnants before they lay a cement line, and osteoblasts lay osteoid only on it: with
  the remnants' digestion blocked (an MMP inhibitor), eroded surface is never refilled (Everts et al. 2002).
"""

import numpy as np
import pytest
from conftest import WNT_HALF_SATURATING

from boneabm.config import BoneConfig, DomainConfig, load_experiment
from boneabm.environment.bone import Bone
from boneabm.environment.reversal import cemented_sites, prepare_sites
from boneabm.model import BoneModel


def bone(**config):
    return Bone(BoneConfig(**config), DomainConfig(width_um=500, height_um=500, grid_spacing_um=25))


def test_cathepsin_k_lags_the_acid_by_the_fringe_its_saturation_sets():
    """Digestion at capacity c·S/(K + S) of the bared collagen S settles where it matches the acid's m per tick:
    S = K·m/(c − m) after the acid, S − m left behind it. With K = 0 the collagen keeps up exactly."""
    half_um, mineral_um3, collagen_um3 = 0.5, 100.0, 250.0
    b = bone()
    for _ in range(300):
        b.resorb(1, 250, 250, 20, mineral_um3, collagen_um3, fringe_half_um=half_um)
    ix, iy = b.footprint(250, 250, 20)
    m, c = (v / (ix.size * b.pixel_area_um2) for v in (mineral_um3, collagen_um3))
    fringe = b.remnant_um()[ix, iy]
    assert fringe == pytest.approx(half_um * m / (c - m) - m, rel=1e-6)
    assert np.count_nonzero(b.remnant_um()) == ix.size  # only under the footprint
    keeping_up = bone()
    for _ in range(300):
        keeping_up.resorb(1, 250, 250, 20, mineral_um3, collagen_um3)
    assert not keeping_up.remnant_um().any()


def test_osteoclasts_do_not_resorb_new_matrix_and_resorption_takes_the_cement_line_with_it():
    b = bone()
    b.cement_um[:] = 1.0
    b.form(0.0, np.array([10]), np.array([10]), np.array([625.0]))  # 1 µm of osteoid on site (10, 10)
    b.resorb(1, 262.5, 262.5, 30, 5000.0, 5000.0, time_h=7.0)  # a footprint over that site and its neighbours
    osteoid = np.zeros(b.shape, dtype=bool)
    osteoid[50:55, 50:55] = True
    resorbed = b.mineral_depth_um > 0
    assert resorbed.any() and not (resorbed & osteoid).any()
    assert (b.cement_um[resorbed] == 0).all() and (b.resorbed_h[resorbed] == 7.0).all()
    assert (b.cement_um[~resorbed] == 1.0).all() and np.isnan(b.resorbed_h[~resorbed]).all()
    b.new_bone.advance(30 * 24.0)  # mineralised now; the maps hold one cycle, so it stays out of reach
    assert not b.new_bone.osteoid_um.any()
    b.resorb(1, 262.5, 262.5, 30, 5000.0, 5000.0, time_h=720.0)
    assert not b.mineral_depth_um[osteoid].any()


def test_an_osteoclast_can_seal_only_where_some_bone_is_bare():
    b = bone()
    b.cover(np.eye(20, dtype=bool))  # lining cells on the diagonal sites
    b.form(0.0, np.array([3]), np.array([7]), np.array([625.0]))  # osteoid on site (3, 7)
    bare = b.bare_sites()
    assert not bare[5, 5] and not bare[3, 7] and bare[7, 3] and bare.sum() == 400 - 21


def test_a_reversal_cell_clears_the_remnants_first_then_cements_with_the_time_left():
    mineral = np.full((4, 4), 2.0)
    collagen = mineral.copy()
    collagen[:2, :2] = 1.5  # site (0, 0): 4 pixels with 0.5 µm of remnants, 2 µm³ at 1 µm² a pixel
    cement = np.zeros((4, 4))
    at = (np.array([0, 1]), np.array([0, 1]))  # a cell on site (0, 0), one on the clean site (1, 1)
    cleared = prepare_sites(mineral, collagen, cement, *at, 2, 4.0, 4.0, 1.0, 1.0)
    assert cleared == pytest.approx(2.0) and (collagen == mineral).all()
    # half its tick went to the remnants, the other half laid 2 µm³ of the 4 a cement line needs on site (0, 0)
    assert cement[:2, :2] == pytest.approx(np.full((2, 2), 0.5))
    assert (cement[2:, 2:] == 1.0).all()  # the other cell's whole tick: 4 µm³, a complete line
    assert cemented_sites(cement, 2, 1.0).tolist() == [[False, False], [False, True]]
    prepare_sites(mineral, collagen, cement, *at, 2, 4.0, 4.0, 1.0, 1.0)
    assert cemented_sites(cement, 2, 1.0).tolist() == [[True, False], [False, True]]  # no cell on the others
    # a cell that cannot digest the remnants (clear 0) never cements over them
    collagen[:2, :2] = 1.5
    cement[:] = 0.0
    for _ in range(10):
        assert prepare_sites(mineral, collagen, cement, *at, 2, 0.0, 4.0, 1.0, 1.0) == 0.0
    assert not cement[:2, :2].any() and (cement[2:, 2:] == 1.0).all()


def osteoblasts_on_an_eroded_patch(clearance_um3_per_cell_h: float) -> BoneModel:
    """Progenitors on every site of a 250 µm patch whose left half osteoclasts eroded 10 µm deep, leaving their
    collagen fringe; no osteoclasts. Cement is made fast so that the days go to the remnants."""
    experiment = load_experiment(data={
        "seed": 5, "domain": {"width_um": 250, "height_um": 250, "grid_spacing_um": 12.5},
        "precursors": {"plating_density_per_cm2": 0}, "bone": {"pixels_per_site": 2},
        "fields": {"mode": "tissue"}, "medium": {"change_every_h": None},
        "osteoblasts": {"enabled": True, "initial_progenitors_per_mm2": 6400,
                        "remnant_clearance_um3_per_cell_h": clearance_um3_per_cell_h, "cement_um3_per_cell_h": 50},
        "osteocytes": WNT_HALF_SATURATING, "time": {"duration_h": 24 * 6}})
    model = BoneModel(experiment)
    for x in np.arange(6.25, 125, 12.5):
        for y in np.arange(6.25, 250, 12.5):
            model.bone.resorb(1, x, y, 9, 1560.0, 1400.0, fringe_half_um=0.5)
    assert (model.bone.remnant_um()[:20] > 0.3).all()
    for _ in range(round(24 * 6 / model.dt_h)):
        model.step()
    return model


@pytest.mark.parametrize("clearance", [2.0, 0.0])
def test_osteoid_is_laid_on_eroded_surface_only_after_its_remnants_are_cleared(clearance):
    """Everts et al. 2002: reversal cells digest the lacunae's collagen remnants (an MMP inhibitor stops it), and
    bone formation starts on the cleaned surface."""
    model = osteoblasts_on_an_eroded_patch(clearance)
    bone = model.bone
    formed = bone.site_mean(bone.formed_depth_um()) > 0
    eroded = bone.site_mean(bone.mineral_depth_um) > 0
    assert formed[~eroded].mean() > 0.5  # quiescent surface needs no clearing: cemented in hours, then built on
    first_h = np.nanmin(bone.new_bone.formed_h[20:])
    assert first_h < 24
    if clearance:
        # ≈ 200 µm³ of remnants per site at 2 µm³/h: about 4 days' work for the cell on it, then osteoid
        clean = bone.site_mean(bone.remnant_um()) == 0
        assert clean[eroded].mean() > 0.8 and formed[eroded].mean() > 0.8
        assert np.nanmin(bone.new_bone.formed_h[:20]) > 72
    else:
        assert not formed[eroded].any() and (bone.remnant_um()[:20] > 0.3).all()


def test_the_cement_line_and_the_last_resorption_are_saved_with_the_bone():
    b = bone()
    b.resorb(1, 250, 250, 20, 800.0, 900.0, fringe_half_um=0.5, time_h=5.0)
    b.prepare(np.array([0, 12]), np.array([0, 3]), 0.0, 300.0, 1.0)
    restored = bone()
    restored.restore(*b.state())
    for name in ("cement_um", "resorbed_h", "collagen_depth_um"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(b, name))
    assert restored.cement_um.any() and (restored.resorbed_h == 5.0).any() and restored.remnant_um().any()


def canopy_over_an_eroded_patch(inhibitors=()) -> BoneModel:
    """Lining cells on every site of a 250 µm patch whose left half osteoclasts eroded; no marrow progenitors, so
    every cell that reaches the eroded surface comes down from the canopy."""
    experiment = load_experiment(data={
        "seed": 7, "domain": {"width_um": 250, "height_um": 250, "grid_spacing_um": 12.5},
        "precursors": {"plating_density_per_cm2": 0}, "bone": {"pixels_per_site": 2},
        "fields": {"mode": "tissue", "canopy_margin_um": 0}, "medium": {"change_every_h": None},
        "osteoblasts": {"enabled": True, "lining_cells_per_mm2": 6400,
                        "signaling": {"inhibitors": [{"target": name} for name in inhibitors]}},
        "time": {"duration_h": 48}})
    model = BoneModel(experiment)
    for x in np.arange(6.25, 125, 12.5):
        for y in np.arange(6.25, 250, 12.5):
            model.bone.resorb(1, x, y, 9, 1560.0, 1400.0, fringe_half_um=0.5)
    return model


def step_in_tgfb(model, hours, tgfb_nM=1.0):
    """Advance ``hours`` holding active TGF-β1 at every site, as resorption nearby would keep freeing it."""
    for _ in range(round(hours / model.dt_h)):
        model.fields.sites["tgfb"][:] = tgfb_nM
        model.step()


@pytest.mark.parametrize("inhibitors", [(), ("tbri_kinase_inhibitor",)])
def test_the_canopy_sends_reversal_cells_down_onto_eroded_surface_as_tgfb_draws_them(inhibitors):
    """Canopy cells come down onto the eroded surface as reversal cells (Kristensen et al. 2014), drawn by the
    TGF-β1 resorption frees, as marrow progenitors are (Tang et al. 2009): a TβRI kinase inhibitor stops them."""
    model = canopy_over_an_eroded_patch(inhibitors)
    step_in_tgfb(model, 48)
    ob = model.lineages["osteoblast"]
    pop = ob.population
    working = pop.rows[~pop.lining[pop.rows]]
    descents = [e for e in model.events if e[1] == "descent"]
    assert ob.counts()["canopy_descended_total"] == len(descents)
    eroded_sites = model.bone.site_mean(model.bone.mineral_depth_um) > 0
    if inhibitors:
        assert not descents and working.size == 0
        return
    # TGF-β1 is cleared within minutes, so the sites hold less than the 1 nM set at each tick's start: 129
    # descents at this seed (Poisson sd ≈ 11), onto the eroded half only, where the canopy is
    assert len(descents) > 90 and eroded_sites[pop.x[working], pop.y[working]].all()
    assert ob.counts()["remnants_cleared_um3"] > 0 and ob.counts()["n_canopy_cells"] == 200


def test_a_model_in_reversal_continues_exactly_from_a_checkpoint(tmp_path):
    from boneabm.state import load, save

    model = canopy_over_an_eroded_patch()
    step_in_tgfb(model, 24)
    save(model.state(), tmp_path / "state")
    restored = BoneModel.from_state(load(tmp_path / "state"))
    for m in (model, restored):
        step_in_tgfb(m, 24)
    a, b = model.lineages["osteoblast"].counts(), restored.lineages["osteoblast"].counts()
    assert a == b and a["canopy_descended_total"] > 0 and a["remnants_cleared_um3"] > 0
    for name in ("cement_um", "collagen_depth_um", "resorbed_h"):
        np.testing.assert_array_equal(getattr(model.bone, name), getattr(restored.bone, name))
