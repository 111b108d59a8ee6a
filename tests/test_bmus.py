"""bmus.csv (boneabm/environment/bmus.py): each activation's BMU followed over its region.

A small closed tissue whose precursors RANKL recruits from the marrow to an activated site, where lining cells
have lifted (the canopy): osteoclasts form there and resorb, the BMU's row records it — its resorption, its
region's eroded depth, the osteoclasts on it — and the row is the same after a checkpoint. The activation
follows osteocyte apoptosis (Verborgt et al. 2000 JBMR 15:60; Kennedy et al. 2012 Bone 50:1115).
"""

import numpy as np
import pandas as pd
import pytest

from boneabm import columns as registry
from boneabm.api import load_run
from boneabm.config import validate
from boneabm.runner import execute
from boneabm.model import BoneModel
from boneabm.state import load, save

SPACING = 12.5


def experiment(**changes):
    data = {"seed": 5, "domain": {"width_um": 750, "height_um": 750, "grid_spacing_um": SPACING},
            "time": {"duration_h": 240, "dt_h": 0.25},
            "medium": {"change_every_h": None, "mcsf_ng_ml": 30},
            "precursors": {"plating_density_per_cm2": 0, "marrow_pool_per_mm2": 3000,
                           "recruitment_per_mm2_per_h": 3000, "recruitment_rankl_half_nM": 2.0},
            "fields": {"mode": "tissue", "boundary": "no_flux", "marrow_exchange_um_per_h": 50,
                       "canopy_margin_um": 25, "rankl": {"diffusivity_um2_per_h": 1.5e4, "decay_per_h": 0.42},
                       "mcsf": {"diffusivity_um2_per_h": 1.8e4}},
            "bone": {"pixels_per_site": 2},
            "osteocytes": {"density_per_mm3": 20_000, "rankl_apoptosis_signal_per_cell_h": 40_000,
                           "activations": [{"at_h": 2, "x_um": 375, "y_um": 375, "radius_um": 100}]},
            "osteoblasts": {"enabled": True, "lining_cells_per_mm2": 6400}}
    data.update(changes)
    return validate(data)


def run(model, until_h):
    while model.time_h < until_h - 1e-9:
        model.step()
    return model


@pytest.fixture(scope="module")
def bmu_run(tmp_path_factory):
    data = experiment().to_dict()
    data["time"]["duration_h"] = 168.0
    return load_run(execute(validate(data), tmp_path_factory.mktemp("bmu") / "run"))


def test_an_activation_starts_a_bmu_whose_row_records_its_resorption(bmu_run):
    assert len(bmu_run.bmus) == 1
    assert {k: str(v) for k, v in bmu_run.bmus.dtypes.items()} == {
        c.name: str(c.pandas_dtype) for c in registry.expand("bmus")}
    row = bmu_run.bmus.iloc[0]
    assert row["bmu_id"] == 0 and row["activated_h"] == 2.0
    assert row["max_osteoclasts"] >= 1 and row["resorbed_um3"] > 1000
    assert 2.0 < row["resorption_end_h"] <= 168.0 and row["erosion_depth_um"] > 0.5
    # nearly all the slice lost is the BMU's (footprints spilling a sliver onto sites not yet counted as
    # remodeled, < 0.05 µm deep on average, are not)
    assert row["resorbed_um3"] == pytest.approx(bmu_run.timeseries["resorbed_volume_um3"].iloc[-1], rel=1e-3)
    # the osteoclasts on the region at its busiest (read every tick): most of those anywhere at the hourly records
    # (one on the canopy's margin, which it has not eroded yet, is not on the region)
    assert row["max_osteoclasts"] >= 0.7 * bmu_run.timeseries["n_osteoclasts"].max()
    # no progenitors in the marrow here: nothing laid down yet
    assert np.isnan(row["formation_start_h"]) and row["formed_um3"] == 0


def test_a_bmu_continues_exactly_from_a_checkpoint(tmp_path):
    model = run(BoneModel(experiment()), 120)
    save(model.state(), tmp_path / "state")
    restored = BoneModel.from_state(load(tmp_path / "state"))
    for m in (model, restored):
        run(m, 144)
    assert pd.DataFrame(model.bmus.rows(model.bone)).equals(pd.DataFrame(restored.bmus.rows(restored.bone)))
    np.testing.assert_array_equal(model.bmus.regions, restored.bmus.regions)
