"""An osteoclast's resorption apparatus: spread area and sealing zone from its size and integrin β3, protons
from its pumps in the ruffled border, mineral from the protons by stoichiometry, collagen from cathepsin K."""

import numpy as np
import pytest

from boneabm.cells.osteoclast import resorption as r
from boneabm.config import BoneConfig, DomainConfig, OsteoclastConfig
from boneabm.environment.bone import Bone

P = OsteoclastConfig()
PER_NUCLEUS = 35.0  # function genes per nucleus of a wild-type osteoclast in the default culture (days 4-7)


def wild_type(nuclei, **per_nucleus):
    """resorption() of a cell with ``nuclei`` and wild-type genes per nucleus, unless given."""
    genes = {name: per_nucleus.get(name, PER_NUCLEUS) * nuclei for name in ("trap", "ctsk", "atp6v0d2", "itgb3")}
    return r.resorption(np.float64(nuclei), genes["trap"], genes["ctsk"], genes["atp6v0d2"], genes["itgb3"], P)


def test_protons_per_um3_of_bone_follow_the_apatite_stoichiometry_and_bone_calcium():
    # 1 µm³ = 1e-12 cm³ of bone at 1.92 g/cm³, 22.5 % calcium: 4.32e-13 g Ca = 1.078e-14 mol; 14 H⁺ per 10 Ca
    calcium_mol = 1e-12 * 1.92 * 0.225 / 40.078
    assert r.PROTONS_PER_UM3_BONE == pytest.approx(1.4 * calcium_mol * 6.02214076e23, rel=1e-12)
    assert r.PROTONS_PER_UM3_BONE == pytest.approx(9.09e9, rel=1e-3)
    # 1e9 H⁺/s for an hour dissolves ≈ 396 µm³, about the mean single osteoclast of Kanehisa & Heersche 1988
    assert r.mineral_um3(1e9 * 3600) == pytest.approx(396.1, abs=0.1)


def test_without_atp6v0d2_nothing_is_demineralised_though_the_cell_seals():
    mineral, collagen, radius = wild_type(6, atp6v0d2=0.0)
    assert mineral == 0 and radius > 5
    # so nothing is exposed for cathepsin K, however much of it there is: the bone removes no collagen
    bone = Bone(BoneConfig(), DomainConfig(width_um=500, height_um=500, grid_spacing_um=25))
    assert collagen > 0 and bone.resorb(1, 250, 250, radius, mineral, collagen) == (0.0, 0.0)


def test_without_integrin_beta3_there_is_no_sealing_zone_and_no_resorption():
    mineral, _, radius = wild_type(6, itgb3=0.0)
    assert mineral == 0 and radius == 0


def test_without_cathepsin_k_the_mineral_goes_and_the_collagen_stays():
    mineral, collagen, radius = wild_type(6, ctsk=0.0)
    assert mineral == pytest.approx(wild_type(6)[0]) and collagen == 0
    bone = Bone(BoneConfig(), DomainConfig(width_um=500, height_um=500, grid_spacing_um=25))
    removed_mineral, removed_collagen = bone.resorb(1, 250, 250, radius, mineral, collagen)
    assert removed_mineral == pytest.approx(mineral) and removed_collagen == 0


def test_a_wild_type_cells_cathepsin_k_keeps_up_with_its_acid():
    """Collagen digestion is limited by what is demineralised, not by cathepsin K, in wild-type cells."""
    for nuclei in (3, 6, 12, 30):
        mineral, collagen, _ = wild_type(nuclei)
        assert collagen > 1.5 * mineral


def test_more_pumps_under_the_same_sealing_zone_saturate():
    seal = r.sealing_zone_area_um2(6.0, 6 * PER_NUCLEUS, P)
    pumps = 6 * PER_NUCLEUS * np.array([1.0, 2.0, 4.0, 8.0, 64.0])
    protons = r.protons_per_h(6.0, 6 * PER_NUCLEUS, pumps, seal, P)
    gains = protons[1:4] / protons[:3]  # each doubling
    assert np.all(gains > 1) and np.all(gains < 2) and np.all(np.diff(gains) < 0)
    ceiling = P.proton_flux_per_um2_per_s * seal * 3600 * (0.5 + 0.5 * PER_NUCLEUS / (PER_NUCLEUS + 10))
    assert protons[-1] < ceiling and protons[-1] > 0.95 * ceiling
    # a larger sealing zone with the pumps to fill it does scale: twice both, twice the protons
    assert r.protons_per_h(6.0, 6 * PER_NUCLEUS, 2 * pumps[0], 2 * seal, P) == pytest.approx(2 * protons[0])


def test_the_footprint_is_the_sealing_zone_which_grows_with_the_spread_area():
    for nuclei in (3.0, 7.0, 20.0):
        _, _, radius = wild_type(nuclei)
        spread = P.spread_area_one_nucleus_um2 * nuclei ** P.spread_area_nuclei_exponent
        sealed = P.sealing_zone_area_fraction * spread * PER_NUCLEUS / (PER_NUCLEUS + P.function_gene_half_molecules)
        assert np.pi * radius**2 == pytest.approx(sealed)
    # at saturating integrin, twice the nuclei seal 2^exponent (2^(2/3) ≈ 1.59) times the area, not twice
    big, small = (wild_type(n, itgb3=1e9)[2] ** 2 for n in (10.0, 5.0))
    assert big / small == pytest.approx(2 ** P.spread_area_nuclei_exponent)


def test_larger_osteoclasts_resorb_more_but_less_per_nucleus():
    """Piper, Boyde & Jones 1992: pit volume rises with nuclei, the volume per nucleus falls."""
    nuclei = np.array([3.0, 5.0, 10.0, 20.0, 40.0])
    mineral = np.array([wild_type(n)[0] for n in nuclei])
    assert np.all(np.diff(mineral) > 0) and np.all(np.diff(mineral / nuclei) < 0)
    assert 43 <= wild_type(10)[0] <= 1225  # Kanehisa & Heersche 1988's range for a mid-sized osteoclast


def test_a_footprint_partly_on_covered_bone_seals_and_acidifies_only_its_bare_part():
    """The actin ring seals on bare mineralised bone only (lining cells keep osteoclasts off, Everts et al. 2002
    JBMR 17:77; osteoid offers no mineral to seal on), so the lacuna and the ruffled border shrink with the bare
    share: the same pumps in a smaller border run nearer their ceiling, but the bone under the bare part never
    deepens faster than the ruffled border's maximal flux allows, however little of the footprint is bare."""
    whole = wild_type(10)[0]
    ceiling_um_per_h = P.proton_flux_per_um2_per_s * 3600 / r.PROTONS_PER_UM3_BONE
    seal = r.sealing_zone_area_um2(10.0, 10 * PER_NUCLEUS, P)
    for share in (0.5, 0.2, 0.05):
        genes = 10 * PER_NUCLEUS
        part = r.resorption(np.float64(10.0), genes, genes, genes, genes, P, share)[0]
        assert share * whole < part < whole
        assert part / (share * seal) <= ceiling_um_per_h
    # a footprint with nothing bare resorbs nothing
    assert r.resorption(np.float64(10.0), *(4 * [10 * PER_NUCLEUS]), P, 0.0)[0] == 0
    # a deep shaft under the one bare pixel of a big footprint would need the whole cell's volume there: the bone
    # sizes the share from the footprint's pixels
    domain = DomainConfig(width_um=200, height_um=200, grid_spacing_um=25)
    bone = Bone(BoneConfig(pixels_per_site=2), domain)
    radius = r.footprint_radius_um(seal)
    assert bone.bare_share([100.0], [100.0], [radius])[0] == 1.0
    covered = np.ones(domain.shape, dtype=bool)
    covered[:4, :] = False  # x < 100 µm: the footprint centred at x = 100 µm is half bare
    bone.cover(covered)
    assert bone.bare_share([100.0], [100.0], [radius])[0] == pytest.approx(0.5, abs=0.06)
    bone.cover(np.ones(domain.shape, dtype=bool))
    assert bone.bare_share([100.0], [100.0], [radius])[0] == 0.0


def test_an_osteoclast_on_one_bare_pixel_does_not_pour_its_whole_volume_into_it():
    """The shipped assay on a 0.5 mm square with 5 µm pixels until an osteoclast resorbs (day 4); then all the bone
    but the one pixel under each resorbing cell's centre is covered. The lineage must size each cell's acid to
    that bare share, so no pixel deepens faster than the ruffled border's maximal flux (× the trench factor):
    pouring a footprint's whole volume into one 5 × 5 µm pixel deepened it about three times faster."""
    from boneabm.catalog import find
    from boneabm.cells.osteoclast import fates
    from boneabm.config import validate
    from boneabm.model import BoneModel
    from boneabm.yamlio import read_yaml

    data = read_yaml(find("osteoclastogenesis").path)
    data.update(seed=5, bone={**data.get("bone", {}), "pixels_per_site": 5})
    data["domain"].update(width_um=500, height_um=500)
    model = BoneModel(validate(data))
    lineage, pop, q = model.osteoclasts, model.osteoclasts.population, model.experiment.osteoclasts

    def resorbing():
        rows = pop.rows
        return rows[np.isin(pop.mode[rows], (fates.PIT, fates.TRENCH)) & (pop.nuclei[rows] >= q.min_nuclei)]

    while resorbing().size == 0:
        assert model.time_h < 150, "no osteoclast resorbed by day 6"
        model.step()
    rows, bone = resorbing(), model.bone
    covered = np.ones(bone.shape, dtype=bool)
    centre_px = ((pop.x[rows] + 0.5) * 5).astype(int), ((pop.y[rows] + 0.5) * 5).astype(int)
    covered[centre_px] = False
    bone.covered_px = covered  # (a new map, as ``Bone.cover`` makes)
    before = bone.mineral_depth_um.copy()
    lineage._resorb(bone, model.dt_h)
    deepened = bone.mineral_depth_um - before
    ceiling_um = P.proton_flux_per_um2_per_s * 3600 / r.PROTONS_PER_UM3_BONE * q.trench_rate_factor * model.dt_h
    assert deepened[centre_px].min() > 0
    assert deepened.max() <= ceiling_um * (1 + 1e-9)
    assert np.count_nonzero(deepened) == np.unique(np.ravel_multi_index(centre_px, bone.shape)).size
