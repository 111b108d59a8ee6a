"""Lining cells: quiescent osteoblast-lineage cells covering the surface (boneabm/cells/osteoblast/lineage.py).

Checked:
- a quiescent cell's network fires no events while it sleeps, however long;
- waking is exact: a woken cell's network is in the state it would have reached running all along with the
  inputs it held (equal in distribution: 300 cells each way, every species' mean within 4 standard errors);
- lining cells cover the quiescent surface, so marrow cells settle only where the canopy lifted them off
  (the bone remodeling compartment forms over the activated site: Hauge et al. 2001 JBMR 16:1575; Andersen
  et al. 2009 Am J Pathol 174:239).
"""

import numpy as np

from boneabm.config import load_experiment
from boneabm.model import BoneModel

SPACING = 12.5


def tissue(**changes):
    data = {"seed": 2, "domain": {"width_um": 500, "height_um": 500, "grid_spacing_um": SPACING},
            "precursors": {"plating_density_per_cm2": 0},
            "fields": {"mode": "tissue"}, "medium": {"change_every_h": None},
            "osteoblasts": {"enabled": True}, "time": {"duration_h": 96}}
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value}
    return load_experiment(data=data)


def test_quiescent_lining_cells_fire_no_events():
    model = BoneModel(tissue(osteoblasts={"enabled": True, "lining_cells_per_mm2": 2000}))
    lineage = model.lineages["osteoblast"]
    before = lineage.population.molecules[lineage.population.rows].copy()
    for _ in range(round(24 / model.dt_h)):
        model.step()
    assert lineage.counts()["n_lining_cells"] == 500  # 2,000 per mm² of 0.25 mm², none died or moved
    assert lineage.ssa_events_total == 0 and lineage.cell_hours == 0
    np.testing.assert_array_equal(lineage.population.molecules[lineage.population.rows], before)


def test_waking_is_exact_in_distribution():
    """300 progenitors run awake for 48 h, tick by tick, with fixed inputs; 300 others with the same inputs
    sleep through the 48 h and are woken: their networks must agree in distribution."""
    model = BoneModel(tissue(osteoblasts={"enabled": True, "initial_progenitors_per_mm2": 2400}))
    lineage, pop = model.lineages["osteoblast"], model.lineages["osteoblast"].population
    rows = pop.rows
    awake, sleeping = rows[: rows.size // 2], rows[rows.size // 2:]
    held = lineage.inputs(model.fields, pop.x[rows], pop.y[rows])[0]  # the same inputs everywhere at t = 0
    lineage.quiesce(sleeping)
    inputs = np.tile(held, (awake.size, 1))
    for tick in range(round(48 / model.dt_h)):
        lineage.advance_rows(awake, inputs, tick * model.dt_h, model.dt_h)
    model.time_h = 48.0
    lineage.wake(sleeping)
    assert np.isnan(pop.quiescent_since_h[sleeping]).all()
    for column, name in enumerate(lineage.network.species):
        a, b = pop.molecules[awake, column].astype(float), pop.molecules[sleeping, column].astype(float)
        se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) < 4 * max(se, 0.05), name
    assert pop.molecules[sleeping].sum() > 0


def test_lining_cells_lift_where_the_canopy_forms_and_recruits_settle_only_there():
    experiment = tissue(
        osteoblasts={"enabled": True, "lining_cells_per_mm2": 6400},  # every site covered
        precursors={"plating_density_per_cm2": 0, "marrow_pool_per_mm2": 5000, "recruitment_per_mm2_per_h": 2000},
        fields={"mode": "tissue", "canopy_margin_um": 25},
        medium={"change_every_h": None, "rankl_ng_ml": 50},
        osteocytes={"density_per_mm3": 20_000,
                    "activations": [{"at_h": 2, "x_um": 250, "y_um": 250, "radius_um": 60}]})
    model = BoneModel(experiment)
    for _ in range(round(12 / model.dt_h)):
        model.step()
    lining = model.lineages["osteoblast"]
    assert lining.counts()["lining_lifted_total"] == model.fields.canopy.sum() > 0
    # the precursors RANKL recruits everywhere found free sites only under the canopy
    pop = model.osteoclasts.population
    rows = pop.rows
    assert rows.size > 5 and model.fields.canopy[pop.x[rows], pop.y[rows]].all()


def test_canopy_cells_make_m_csf_under_the_canopy_and_settle_back_where_it_goes():
    """The lifted lining cells form the canopy and make M-CSF there (op/op: Yoshida et al. 1990 Nature 345:442);
    when the surface is quiet again they settle back as lining cells."""
    def covered(mcsf_per_cell_h):
        return BoneModel(tissue(
            osteoblasts={"enabled": True, "lining_cells_per_mm2": 6400, "canopy_mcsf_per_cell_h": mcsf_per_cell_h},
            fields={"mode": "tissue", "canopy_margin_um": 25},
            medium={"change_every_h": None, "mcsf_ng_ml": 0},
            osteocytes={"density_per_mm3": 20_000,
                        "activations": [{"at_h": 2, "x_um": 250, "y_um": 250, "radius_um": 60}]}))

    making, silent = covered(2000.0), covered(0.0)
    for model in (making, silent):
        for _ in range(round(6 / model.dt_h)):
            model.step()
    canopy = making.fields.canopy
    counts = making.lineages["osteoblast"].counts()
    assert counts["n_canopy_cells"] == counts["lining_lifted_total"] == canopy.sum() > 0
    assert making.fields.sites["mcsf"][canopy].mean() > 0 and silent.fields.sites["mcsf"].max() == 0
    # the remodeling is over (the dying osteocytes cleared, say): the canopy goes and its cells settle back
    making.osteocytes.apoptotic[:] = 0.0
    making.step()
    after = making.lineages["osteoblast"].counts()
    assert after["lining_settled_total"] == counts["n_canopy_cells"] and after["n_canopy_cells"] == 0
    assert after["n_lining_cells"] == making.experiment.domain.shape[0] * making.experiment.domain.shape[1]
