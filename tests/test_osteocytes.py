"""Osteocytes as counts per site (boneabm/environment/osteocytes.py) and the marrow the tissue's surface layer
exchanges with (boneabm/environment/fields.py).

Phenotypes and facts checked:
- osteocyte density (13,000-26,000 per mm³, Mullender et al. 1996) gives the count per site of the layer within
  reach;
- apoptotic osteocytes make their viable neighbours shed RANKL, near them and not far away (Kennedy et al. 2012
  Bone 50:1115), so RANKL rises where a BMU is activated (Nakashima et al. 2011 Nat Med 17:1231);
- resorbing the bone they sit in ends that signal (the exhaustion of the site);
- PTH and strain repress their sclerostin (Keller & Kneissel 2005; Robling et al. 2008);
- they make Wnt1 (Joeng et al. 2017 J Clin Invest 127:2678), which stays within a cell or two of where it is made
  (Wingless's decay length ≈ 6-7.5 µm, Kicheva et al. 2007 Science 315:521), so the Wnt over bone follows the viable
  osteocytes beneath each site;
- the surface layer relaxes toward the marrow's concentrations except under a canopy, which keeps what is made
  there (the bone remodeling compartment, Hauge et al. 2001 JBMR 16:1575; Andersen et al. 2009).
"""

import numpy as np
import pytest

from boneabm.config import OsteocyteConfig, load_experiment
from boneabm.environment.fields import SPECIES
from boneabm.environment.osteocytes import Osteocytes
from boneabm.errors import UserError
from boneabm.model import BoneModel

SPACING = 12.5


def osteocytes(**config):
    return Osteocytes(OsteocyteConfig(density_per_mm3=20_000, **config), (80, 40), SPACING, periodic=False)


def test_the_density_gives_the_osteocytes_within_reach_of_each_site():
    cells = osteocytes(reach_depth_um=50)
    # 20,000 per mm³ × (12.5 µm)² × 50 µm = 20,000 × 7.8125e-6 mm³
    assert cells.viable == pytest.approx(np.full((80, 40), 0.15625))


def test_dying_osteocytes_make_their_neighbours_shed_rankl_nearby_not_far_away():
    cells = osteocytes(apoptosis_signal_range_um=100)
    rest = cells.secretion_molecules(1.0)["rankl"]
    cells.activate(x_um=250, y_um=250, radius_um=50, fraction=0.5, time_h=0.0)
    inside = (250 // SPACING, 250 // SPACING)
    assert cells.viable[int(inside[0]), int(inside[1])] == pytest.approx(0.15625 / 2)
    assert cells.apoptotic.sum() == pytest.approx(0.15625 / 2 * np.count_nonzero(cells.apoptotic))
    rankl = cells.secretion_molecules(1.0)["rankl"]
    near, far = rankl[20, 20], rankl[70, 20]  # 0 and 625 µm from the centre
    assert near > 10 * rest[20, 20] and far == pytest.approx(rest[70, 20], rel=1e-3)
    # sclerostin and OPG come from the viable osteocytes only: fewer where they died
    scl = cells.secretion_molecules(1.0)["sclerostin"]
    assert scl[20, 20] == pytest.approx(scl[70, 20] / 2)


def test_pth_represses_the_osteocytes_sclerostin_and_nothing_else():
    """PTH through PTH1R on osteocytes lowers Sost (Keller & Kneissel 2005 Bone 37:148): K/(K + PTH) of the
    rate without it, K = 0.02 nM, so serum PTH (3 pM) leaves 87 % and a teriparatide peak (0.06 nM) a quarter."""
    def secreted(pth_nM):
        return Osteocytes(OsteocyteConfig(density_per_mm3=20_000), (80, 40), SPACING, periodic=False,
                          pth_nM=pth_nM).secretion_molecules(1.0)
    none, serum, peak = secreted(0.0), secreted(0.003), secreted(0.06)
    np.testing.assert_allclose(serum["sclerostin"], none["sclerostin"] * 0.02 / 0.023)
    np.testing.assert_allclose(peak["sclerostin"], none["sclerostin"] * 0.25)
    assert serum["sclerostin"][0, 0] == pytest.approx(0.15625 * 13_000 * 0.02 / 0.023)  # calibrated, at serum PTH
    for field in ("rankl", "opg", "wnt"):
        np.testing.assert_array_equal(peak[field], none[field])


def test_strain_represses_the_osteocytes_sclerostin_disuse_raises_it_and_nothing_else_changes():
    """Loading lowers Sost and sclerostin in osteocytes and unloading raises them (Robling et al. 2008 J Biol Chem
    283:5866; Lin et al. 2009 JBMR 24:1651): (K + 1,000)/(K + strain) of the rate at habitual load (1,000 µε), K =
    1,000 µε, so disuse doubles it and 3,000 µε halves it; PTH's repression multiplies. At habitual load the
    rate is the calibrated one, so configs and checkpoints written before strain was read give the same BMU."""
    def secreted(strain, pth_nM=0.0):
        return Osteocytes(OsteocyteConfig(density_per_mm3=20_000, strain_microstrain=strain), (80, 40), SPACING,
                          periodic=False, pth_nM=pth_nM).secretion_molecules(1.0)
    disuse, habitual, loaded = secreted(0.0), secreted(1000.0), secreted(3000.0)
    assert habitual["sclerostin"][0, 0] == 0.15625 * 13_000  # sclerostin_per_cell_h, exactly
    np.testing.assert_allclose(disuse["sclerostin"], 2 * habitual["sclerostin"])
    np.testing.assert_allclose(loaded["sclerostin"], habitual["sclerostin"] / 2)
    np.testing.assert_allclose(secreted(3000.0, pth_nM=0.06)["sclerostin"], loaded["sclerostin"] / 4)
    for field in ("rankl", "opg"):
        np.testing.assert_array_equal(loaded[field], disuse[field])


def test_the_wnt_over_bone_is_what_the_viable_osteocytes_beneath_make_and_it_stays_where_they_died():
    """Steady state of a short-range ligand: a site's Wnt is its osteocytes' secretion over its decay, n·s/(λ·V),
    ≈ 1.2 nM at 20,000 per mm³; where an activation killed half of them it is half that, up to the Wnt the
    ≈ 7.5 µm decay length lets in from the living bone around."""
    model = BoneModel(tissue(fields={"marrow_exchange_um_per_h": 0}))
    model.fields.carry_only({"wnt"})
    c = model.experiment.osteocytes
    per_site = c.density_per_mm3 * SPACING**2 * c.reach_depth_um / 1e9
    decay = model.experiment.fields.wnt.decay_per_h
    expected_nM = per_site * c.wnt_per_cell_h / decay / model.fields.molecules_per_nM_site
    assert expected_nM == pytest.approx(1.19, abs=0.01)
    for _ in range(round(7 / model.dt_h)):  # the activation at 1 h, then 19 decay times
        model.step()
    wnt = model.fields.sites["wnt"]
    centre = int(250 // SPACING)
    assert wnt[centre, centre] == pytest.approx(expected_nM / 2, rel=1e-3)
    assert wnt[centre + 12, centre] == pytest.approx(expected_nM, rel=1e-3)  # 150 µm out, all alive
    # the Wnt of the living bone barely reaches in: the last site inside the disk holds ≈ 0.6 of the full level,
    # the one before it within 6 % of the half level (sclerostin, which spreads over millimetres, is near flat)
    edge = int((250 + 100 - SPACING) // SPACING)
    assert expected_nM / 2 < wnt[edge, centre] < expected_nM * 0.65
    assert wnt[edge - 1, centre] == pytest.approx(expected_nM / 2, rel=0.06)


def test_what_osteocytes_make_under_an_open_surface_reaches_the_same_level_whatever_the_tick():
    """The surface layer exchanges with the marrow (k = 50 µm/h over a 10 µm layer = 5/h) while osteocytes secrete
    into it: a steady secretion s holds s/(k + λ) above the marrow's level. Backward Euler for the exchange keeps
    it within the splitting error k·λ·dt of that at any tick (sclerostin, λ = 0.1/h: 5 % at 0.5 h); an exact
    exponential over the tick took all but e^(-k·dt) of each tick's secretion (92 % at 0.5 h, 3.6 times too
    little sclerostin)."""
    def sclerostin_nM(dt_h):
        model = BoneModel(tissue(osteocytes={"density_per_mm3": 20_000, "activations": []},
                                 time={"duration_h": 48, "dt_h": dt_h}))
        model.fields.carry_only({"sclerostin"})
        for _ in range(round(48 / dt_h)):  # 4.8 decay times of the slowest mode, 1/(k + λ)
            model.step()
        return model.fields.sites["sclerostin"].mean(), model
    coarse, model = sclerostin_nM(0.5)
    fine, _ = sclerostin_nM(0.1)
    c = model.experiment.osteocytes
    k, decay = 50 / 10, model.experiment.fields.sclerostin.decay_per_h
    share = c.sclerostin_pth_half_nM / (c.sclerostin_pth_half_nM + model.experiment.osteoblasts.signaling.pth_nM)
    s_nM_per_h = 0.15625 * c.sclerostin_per_cell_h * share / model.fields.molecules_per_nM_site
    continuous = s_nM_per_h / (k + decay)
    assert coarse == pytest.approx(s_nM_per_h / (k + decay + k * decay * 0.5), rel=1e-3)
    assert fine == pytest.approx(continuous, rel=0.02) and coarse == pytest.approx(continuous, rel=0.06)


def test_eroding_the_layer_takes_the_apoptotic_osteocytes_and_their_signal_with_it():
    cells = osteocytes(reach_depth_um=50)
    cells.activate(250, 250, 50, 0.5, 0.0)
    dead = cells.apoptotic.copy()
    eroded = np.zeros((80, 40))
    eroded[dead > 0] = 25.0  # half the layer
    cells.erode(eroded)
    np.testing.assert_allclose(cells.apoptotic, dead / 2)
    cells.erode(eroded)  # the same depth again removes nothing more
    np.testing.assert_allclose(cells.apoptotic, dead / 2)
    eroded[dead > 0] = 60.0  # through the layer
    cells.erode(eroded)
    assert cells.apoptotic.sum() == 0


def test_dying_osteocytes_the_osteoclasts_never_reach_stop_signalling_when_they_have_finished_dying():
    """Apoptotic osteocytes drive their neighbours' RANKL through the ATP they release while dying (pannexin-1,
    P2X7: Cheung et al. 2016 JBMR 31:890); once dead they are empty lacunae and RANKL returns to rest."""
    cells = osteocytes(apoptosis_signal_days=10)
    rest = cells.secretion_molecules(1.0)["rankl"]
    cells.activate(250, 250, 50, 0.5, time_h=24.0)
    cells.finish_dying(24.0 + 10 * 24 - 0.5)  # half an hour short of ten days: still signalling
    assert cells.secretion_molecules(1.0)["rankl"][20, 20] > 10 * rest[20, 20]
    cells.finish_dying(24.0 + 10 * 24)
    assert cells.apoptotic.sum() == 0 and np.isnan(cells.apoptotic_since_h).all()
    assert cells.viable[20, 20] == pytest.approx(0.15625 / 2)  # the dead do not come back
    # each viable osteocyte sheds at rest again (half of them are gone where the disk was)
    np.testing.assert_allclose(cells.secretion_molecules(1.0)["rankl"], rest * cells.viable / 0.15625)
    # null: they signal until the osteoclasts resorb them
    lasting = osteocytes(apoptosis_signal_days=None)
    lasting.activate(250, 250, 50, 0.5, time_h=0.0)
    lasting.finish_dying(1e6)
    assert lasting.apoptotic.sum() > 0


def tissue(**changes):
    data = {"seed": 1, "domain": {"width_um": 1000, "height_um": 500, "grid_spacing_um": SPACING},
            "precursors": {"plating_density_per_cm2": 0}, "medium": {"change_every_h": None, "mcsf_ng_ml": 30},
            "fields": {"mode": "tissue", "boundary": "no_flux", "marrow_exchange_um_per_h": 50,
                       "rankl": {"diffusivity_um2_per_h": 2.9e5, "decay_per_h": 0.42}},
            "osteocytes": {"density_per_mm3": 20_000,
                           "activations": [{"at_h": 1, "x_um": 250, "y_um": 250, "radius_um": 100}]},
            "time": {"duration_h": 24}}
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return load_experiment(data=data)


def test_an_activation_raises_rankl_where_osteocytes_died_and_a_canopy_keeps_it_there():
    open_model, covered = BoneModel(tissue()), BoneModel(tissue())
    covered.fields.canopy[:40, :] = True  # the left half, over the activation
    for model in (open_model, covered):
        for _ in range(round(12 / model.dt_h)):
            model.step()
    rankl_open, rankl_covered = open_model.fields.sites["rankl"], covered.fields.sites["rankl"]
    # 0 and ≈ 700 µm from the centre; RANKL spreads ≈ 230 µm before the marrow takes it
    near, far = (20, 20), (75, 35)
    assert rankl_open[near] > 3 * rankl_open[far]
    assert rankl_covered[near] > 3 * rankl_open[near]  # the canopy stops the leak into the marrow
    # the marrow holds M-CSF at the medium section's level where the surface is open (nothing takes it up here)
    assert open_model.fields.sites["mcsf"][far] == pytest.approx(open_model.fields.marrow["mcsf"], rel=1e-6)


def test_a_closed_tissue_keeps_what_its_osteocytes_make():
    closed = BoneModel(tissue(fields={"marrow_exchange_um_per_h": 0}))
    opened = BoneModel(tissue())
    for model in (closed, opened):
        model.fields.carry_only(set(SPECIES))  # sclerostin: only osteoblasts read it, and there are none here
        for _ in range(round(6 / model.dt_h)):
            model.step()
    assert closed.fields.sites["sclerostin"].mean() > 2 * opened.fields.sites["sclerostin"].mean()
    assert closed.fields.marrow is None


def test_activations_need_osteocytes_and_a_place_on_the_surface():
    with pytest.raises(UserError, match=r"osteocytes\.activations\[0\].*no osteocytes"):
        load_experiment(data={"osteocytes": {"activations": [{"at_h": 1, "x_um": 10, "y_um": 10, "radius_um": 5}]}})
    with pytest.raises(UserError, match=r"osteocytes\.activations\[0\].*outside the domain"):
        tissue(osteocytes={"activations": [{"at_h": 1, "x_um": 5000, "y_um": 10, "radius_um": 5}]})
    with pytest.raises(UserError, match=r"fields\.marrow_exchange_um_per_h = 50\.0 needs fields\.mode = 'tissue'"):
        load_experiment(data={"fields": {"marrow_exchange_um_per_h": 50}})


def test_the_canopy_covers_the_surface_being_remodeled_and_a_checkpoint_continues_exactly(tmp_path):
    from boneabm.state import load, save

    model = BoneModel(tissue(fields={"canopy_margin_um": 25}))
    for _ in range(round(2 / model.dt_h)):
        model.step()
    dying = model.osteocytes.apoptotic > 0
    canopy = model.fields.canopy
    # the activated disk and two sites (25 µm) around it, nothing else
    assert canopy[dying].all() and canopy.sum() > dying.sum()
    assert not canopy[60:, :].any()
    save(model.state(), tmp_path / "state")
    restored = BoneModel.from_state(load(tmp_path / "state"))
    for m in (model, restored):
        for _ in range(round(2 / m.dt_h)):
            m.step()
    for name in ("rankl", "sclerostin", "mcsf"):
        np.testing.assert_array_equal(model.fields.sites[name], restored.fields.sites[name])
    np.testing.assert_array_equal(model.osteocytes.apoptotic, restored.osteocytes.apoptotic)


def test_a_dose_into_the_marrow_is_cleared_at_its_decay_rate_while_the_baseline_holds():
    """What the README says of the marrow: a drug dosed into it decays at the species' rate (the antibody's
    26-day half-life); the levels the medium section sets (M-CSF here) stay."""
    model = BoneModel(tissue(doses=[{"drug": "anti_rankl_antibody", "ng_ml": 1000, "at_h": 0}]))
    for _ in range(round(24 / model.dt_h)):
        model.step()
    dosed = 1000 / 147.0 * 2  # nM of binding sites: 1000 ng/mL of a 147 kDa IgG with two arms
    marrow = model.fields.marrow
    free_and_bound = marrow["antibody"] + marrow["rankl_antibody"]
    assert free_and_bound == pytest.approx(dosed * np.exp(-0.00111 * 24), rel=1e-9)
    assert marrow["mcsf"] == model.fields.marrow_baseline["mcsf"] > 0


def test_a_site_leaves_the_remodeling_surface_once_its_formation_has_stopped_refilled_or_not():
    """Eroded surface stays under the canopy until formation reaches it (resorption, then reversal), osteoid
    while it is laid; once a site's osteoblasts have stopped and its last osteoid has mineralised it is
    quiescent again, though its cavity is only partly refilled (an incomplete refill leaves a deficit; Eriksen
    1986 Endocr Rev 7:379)."""
    from boneabm.environment.canopy import remodeling_surface

    bone = BoneModel(tissue()).bone
    p = bone.config.pixels_per_site
    bone.mineral_depth_um[10 * p:13 * p, 10 * p:13 * p] = 30.0  # a cavity under sites (10-12, 10-12)
    assert remodeling_surface(bone, None).sum() == 9
    area_um2 = (p * bone.pixel_um) ** 2
    bone.form(0.0, np.array([10]), np.array([10]), np.array([5.0 * area_um2]))  # 5 µm of osteoid at one site
    assert remodeling_surface(bone, None).sum() == 9
    bone.new_bone.advance(bone.new_bone.kinetics.lag_days * 24 + 24)  # its osteoid has mineralised
    surface = remodeling_surface(bone, None)
    assert not surface[10, 10] and surface.sum() == 8
    assert bone.site_mean(bone.mineral_depth_um - bone.formed_depth_um())[10, 10] == pytest.approx(25.0)


def test_a_fork_unloads_the_bone_from_its_checkpoint_on(tmp_path):
    """Disuse from mid-run on (bed rest during a BMU): a fork of a tissue run that sets
    `osteocytes.strain_microstrain: 0` continues the checkpoint's osteocytes with their sclerostin doubled."""
    import boneabm
    from boneabm.catalog import find
    from boneabm.continuation import plan_fork
    from boneabm.runner import Checkpointing, checkpoints_in, execute
    from boneabm.yamlio import read_yaml

    data = read_yaml(find("bmu").path)
    data["domain"].update(width_um=250, height_um=250)
    data["time"].update(duration_h=6, record_every_h=1, snapshot_every_h=6)
    data["osteocytes"]["activations"] = []
    data["seed"] = 1
    parent = execute(load_experiment(data=data), tmp_path / "parent", checkpointing=Checkpointing(3))
    checkpoint = checkpoints_in(parent)[0]
    saved, experiment, record = plan_fork(checkpoint, ["osteocytes.strain_microstrain=0"])
    assert record["changes"] == {"osteocytes.strain_microstrain": 0}
    habitual, unloaded = BoneModel.from_state(saved), BoneModel.from_state(saved, experiment)
    np.testing.assert_array_equal(unloaded.osteocytes.viable, habitual.osteocytes.viable)
    np.testing.assert_allclose(unloaded.osteocytes.secretion_molecules(1.0)["sclerostin"],
                               2 * habitual.osteocytes.secretion_molecules(1.0)["sclerostin"])
    run = boneabm.fork(checkpoint, ["osteocytes.strain_microstrain=0"], out=tmp_path / "unloaded")
    assert run.config["osteocytes"]["strain_microstrain"] == 0
