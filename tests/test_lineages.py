"""Lineages are units: a second lineage with its own network, contract and columns runs beside the osteoclast
lineage without a line of the osteoclast lineage changing, each advanced by the batched SSA kernel, and the
model's state holds both."""

import math

import numpy as np
import pytest
import yaml

from boneabm.cells.contract import Contract, SuppliedInput
from boneabm.cells.lineage import Lineage
from boneabm.cells.osteoclast.lineage import OsteoclastLineage
from boneabm.model import BoneModel
from boneabm.state import CheckpointError, load, save

PRODUCTION_PER_H, DECAY_PER_H = 60.0, 1.0
TOY = {
    "name": "toy_stroma",
    "cell_volume_pl": 1.0,
    "modules": {"secreted": {"molecules_per_nM": 10}},
    "inputs": {"rankl_nM": {"unit": "nM"}},
    "species": {"Tnfsf11_mRNA": {"module": "secreted", "initial": 0}},
    "parameters": {"k_make": {"value": PRODUCTION_PER_H, "unit": "molecules/h", "source": "calibrated"},
                   "k_decay": {"value": DECAY_PER_H, "unit": "1/h", "source": "calibrated"}},
    "reactions": [{"name": "transcription", "products": {"Tnfsf11_mRNA": 1}, "k": "k_make"},
                  {"name": "decay", "reactants": {"Tnfsf11_mRNA": 1}, "k": "k_decay"}],
    "roles": {"rankl_transcript": "Tnfsf11_mRNA"},
}


class StromalLineage(Lineage):
    """A lineage defined entirely in this test: immobile cells transcribing one gene (a birth-death process)."""

    name = "stroma"
    contract = Contract("stroma", roles={"rankl_transcript": "a transcript it makes"},
                        inputs={"rankl_nM": SuppliedInput("nM", "free RANKL at its site", field="rankl")})
    columns = {"activated": (np.bool_, (), False)}
    network_path = None
    n_cells = 150

    def __init__(self, model, network):
        super().__init__(model, network, [], {}, capacity=self.n_cells)

    @classmethod
    def network_file(cls, experiment):
        return cls.network_path

    def plate_initial(self):
        self.plate(self.free_sites(self.n_cells))

    def fates(self, dt_h):
        pass


class TwoLineageModel(BoneModel):
    LINEAGES = (OsteoclastLineage, StromalLineage)


@pytest.fixture
def two_lineages(tmp_path, small, monkeypatch):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(TOY))
    monkeypatch.setattr(StromalLineage, "network_path", str(path))
    return TwoLineageModel(small(medium={"rankl_ng_ml": 100}))


def test_a_second_lineage_runs_its_own_network_beside_the_osteoclast_lineage(two_lineages):
    model = two_lineages
    stroma, osteoclasts = model.lineages["stroma"], model.lineages["osteoclast"]
    assert stroma.population.molecules.shape[1] == 1 and osteoclasts.population.molecules.shape[1] > 30
    # a lineage's columns are its own; the shared ones every cell has
    assert hasattr(stroma.population, "activated") and not hasattr(osteoclasts.population, "activated")
    assert hasattr(osteoclasts.population, "committed") and not hasattr(stroma.population, "committed")
    assert all(hasattr(stroma.population, name) for name in ("cell_id", "x", "born_h", "nuclei", "rng_state"))
    occupied = set(zip(stroma.population.x[stroma.population.rows], stroma.population.y[stroma.population.rows]))
    occupied_oc = set(zip(osteoclasts.population.x[osteoclasts.population.rows],
                          osteoclasts.population.y[osteoclasts.population.rows]))
    assert len(occupied) == 150 and not occupied & occupied_oc  # one cell per site, whatever its lineage
    for _ in range(50):  # 5 h
        model.step()
    counts = stroma.population.molecules[stroma.population.rows, 0]
    # a birth-death process from zero is Poisson with mean k/γ·(1 - e^(-γt))
    mean = PRODUCTION_PER_H / DECAY_PER_H * -math.expm1(-DECAY_PER_H * 5.0)
    assert abs(counts.mean() - mean) < 4 * math.sqrt(mean / counts.size)
    assert abs(counts.var() / mean - 1) < 4 * math.sqrt(2 / counts.size)
    assert osteoclasts.ssa_events_total > 0 and stroma.ssa_events_total > 0
    assert model.ssa_events_total == osteoclasts.ssa_events_total + stroma.ssa_events_total


def test_the_state_holds_every_lineage_and_restores_into_the_same_model(two_lineages, tmp_path):
    model = two_lineages
    for _ in range(20):
        model.step()
    path = save(model.state(), tmp_path / "two.npz")
    restored = TwoLineageModel.from_state(load(path))
    for _ in range(20):
        model.step()
        restored.step()
    a, b = model.state(), restored.state()
    assert any(name.startswith("lineage/stroma/") for name in a.arrays)
    for name in a.arrays:
        assert np.array_equal(a.arrays[name], b.arrays[name], equal_nan=True), name
    with pytest.raises(CheckpointError, match=r"lineages \['osteoclast', 'stroma'\]"):
        BoneModel.from_state(load(path))
