"""The osteoblast lineage as Mesa agents running boneabm/signaling/networks/osteoblast.yaml in the model.

Phenotypes checked (docs/references.md#osteoblast-lineage, #coupling):
- without TGF-β, progenitors commit by Osterix within days and lay down matrix, every packet accounted for on the
  bone (Nakashima et al. 2002 Cell 108:17: Osterix marks the committed osteoblast);
- without the osteocytes' Wnt fewer progenitors commit and little matrix is laid (Joeng et al. 2017 J Clin Invest
  127:2678: an osteocyte Wnt1 deletion lowers bone formation);
- Runx2⁻/⁻ progenitors never commit and make no matrix (Komori et al. 1997 Cell 89:755);
- active TGF-β1 keeps progenitors dividing and holds them back from committing, and a TβRI kinase inhibitor
  abolishes both (Tang et al. 2009 Nat Med 15:757; Alliston et al. 2001 EMBO J 20:2254);
- a checkpoint of a model with osteoblasts and new bone continues exactly.
Counts are of 100 founding progenitors; each threshold is several binomial or Poisson sd from its alternative.
"""

import numpy as np
import pytest
from conftest import WNT_HALF_SATURATING

from boneabm.config import load_experiment, with_seed
from boneabm.errors import UserError
from boneabm.model import BoneModel
from boneabm.state import load, save

DAYS = 4


def experiment(knockouts=(), inhibitors=(), seed=3):
    return load_experiment(data={
        "seed": seed, "domain": {"width_um": 500, "height_um": 500, "grid_spacing_um": 12.5},
        "precursors": {"plating_density_per_cm2": 0},
        "fields": {"mode": "tissue"}, "medium": {"change_every_h": None},
        # no cement line asked for, so osteoid goes on at once: these tests are about the network and the fates
        # (the default cement gate is tested in tests/test_reversal.py)
        "osteoblasts": {"enabled": True, "initial_progenitors_per_mm2": 400, "cement_line_um": 0,
                        "signaling": {"knockouts": list(knockouts), "inhibitors": list(inhibitors)}},
        "osteocytes": WNT_HALF_SATURATING,
        "time": {"duration_h": 24 * DAYS}})


def run(model, days=DAYS, tgfb_nM=0.0):
    """Advance ``days``; ``tgfb_nM`` holds active TGF-β1 at every site (as if resorption kept freeing it)."""
    for _ in range(round(24 * days / model.dt_h)):
        if tgfb_nM:
            model.fields.sites["tgfb"][:] = tgfb_nM
        model.step()
    return model.lineages["osteoblast"]


@pytest.fixture(scope="module")
def wild_type():
    return run(BoneModel(experiment()))


def test_without_tgfb_progenitors_commit_and_lay_down_matrix_all_of_it_on_the_bone(wild_type):
    counts = wild_type.counts()
    committed = counts["n_osteoblasts"] + counts["n_lining_cells"]
    gone = counts["osteoblast_deaths_total"] + counts["osteocytes_embedded_total"]
    assert counts["n_osteoprogenitors"] + committed + gone == 100
    assert counts["osteoblast_divisions_total"] == 0  # no SMAD2/3 signal, no division
    assert committed > 80  # committed within a day or two (Osterix ≈ 13 > 10 per nucleus)
    bone = wild_type.model.bone
    formed_um3 = bone.new_bone.formed_um.sum() * bone.pixel_area_um2
    assert counts["matrix_formed_um3"] > 20 * 80  # tens of µm³ per osteoblast a day
    assert formed_um3 == pytest.approx(counts["matrix_formed_um3"], rel=1e-9)
    # the matrix lies where osteoblasts are: every site with a committed cell has some under it
    pop = wild_type.population
    committed = pop.rows[pop.committed[pop.rows]]
    p = bone.config.pixels_per_site
    under = bone.new_bone.formed_um[pop.x[committed] * p, pop.y[committed] * p]
    assert np.mean(under > 0) > 0.95


def test_without_the_osteocytes_wnt_fewer_progenitors_commit_and_little_matrix_is_laid(wild_type):
    """Osteocytes' Wnt1 drives osteoblast function: deleting it from them lowers bone formation (Joeng et al. 2017 J
    Clin Invest 127:2678). With no Wnt reaching LRP5/6, β-catenin no longer induces Runx2, so about half the
    progenitors stay uncommitted after 4 days (≈ 45 of 100 against ≈ 1, far more than the binomial spread) and the
    matrix laid falls about eight-fold (asserted: at least three-fold)."""
    data = experiment().to_dict()
    data["osteocytes"]["wnt_per_cell_h"] = 0
    knocked = run(BoneModel(load_experiment(data=data))).counts()
    wild = wild_type.counts()
    assert knocked["n_osteoprogenitors"] > 25 and wild["n_osteoprogenitors"] < 10
    assert knocked["matrix_formed_um3"] < wild["matrix_formed_um3"] / 3


def test_runx2_knockout_progenitors_never_commit_and_make_no_matrix():
    counts = run(BoneModel(experiment(knockouts=["Runx2"]))).counts()
    assert counts["n_osteoblasts"] == 0 and counts["matrix_formed_um3"] == 0
    assert counts["n_osteoprogenitors"] > 80


def test_only_committed_osteoblasts_lay_their_collagen_on_the_bone():
    """Progenitors make some procollagen too, but only an Osterix-committed osteoblast, polarised over the bone,
    secretes it into the bone as osteoid: with commitment out of reach, the cells secrete and nothing is laid."""
    data = experiment().to_dict()
    data["osteoblasts"]["commitment_osterix_molecules"] = 1e6
    lineage = run(BoneModel(load_experiment(data=data)), days=1)
    assert lineage.counts()["n_osteoblasts"] == 0
    assert lineage.counter_totals[lineage.collagen_counter] > 100
    assert lineage.counts()["matrix_formed_um3"] == 0 and lineage.model.bone.new_bone is None


@pytest.fixture(scope="module")
def under_tgfb():
    return {"wild type": run(BoneModel(experiment(seed=5)), days=2, tgfb_nM=0.5).counts(),
            "TβRI inhibitor": run(BoneModel(experiment(seed=5, inhibitors=[{"target": "tbri_kinase_inhibitor"}])),
                                  days=2, tgfb_nM=0.5).counts()}


def test_tgfb_keeps_progenitors_dividing_and_uncommitted(under_tgfb):
    """0.5 nM active TGF-β1 for 2 days: SMAD2/3 signal ≈ 5 per nucleus → division ≈ 0.02/h, so about 100
    divisions of 100 progenitors (Poisson sd 10), against none with the kinase blocked; Osterix held near 8 per
    nucleus, so most stay uncommitted, where without the signal nearly all commit."""
    tgfb, blocked = under_tgfb["wild type"], under_tgfb["TβRI inhibitor"]
    assert tgfb["osteoblast_divisions_total"] > 40 and blocked["osteoblast_divisions_total"] == 0
    assert tgfb["n_osteoprogenitors"] > 2 * tgfb["n_osteoblasts"]
    assert blocked["n_osteoblasts"] > 3 * blocked["n_osteoprogenitors"]


def test_a_checkpoint_with_osteoblasts_and_new_bone_continues_exactly(tmp_path):
    model = BoneModel(experiment(seed=9))
    run(model, days=1)
    save(model.state(), tmp_path / "state")
    run(model, days=1)
    restored = BoneModel.from_state(load(tmp_path / "state"))
    run(restored, days=1)
    a, b = model.lineages["osteoblast"], restored.lineages["osteoblast"]
    assert a.counts() == b.counts() and a.counts()["matrix_formed_um3"] > 0
    np.testing.assert_array_equal(a.population.molecules[a.population.rows], b.population.molecules[b.population.rows])
    np.testing.assert_array_equal(model.bone.new_bone.ring_um, restored.bone.new_bone.ring_um)


def test_an_osteoblast_network_without_a_role_the_lineage_reads_is_refused_before_any_work(tmp_path):
    network = tmp_path / "no_osterix.yaml"
    from boneabm.signaling.network import network_path

    text = network_path("osteoblast").read_text().replace("  commitment_marker: Osx", "")
    network.write_text(text)
    with pytest.raises(UserError, match=r"(?s)osteoblasts\.signaling\.network.*commitment_marker"):
        load_experiment(data={"osteoblasts": {"enabled": True, "signaling": {"network": str(network)}}})
    with pytest.raises(UserError, match=r"osteoblasts\.signaling\.knockouts\[0\]\.gene = 'Runx3'"):
        load_experiment(data={"osteoblasts": {"enabled": True, "signaling": {"knockouts": ["Runx3"]}}})


def test_a_run_reports_the_osteoblast_lineage_in_its_tables_and_snapshots(tmp_path):
    import pandas as pd

    from boneabm.api import load_run
    from boneabm.config import validate
    from boneabm.runner import execute

    data = experiment(seed=11).to_dict()
    data["time"].update(duration_h=24.0, spatial_every_h=24.0)
    run_dir = execute(validate(data), tmp_path / "run")
    run = load_run(run_dir)
    last = run.timeseries.iloc[-1]
    assert (last["n_osteoprogenitors"] + last["n_osteoblasts"] + last["n_lining_cells"]
            + last["osteoblast_deaths_total"]) == 100
    assert last["n_osteoblasts"] > 0 and last["matrix_formed_um3"] > 0
    cells = pd.read_parquet(run_dir / "snapshots" / "cells" / "t0000024.000h.parquet")
    osteoblast_lineage = cells[cells["lineage"] == "osteoblast"]
    assert len(osteoblast_lineage) == last["n_osteoprogenitors"] + last["n_osteoblasts"] + last["n_lining_cells"]
    assert set(osteoblast_lineage["state"].astype(str)) <= {"progenitor", "osteoblast", "lining"}
    # histomorphometry of the day: all the matrix is osteoid (younger than the lag), none mineralises yet;
    # P1NP is the matrix laid down between the daily marks (0.1 h and 24 h)
    assert last["os_bs"] > 0 and last["o_th_um"] > 0 and last["mar_um_per_d"] == 0
    assert last["p1np_um3_per_d"] == pytest.approx(last["matrix_formed_um3"] * 24 / 23.9, rel=0.01)
    bone = run.bone
    formed = bone[bone["formed_um"] > 0]
    assert formed["formed_um"].sum() * 2.5**2 == pytest.approx(last["matrix_formed_um3"], rel=1e-6)
    assert (formed["osteoid_um"] == formed["formed_um"]).all() and (formed["mineral_fraction"] == 0).all()


def test_osteoblasts_that_lose_osterix_flatten_into_quiescent_lining_cells():
    """Sp7 (Osterix) deleted at 48 h, once the progenitors have committed: the osteoblasts stop making matrix and
    flatten (at 0.02/h without Osterix, ten times the default, so the test takes days: ≈ 60 % within 2 days), where
    without the deletion far fewer do."""
    def at_96_h(knockouts):
        data = experiment(knockouts=knockouts, seed=13).to_dict()
        data["osteoblasts"]["flattening_rate_max_per_h"] = 0.02
        model = BoneModel(load_experiment(data=data))
        lineage = run(model, days=4)
        return lineage.counts(), lineage

    wild, _ = at_96_h([])
    lost, lineage = at_96_h([{"gene": "Sp7", "start_h": 48}])
    flat_lost = lost["n_lining_cells"] / (lost["n_osteoblasts"] + lost["n_lining_cells"])
    flat_wild = wild["n_lining_cells"] / (wild["n_osteoblasts"] + wild["n_lining_cells"])
    # without IGF-1 here Osterix sits near 7, so some flatten anyway (≈ 14 %); without it ≈ 65 %, of ≈ 95 each
    assert flat_lost > 0.45 and flat_lost > 2.5 * flat_wild
    pop = lineage.population
    lining = pop.rows[pop.lining[pop.rows]]
    assert np.isnan(pop.quiescent_since_h[lining]).sum() == 0  # every lining cell sleeps


def test_osteoblasts_are_embedded_in_proportion_to_the_matrix_they_lay():
    """Embedding keeps the new bone's osteocyte density (Marotti 1996; Franz-Odendaal et al. 2006): each µm³ an
    osteoblast lays embeds it with probability ``embedding_osteocytes_per_mm3``/10⁹, so the osteocytes made are
    a Poisson count whose mean is the matrix laid × that density; with none, this flat surface buries nobody."""
    def after_4_days(per_mm3):
        data = experiment(seed=21).to_dict()
        data["osteoblasts"]["embedding_osteocytes_per_mm3"] = per_mm3
        data["osteoblasts"]["burial_height_um"] = 1000  # burial by the neighbours' matrix out of the way
        return run(BoneModel(load_experiment(data=data)))

    dense = after_4_days(1e6)
    counts = dense.counts()
    expected = counts["matrix_formed_um3"] * 1e6 / 1e9
    assert expected > 10
    assert abs(counts["osteocytes_embedded_total"] - expected) < 4 * np.sqrt(expected)
    embedded = [e for e in dense.model.events if e[1] == "embedding"]
    assert len(embedded) == counts["osteocytes_embedded_total"]
    # each joined the osteocytes beneath its site
    viable = dense.model.osteocytes.viable
    assert viable.sum() == pytest.approx(viable.size * 0.15625 + counts["osteocytes_embedded_total"])
    assert after_4_days(0).counts()["osteocytes_embedded_total"] == 0


def test_an_osteoblast_whose_neighbours_outbuild_it_is_buried_and_becomes_an_osteocyte():
    """Burial by the neighbours' matrix (Franz-Odendaal et al. 2006 Dev Dyn 235:176): the one osteoblast whose 8
    neighbouring sites stand a cell's height (20 µm) above its own is embedded; its site gains an osteocyte."""
    data = experiment(seed=17).to_dict()
    data["osteoblasts"]["initial_progenitors_per_mm2"] = 0
    data["osteocytes"] = {"density_per_mm3": 20_000}
    from boneabm.config import validate

    model = BoneModel(validate(data))
    lineage = model.lineages["osteoblast"]
    sites = [model.site_cells[10, 10], model.site_cells[30, 30]]
    rows = np.array([cell.row for cell in lineage.plate(sites)])
    lineage.population.committed[rows] = True
    p = model.bone.config.pixels_per_site
    around = np.zeros(model.experiment.domain.shape)
    around[9:12, 9:12] = 22.0
    around[10, 10] = 1.0  # the buried one: 21 µm below its neighbours
    around[29:32, 29:32] = 5.0  # the other: level with its neighbours
    pixels = np.repeat(np.repeat(around, p, axis=0), p, axis=1)
    ix, iy = np.nonzero(pixels)
    model.bone.form(0.0, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    model.bone.new_bone.deposit(ix, iy, pixels[ix, iy])
    before = model.osteocytes.viable[10, 10]
    lineage._bury(rows)
    assert lineage.embedded_total == 1 and lineage.population.n_alive == 1
    assert model.osteocytes.viable[10, 10] == pytest.approx(before + 1)
    assert any(event[1] == "embedding" for event in model.events)


def test_the_contact_map_is_the_share_of_neighbours_presenting_ephrinb2():
    """What an osteoblast-lineage cell's EphB4 sees: the share of its 8 neighbouring sites holding a committed
    osteoclast-lineage cell (ephrinB2 is an NFATc1 target, Zhao et al. 2006), none of them when osteoclasts lack
    Efnb2 (``osteoclasts.ephrinb2: false``)."""
    from boneabm.environment.contacts import neighbour_share

    presenting = np.zeros((6, 5), dtype=bool)
    presenting[2, 2] = presenting[3, 2] = True
    share = neighbour_share(presenting, periodic=False)
    assert share[2, 2] == 1 / 8 and share[3, 3] == 2 / 8 and share[0, 0] == 0
    assert neighbour_share(presenting, periodic=True)[5, 2] == 0 and neighbour_share(presenting, periodic=True)[1, 1] == 1 / 8
    edge = np.zeros((4, 4), dtype=bool)
    edge[0, 0] = True
    assert neighbour_share(edge, periodic=True)[3, 3] == 1 / 8 and neighbour_share(edge, periodic=False)[3, 3] == 0
    for ephrinb2 in (True, False):
        experiment = with_seed(load_experiment(data={"osteoclasts": {"ephrinb2": ephrinb2},
                                                     "domain": {"width_um": 250, "height_um": 250},
                                                     "osteoblasts": {"enabled": True}}), 2)
        model = BoneModel(experiment)
        pop = model.population
        pop.committed[pop.rows[:5]] = True
        sites = model.osteoclasts.ephrinb2_sites()
        assert sites.sum() == (5 if ephrinb2 else 0)
        model.step()
        assert (model.contacts["ephrinb2"] > 0).any() == ephrinb2


def test_what_the_cells_release_enters_the_fields_at_their_sites():
    """RANKL, OPG and the lineage's own IGF-1 leave the cells (`releases` in the network) into the fields at their
    sites: with no osteoclasts and no bone resorbed, the cells are the only source, and each knockout removes its
    factor from the fields (Tnfsf11, Tnfrsf11b, Igf1)."""
    def fields_after(knockouts=()):
        experiment = with_seed(load_experiment(data={
            "domain": {"width_um": 500, "height_um": 500}, "time": {"duration_h": 48},
            "precursors": {"plating_density_per_cm2": 0},
            "osteoblasts": {"enabled": True, "initial_progenitors_per_mm2": 800,
                            "signaling": {"knockouts": list(knockouts)}}}), 3)
        model = BoneModel(experiment)
        for _ in range(round(48 / model.dt_h)):
            model.step()
        return {name: model.fields.sites[name].sum() for name in ("rankl", "opg", "igf1")}

    made = fields_after()
    assert all(total > 0 for total in made.values()), made
    for gene, field in (("Tnfsf11", "rankl"), ("Tnfrsf11b", "opg"), ("Igf1", "igf1")):
        assert fields_after([gene])[field] == 0, gene
