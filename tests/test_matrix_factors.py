"""Coupling's first step: the growth factors the bone matrix stores leave it as osteoclasts degrade its collagen.

Tang et al. 2009 Nat Med 15:757 (active TGF-β1 released by resorption) and Xian et al. 2012 Nat Med 18:1095
(matrix IGF-1); contents in docs/references.md#coupling. Checked: the conversion from a content per gram of bone
to molecules per µm³, mass conservation from the matrix into the fields, nothing freed where cathepsin K leaves
the collagen, and in a running model every freed molecule accounted for by the collagen its osteoclasts removed.
"""

import numpy as np
import pytest

from boneabm.config import BoneConfig, DomainConfig, MatrixConfig, load_experiment
from boneabm.environment.bone import Bone
from boneabm.environment.fields import SPECIES, Fields
from boneabm.environment.matrix import active_molecules_per_um3
from boneabm.model import BoneModel


def test_a_content_per_gram_of_bone_becomes_molecules_per_cubic_micrometre():
    # 200 ng/g at 2 g/cm³ is 400 ng/cm³ = 16 pmol/cm³ of a 25 kDa dimer = 1.6e-23 mol/µm³ ≈ 9.6 molecules/µm³,
    # of which 30 % active; IGF-1: 85 ng/g → 170 ng/cm³ / 7650 g/mol = 22.2 pmol/cm³ ≈ 13.4 molecules/µm³
    per_um3 = active_molecules_per_um3(MatrixConfig(tgfb_ng_per_g=200, tgfb_active_fraction=0.3, igf1_ng_per_g=85,
                                                    igf1_active_fraction=0.5, density_g_per_cm3=2.0))
    assert per_um3["tgfb"] == pytest.approx(16e-12 * 1e-12 * 6.02214076e23 * 0.3, rel=1e-9)
    assert per_um3["igf1"] == pytest.approx(170e-9 / 7650 * 1e-12 * 6.02214076e23 * 0.5, rel=1e-9)
    assert per_um3["tgfb"] == pytest.approx(2.89, abs=0.01)


def tissue(**bone):
    data = {"seed": 1, "domain": {"width_um": 500, "height_um": 500, "grid_spacing_um": 25},
            "fields": {"mode": "tissue", "tgfb": {"diffusivity_um2_per_h": 4.1e5, "decay_per_h": 0.0}},
            "medium": {"change_every_h": None}, "bone": bone}
    return load_experiment(data=data)


def test_what_resorption_frees_enters_the_fields_at_the_osteoclasts_site_and_is_conserved():
    experiment = tissue()
    bone, fields = Bone(experiment.bone, experiment.domain), Fields(experiment)
    removed = bone.resorb_many(np.array([7, 8]), np.array([112.5, 312.5]), np.array([62.5, 437.5]),
                               np.array([15.0, 15.0]), np.array([300.0, 50.0]), np.array([600.0, 100.0]))
    x, y, freed = bone.take_freed_factors()
    assert (x.tolist(), y.tolist()) == ([4, 12], [2, 17])  # the sites of the two centres, 25 µm apart
    per_um3 = active_molecules_per_um3(experiment.bone.matrix)
    np.testing.assert_allclose(freed["tgfb"], removed[:, 1] * per_um3["tgfb"])
    fields.release_from_matrix(x, y, freed)
    assert fields.amount("tgfb") == pytest.approx(freed["tgfb"].sum(), rel=1e-12)
    assert fields.sites["tgfb"][4, 2] > 0 and fields.sites["tgfb"][12, 17] > 0
    fields.step()  # diffusion without decay moves it and keeps it
    assert fields.amount("tgfb") == pytest.approx(freed["tgfb"].sum(), rel=1e-9)
    assert fields.sites["tgfb"][4, 2] < fields.amount("tgfb") / fields.molecules_per_nM_site
    # taken once: the next tick starts with nothing freed
    assert bone.take_freed_factors()[0].size == 0


def test_without_cathepsin_k_demineralisation_frees_nothing():
    """The factors are bound to the organic matrix: dissolving the mineral alone leaves them in the collagen
    (a cathepsin K-deficient osteoclast, Saftig 1998, demineralises but degrades no collagen)."""
    bone = Bone(BoneConfig(), DomainConfig(width_um=500, height_um=500, grid_spacing_um=25))
    removed = bone.resorb(1, 250, 250, 15.0, 400.0, 0.0)
    assert removed[0] > 0 and removed[1] == 0
    _, _, freed = bone.take_freed_factors()
    assert all(amounts.sum() == 0 for amounts in freed.values())


def test_in_a_culture_every_freed_molecule_comes_from_collagen_its_osteoclasts_removed():
    experiment = load_experiment(data={"seed": 4, "domain": {"width_um": 1000, "height_um": 1000},
                                       "medium": {"rankl_ng_ml": 50}, "time": {"duration_h": 120}})
    model = BoneModel(experiment)
    model.fields.carry_only(set(SPECIES))  # nothing in a culture reads them: carried here to see where they go
    for _ in range(round(120 / model.dt_h)):
        model.step()
    collagen_um3 = sum(amounts[1] for amounts in model.bone.removed_by.values())
    assert collagen_um3 > 1000  # osteoclasts formed and resorbed
    per_um3 = active_molecules_per_um3(experiment.bone.matrix)
    for name in ("tgfb", "igf1"):
        assert model.fields.released_from_matrix_molecules[name] == pytest.approx(collagen_um3 * per_um3[name],
                                                                                  rel=1e-9)
    # active TGF-β is cleared within minutes, so what is left sits where osteoclasts are resorbing now
    tgfb = model.fields.sites["tgfb"]
    assert tgfb.max() > 0 and np.count_nonzero(tgfb > 1e-3 * tgfb.max()) < 0.5 * tgfb.size
