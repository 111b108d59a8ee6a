"""LineageCell populations on M-CSF: the biology of the foundation model and the model's invariants.

Phenotypes checked:
- without M-CSF, bone-marrow macrophages die by apoptosis within days (Tushinski et al. 1982 Cell 28:71;
  the op/op Csf1 mutant lacks osteoclast precursor support, docs/validation.md#check-2-no-m-csf);
- with M-CSF they proliferate, and contact inhibition stops them at confluence (Tushinski & Stanley 1985).
Tolerances come from the exact per-tick branching process the model implements, at 4 standard deviations.
"""

import numpy as np
import pytest

from boneabm.cells.osteoclast.fates import death_rate_per_h, division_rate_per_h, precursor_parameters, probability
from boneabm.cells.motility import hop_rate_per_h
from boneabm.config import load_experiment
from boneabm.model import BoneModel

# The CSF-1R signal held at 10 bound receptors per cell (as at ≈ 30 ng/mL M-CSF), so every precursor divides
# and dies at constant rates: the exact branching process below
BOUND_CSF1R = 10
STATIC_MCSF = {"signaling": {"clamps": [{"species": "CSF1R_M", "molecules": BOUND_CSF1R}]}}


def run(model: BoneModel, hours: float) -> BoneModel:
    for _ in range(round(hours / model.dt_h)):
        model.step()
    return model


def test_without_mcsf_the_culture_dies_out_over_days():
    experiment = load_experiment(data={"seed": 11, "medium": {"mcsf_ng_ml": 0}})
    model = BoneModel(experiment)
    n0 = model.population.n_alive
    run(model, 48)
    p = experiment.precursors
    survive = np.exp(-p.death_rate_no_mcsf_per_h * 48)  # exact: per-tick survival exp(-d*dt), 480 ticks
    mean, sd = n0 * survive, np.sqrt(n0 * survive * (1 - survive))
    assert abs(model.population.n_alive - mean) < 4 * sd
    # no M-CSF, no proliferation: only cells whose bound CSF-1R (≈ 9 per cell, internalised within about 15 min)
    # still signals in the first hour divide
    assert model.divisions_total < 0.02 * n0
    run(model, 120)  # day 7
    assert model.population.n_alive < 0.02 * n0  # expected 0.6 %


def branching_mean_sd(n0: int, p_death: float, p_divide: float, ticks: int) -> tuple[float, float]:
    """Mean and sd of a Galton–Watson process: per tick a cell dies (p_death), else divides (p_divide)."""
    p0, p2 = p_death, (1 - p_death) * p_divide
    m = 1 - p0 + p2
    var1 = (p2 * 4 + (1 - p0 - p2)) - m**2
    mean = n0 * m**ticks
    var = n0 * var1 * m ** (ticks - 1) * (m**ticks - 1) / (m - 1)
    return mean, np.sqrt(var)


def test_with_mcsf_sparse_precursors_expand_at_the_rate_mcsf_sets():
    # 200 x 200 sites with 1,000 cells: neighbours are almost never all taken, so growth is unconstrained
    experiment = load_experiment(data={
        "seed": 5, "domain": {"width_um": 5000, "height_um": 5000},
        "precursors": {"plating_density_per_cm2": 4000}, **STATIC_MCSF})
    model = BoneModel(experiment)
    n0 = model.population.n_alive
    run(model, 24)
    p, dt = precursor_parameters(experiment.precursors), experiment.time.dt_h
    mean, sd = branching_mean_sd(n0, float(probability(death_rate_per_h(BOUND_CSF1R, p), dt)),
                                 float(probability(division_rate_per_h(BOUND_CSF1R, 0.0, p), dt)), 240)
    assert 1.8 < mean / n0 < 2.0  # doubling in about a day
    assert abs(model.population.n_alive - mean) < 4 * sd


def test_with_mcsf_the_culture_reaches_confluence_and_stops():
    # 1 x 1 mm (1,600 sites) rather than the default 2 x 2 mm: confluence is a per-site matter, so a smaller
    # patch only widens the spread. At 120 h ≈ 1 % of sites are empty (≈ 16, Poisson-like sd ≈ 4 sites =
    # 0.25 % of sites) against the 5 % and 2 % tolerances below; the division rate at confluence is ≈ 7 % of
    # the maximum against 25 % (measured at seed 3: 99.1 % full, -0.3 % drift, 7.3 %; 2 x 2 mm: 98.8 %,
    # -0.02 %, 7.6 %).
    experiment = load_experiment(data={"seed": 3, "domain": {"width_um": 1000, "height_um": 1000}})
    model = run(BoneModel(experiment), 120)
    sites = np.prod(experiment.domain.shape)
    n120, divisions120 = model.population.n_alive, model.divisions_total
    assert n120 > 0.95 * sites
    run(model, 48)
    assert abs(model.population.n_alive - n120) < 0.02 * sites
    # contact inhibition: at confluence a cell divides only into a site a death has freed
    per_cell_rate = (model.divisions_total - divisions120) / (n120 * 48)
    assert per_cell_rate < 0.25 * experiment.precursors.division_rate_max_per_h


def test_the_medium_is_depleted_between_changes_and_restored_by_each():
    experiment = load_experiment(data={"seed": 3, "time": {"duration_h": 96}})
    model = run(BoneModel(experiment), 48)
    fresh_nM = model.fields.fresh["mcsf"]
    before = model.fields.medium["mcsf"]
    assert before < 0.95 * fresh_nM  # a confluent culture eats into its M-CSF
    run(model, 0.1)
    assert model.fields.n_changes == 1 and model.fields.medium["mcsf"] > 0.99 * fresh_nM


def positions(model):
    pop = model.population
    rows = pop.rows
    order = np.argsort(pop.cell_id[rows])
    return pop.cell_id[rows][order], pop.x[rows][order], pop.y[rows][order]


FROZEN = {"division_rate_max_per_h": 0.0, "death_rate_basal_per_h": 0.0, "death_rate_no_mcsf_per_h": 0.0}


def test_sparse_cells_random_walk_with_the_configured_diffusivity():
    experiment = load_experiment(data={
        "seed": 9, "domain": {"width_um": 5000, "height_um": 5000},
        "precursors": {"plating_density_per_cm2": 4000, **FROZEN}, **STATIC_MCSF})
    model = BoneModel(experiment)
    ids0, x0, y0 = positions(model)
    run(model, 10)
    ids1, x1, y1 = positions(model)
    assert np.array_equal(ids0, ids1)
    nx, ny = experiment.domain.shape
    dx = (x1 - x0 + nx // 2) % nx - nx // 2  # minimum image on the torus
    dy = (y1 - y0 + ny // 2) % ny - ny // 2
    a = experiment.domain.grid_spacing_um
    squared = (dx**2 + dy**2) * a**2
    msd, sem = squared.mean(), squared.std(ddof=1) / np.sqrt(squared.size)
    p_hop = float(probability(hop_rate_per_h(experiment.precursors.motility_um2_per_h, a), experiment.time.dt_h))
    expected = 100 * p_hop * 1.5 * a**2  # ticks × hop probability × mean squared Moore hop
    assert abs(msd - expected) < 4 * sem
    # and that is the configured diffusivity, MSD = 4 D t, up to the per-tick discretisation (< 2 %)
    assert msd / (4 * 10) == pytest.approx(experiment.precursors.motility_um2_per_h, rel=4 * sem / msd + 0.02)


def test_a_packed_monolayer_cannot_move():
    experiment = load_experiment(data={
        "seed": 2, "domain": {"width_um": 500, "height_um": 500},
        "precursors": {"plating_density_per_cm2": 1.6e5, **FROZEN}})
    model = BoneModel(experiment)
    before = positions(model)
    run(model, 5)
    after = positions(model)
    assert all(np.array_equal(b, a) for b, a in zip(before, after))


def test_mesa_grid_agents_and_arrays_agree_through_births_deaths_and_moves():
    experiment = load_experiment(data={"seed": 4, "domain": {"width_um": 750, "height_um": 750},
                                       "precursors": {"death_rate_basal_per_h": 0.02}})
    model = BoneModel(experiment)
    # a neighbourhood Mesa builds before the moves keeps reading the sites' occupants (cells/sites.py)
    watched = model.site_cells[15, 15].get_neighborhood(radius=3)
    for _ in range(300):
        model.step()
        for time_h, event, cell_id, partner_id, *_ in model.events:
            if event == "division":
                mother, daughter = (next(a for a in model.agents if a.unique_id == i) for i in (cell_id, partner_id))
                dx, dy = (np.subtract(mother.cell.coordinate, daughter.cell.coordinate) + 1) % 30 - 1
                assert max(abs(dx), abs(dy)) == 1  # the daughter sits next to its mother
                assert daughter.unique_id > mother.unique_id
        model.events.clear()
    assert model.deaths_total > 50 and model.divisions_total > 100
    pop = model.population
    agents = list(model.agents)
    assert len(agents) == pop.n_alive
    occupied = np.zeros(experiment.domain.shape, bool)
    for agent in agents:
        x, y = agent.cell.coordinate
        assert (pop.x[agent.row], pop.y[agent.row]) == (x, y)
        assert pop.cell_id[agent.row] == agent.unique_id and pop.agent[agent.row] is agent
        assert not occupied[x, y]
        occupied[x, y] = True
        assert agent.cell.agents == [agent] and not agent.cell.empty
    assert np.array_equal(~occupied, model.grid.empty.data)
    assert sum(len(cell.agents) for cell in model.grid.all_cells) == len(agents)
    assert len(model.grid.agents) == len(agents)  # Mesa's whole-grid view, built from the cells' views
    assert all(cell.is_empty == cell.empty for cell in model.grid.all_cells)
    watched_sites = {cell.coordinate for cell in watched.cells}
    assert {a.unique_id for a in watched.agents} == {a.unique_id for a in agents
                                                     if (pop.x[a.row], pop.y[a.row]) in watched_sites}
    # ids are never reused: every id ever handed out is distinct and counted
    assert len({a.unique_id for a in agents}) == len(agents)
    assert model.agent_id_counter - 1 == experiment.n_plated + model.divisions_total


def test_the_precursor_pool_follows_m_csf_through_the_receptor_signal():
    """Tushinski et al. 1982; Tushinski & Stanley 1985: BMMs survive on low CSF-1 and proliferate in proportion
    to it. Sparse cultures (no contact limits) for 72 h at 1, 3 and 30 ng/mL: the mean bound CSF-1R per cell
    and the number of cells both rise with M-CSF; at 1 ng/mL the culture survives but barely expands."""
    counts, bound = {}, {}
    for mcsf in (1, 3, 30):
        model = run(BoneModel(load_experiment(data={
            "seed": 8, "medium": {"mcsf_ng_ml": mcsf}, "domain": {"width_um": 3000, "height_um": 3000},
            "precursors": {"plating_density_per_cm2": 4000}})), 72)
        pop = model.population
        counts[mcsf] = pop.n_alive
        bound[mcsf] = pop.molecules[pop.rows][:, model.network.species_index("CSF1R_M")].mean()
    n0 = round(4000 * 0.09)  # 360 cells plated on 0.09 cm²
    assert bound[1] < bound[3] < bound[30]
    # Poisson-like spread of a few hundred cells: sd < 40, so 4 sd ≈ 160 separates the arms
    assert counts[1] + 160 < counts[3] + 80 < counts[30]
    assert 0.5 * n0 < counts[1] < 2 * n0 and counts[30] > 4 * n0


def test_a_dense_culture_takes_its_m_csf_from_its_neighbours_and_signals_less():
    """M-CSF consumption by CSF-1R internalisation (Tushinski et al. 1982): per cell, the bound receptor is lower
    in a confluent culture than in a sparse one fed the same medium, by the depletion of the medium between
    changes (no medium change here for 96 h). 1,000 sparse cells and 1,600 confluent ones: the means of a
    Poisson-like count near 9 differ by more than 4 standard errors (≈ 0.1 each)."""
    bound = {}
    for density, width_um in ((4000, 5000), (1.6e5, 1000)):
        model = run(BoneModel(load_experiment(data={
            "seed": 8, "medium": {"change_every_h": None}, "domain": {"width_um": width_um, "height_um": width_um},
            "precursors": {"plating_density_per_cm2": density, **FROZEN}})), 96)
        pop = model.population
        counts = pop.molecules[pop.rows][:, model.network.species_index("CSF1R_M")]
        bound[density] = (counts.mean(), counts.std() / np.sqrt(counts.size),
                          model.fields.medium["mcsf"] / model.fields.fresh["mcsf"])
    sparse, dense = bound[4000], bound[1.6e5]
    assert dense[2] < 0.7 and sparse[2] > 0.95  # the confluent culture ate into its medium, the sparse one did not
    assert sparse[0] - dense[0] > 4 * np.hypot(sparse[1], dense[1])
