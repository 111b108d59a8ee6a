"""Cells recruited from a marrow pool (boneabm/cells/recruitment.py): a count until a factor at a free site calls a
cell there.

Checked: arrivals per tick follow the Bernoulli law the module states (mean within 4 sd over many ticks); no
factor, no arrivals; a small pool runs dry and refills at its renewal rate; and, in a model, resorption couples
to recruitment: the TGF-β1 osteoclasts free from the collagen they degrade brings mesenchymal progenitors to the
surface once resorption starts (Tang et al. 2009 Nat Med 15:757), which cathepsin K-deficient osteoclasts, degrading no
collagen, do not (Saftig et al. 1998 PNAS 95:13453).
"""

import numpy as np
import pytest

from boneabm.cells.recruitment import MarrowPool
from boneabm.config import load_experiment, with_seed
from boneabm.model import BoneModel


class UniformField:
    def __init__(self, shape, nM):
        self.sites = {"tgfb": np.full(shape, nM)}


def test_arrivals_follow_the_stated_bernoulli_law():
    shape, dt_h, ticks = (40, 40), 0.1, 400
    pool = MarrowPool("tgfb", half_nM=0.5, steady_cells=1e12, recruitment_per_site_h=0.02, renewal_per_h=1.0)
    empty = np.ones(shape, dtype=bool)
    rng = np.random.default_rng(1)
    counts = [pool.recruit(UniformField(shape, 0.5), empty, rng, dt_h)[0].size for _ in range(ticks)]
    p = -np.expm1(-0.02 * 0.5 * dt_h)  # half occupancy
    n = shape[0] * shape[1]
    expected, sd = n * p * ticks, np.sqrt(n * p * (1 - p) * ticks)
    assert abs(sum(counts) - expected) < 4 * sd


def test_no_factor_no_arrivals_and_only_on_free_sites():
    shape = (20, 20)
    pool = MarrowPool("tgfb", 0.5, steady_cells=1e6, recruitment_per_site_h=10.0, renewal_per_h=1.0)
    rng = np.random.default_rng(2)
    assert pool.recruit(UniformField(shape, 0.0), np.ones(shape, bool), rng, 1.0)[0].size == 0
    empty = np.zeros(shape, bool)
    empty[3, 4] = True
    x, y = pool.recruit(UniformField(shape, 5.0), empty, rng, 1.0)
    assert (x.tolist(), y.tolist()) in (([3], [4]), ([], []))


def test_a_small_pool_runs_dry_and_refills_at_its_renewal_rate():
    shape = (30, 30)
    pool = MarrowPool("tgfb", 0.5, steady_cells=20, recruitment_per_site_h=100.0, renewal_per_h=0.1)
    rng = np.random.default_rng(3)
    arrived = pool.recruit(UniformField(shape, 5.0), np.ones(shape, bool), rng, 0.1)[0].size
    assert arrived == 20  # every free site would take one: the pool is the limit
    assert pool.cells == pytest.approx(-20 * np.expm1(-0.1 * 0.1), rel=1e-12)  # refilling from empty
    far = MarrowPool("tgfb", 0.5, steady_cells=20, recruitment_per_site_h=100.0, renewal_per_h=0.1, cells=0.0)
    for _ in range(100):  # 10 h with nothing to recruit
        far.recruit(UniformField(shape, 0.0), np.ones(shape, bool), rng, 0.1)
    assert far.cells == pytest.approx(20 * -np.expm1(-0.1 * 10), rel=1e-9)


def coupled(knockouts=(), osteoblast_signaling=None):
    """Osteoclasts form and resorb on a 1 mm slice (RANKL 50 ng/mL); the marrow holds progenitors that active
    TGF-β1 recruits. The cells' layer exchanges slowly with the medium (20 µm/h), as a confined compartment
    does, so the TGF-β freed stays near its source instead of being washed into the medium. Returns the model
    after 6 days."""
    experiment = load_experiment(data={
        "seed": 4, "domain": {"width_um": 1000, "height_um": 1000}, "medium": {"rankl_ng_ml": 50},
        "time": {"duration_h": 144}, "signaling": {"knockouts": list(knockouts)},
        "fields": {"medium_exchange_um_per_h": 20},
        "osteoblasts": {"enabled": True, "marrow_progenitors_per_mm2": 100, "recruitment_per_mm2_per_h": 2000,
                        "marrow_renewal_per_h": 0.05, "signaling": osteoblast_signaling or {}}})
    model = BoneModel(experiment)
    model.first_collagen_h = model.first_arrival_h = None
    lineage = model.lineages["osteoblast"]
    for _ in range(round(144 / model.dt_h)):
        model.step()
        if model.first_collagen_h is None and model.fields.released_from_matrix_molecules["tgfb"] > 0:
            model.first_collagen_h = model.time_h
        if model.first_arrival_h is None and lineage.recruited_total > 0:
            model.first_arrival_h = model.time_h
    return model


@pytest.fixture(scope="module")
def wild_type():
    return coupled()


def test_tgfb_freed_by_resorption_recruits_progenitors_once_osteoclasts_resorb(wild_type):
    recruited = wild_type.lineages["osteoblast"].recruited_total
    assert recruited > 30  # measured 86 (seed 4)
    # none before the first collagen is degraded: the marrow is quiet until resorption frees TGF-β
    assert wild_type.first_arrival_h >= wild_type.first_collagen_h > 48


def test_without_cathepsin_k_no_collagen_is_degraded_and_no_progenitor_is_recruited():
    model = coupled(knockouts=["Ctsk"])
    assert model.bone.mineral_depth_um.max() > 0  # they still demineralise
    assert model.fields.released_from_matrix_molecules["tgfb"] == 0
    assert model.lineages["osteoblast"].recruited_total == 0


def test_blocking_tbri_blocks_recruitment_as_it_blocks_smad_signaling(wild_type):
    """Tang et al. 2009 Nat Med 15:757: a TβRI kinase inhibitor stops the migration of mesenchymal progenitors to
    resorption sites. Pool cells run no network, so the block reaches them through the share of SMAD2/3
    phosphorylation the perturbation leaves (``Lineage.transmission``): none with the inhibitor or without TβRI,
    half with the inhibitor at half strength."""
    blocked = coupled(osteoblast_signaling={"inhibitors": [{"target": "tbri_kinase_inhibitor"}]})
    assert blocked.fields.released_from_matrix_molecules["tgfb"] > 0  # resorption frees TGF-β as before
    assert blocked.lineages["osteoblast"].recruited_total == 0
    lineage = wild_type.lineages["osteoblast"]
    assert lineage.transmission("proliferation_signal") == 1.0
    for perturbations, share in (({"inhibitors": [{"target": "tbri_kinase_inhibitor", "remaining_activity": 0.5}]}, 0.5),
                                 ({"knockouts": ["Tgfbr1"]}, 0.0), ({"knockouts": ["Sp7"]}, 1.0)):
        experiment = with_seed(load_experiment(data={"osteoblasts": {"enabled": True, "signaling": perturbations}}), 1)
        assert BoneModel(experiment).lineages["osteoblast"].transmission("proliferation_signal") == share
