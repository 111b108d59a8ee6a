"""Fields: conservation, exact binding, analytic steady states, stability far beyond the explicit limit."""

import copy

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from boneabm.config import load_experiment
from boneabm.environment.fields import Fields, _divide_by_real, binding_step

RANKL_SPECIES = ("rankl", "rankl_opg", "rankl_antibody")


def experiment(width_um=1000, height_um=1000, dt_h=0.1, **changes):
    data = {"seed": 1, "time": {"dt_h": dt_h, "duration_h": 100 * dt_h, "record_every_h": dt_h,
                                "snapshot_every_h": dt_h},
            "domain": {"width_um": width_um, "height_um": height_um}, "medium": {"change_every_h": None}}
    for key, value in changes.items():
        data[key] = value
    return load_experiment(data=data)


def total(fields, names):
    return sum(fields.amount(name) for name in names)


def test_a_periodic_spectrum_is_divided_bit_for_bit_as_numpy_divides_it():
    """The transport's division of a spectrum by its real denominator (``_divide_by_real``, times 1/d) gives the
    bits of numpy's complex division by d + 0j, which results were made with: over magnitudes from 1e-300 to
    1e300, signed zeros, infinities and NaNs. Fails if numpy's algorithm changes or the operations are simplified."""
    rng = np.random.default_rng(3)
    denominator = 1.0 + rng.random((40, 21)) * 10.0 ** rng.integers(-3, 8, (40, 21))
    spectrum = ((rng.standard_normal((40, 21)) + 1j * rng.standard_normal((40, 21)))
                * 10.0 ** rng.integers(-300, 300, (40, 21)))
    spectrum[0, :8] = [0.0, -0.0, complex(-0.0, 0.0), complex(0.0, -0.0), complex(-0.0, -0.0),
                       complex(np.inf, -1.0), complex(np.nan, 2.0), complex(-3.0, -np.inf)]
    expected = spectrum.copy()
    with np.errstate(invalid="ignore"):
        expected /= denominator.astype(np.complex128)
    divided = spectrum.copy()
    _divide_by_real(divided, 1.0 / denominator)
    assert divided.view(np.uint64).tobytes() == expected.view(np.uint64).tobytes()


def test_binding_step_is_the_exact_solution_of_reversible_binding():
    kon, kd, r_t, o_t = 3.6, 0.002, 2.0, 1.0
    ode = solve_ivp(lambda t, c: [kon * (r_t - c[0]) * (o_t - c[0]) - kon * kd * c[0]], (0, 0.5), [0.0],
                    t_eval=[0.05, 0.2, 0.5], rtol=1e-11, atol=1e-13, method="LSODA")
    exact = [binding_step(r_t, o_t, 0.0, kon, kd, t) for t in (0.05, 0.2, 0.5)]
    assert np.allclose(exact, ode.y[0], rtol=1e-7)
    # composing two half steps equals one whole step
    half = binding_step(r_t, o_t, binding_step(r_t, o_t, 0.0, kon, kd, 0.1), kon, kd, 0.1)
    assert half == pytest.approx(binding_step(r_t, o_t, 0.0, kon, kd, 0.2), rel=1e-10)


@pytest.mark.parametrize("sites_per_dimer", [2, 1])
def test_rankl_opg_equilibrium_matches_the_exact_quadratic(sites_per_dimer):
    """Free RANKL with OPG at K_D = 4 pM per site (500-fold tighter than RANK, Nelson 2012): the exact
    equilibrium, each OPG dimer binding two RANKL monomers (one groove per OPG chain, Luan et al. 2012) unless
    set to one."""
    e = experiment(fields={"mode": "tissue", "opg_rankl_sites_per_dimer": sites_per_dimer},
                   medium={"rankl_ng_ml": 40, "opg_ng_ml": 110, "change_every_h": None})
    fields = Fields(e)
    for _ in range(600):  # equimolar sites relax slowest: kon·√(s² - 4·r·o) ≈ 0.64/h, so 60 h
        fields.step()
    # 40 ng/mL RANKL = 2 nM monomer; 110 ng/mL OPG = 1 nM dimer = 2 nM (or 1 nM) binding sites
    r_t, o_t, kd = 2.0, 1.0 * sites_per_dimer, e.fields.rankl_opg_kd_nM
    s = r_t + o_t + kd
    bound = (s - np.sqrt(s * s - 4 * r_t * o_t)) / 2
    assert np.allclose(fields.sites["rankl_opg"], bound, rtol=1e-9)
    assert np.allclose(fields.sites["rankl"], r_t - bound, rtol=1e-9)
    # at equimolar sites almost no RANKL stays free; with one site per dimer, half of it does
    assert fields.sites["rankl"].mean() == pytest.approx(0.087 if sites_per_dimer == 2 else 1.004, rel=0.01)


def test_transport_and_binding_conserve_every_molecule():
    # without decay (the antibody's 26-day half-life would clear its RANKL complex too)
    e = experiment(medium={"mcsf_ng_ml": 30, "rankl_ng_ml": 50, "opg_ng_ml": 100, "change_every_h": None},
                   fields={"antibody": {"diffusivity_um2_per_h": 1.8e5, "decay_per_h": 0.0}})
    fields = Fields(e)
    rng = np.random.default_rng(0)
    for name in ("mcsf", "rankl", "opg"):
        fields.sites[name] = fields.sites[name] * rng.uniform(0, 2, fields.shape)
    fields.dose("anti_rankl_antibody", 500)
    before = {k: total(fields, v) for k, v in {"rankl": RANKL_SPECIES, "opg": ("opg", "rankl_opg"),
                                               "antibody": ("antibody", "rankl_antibody"),
                                               "mcsf": ("mcsf",)}.items()}
    for _ in range(100):
        fields.step()
    after = {"rankl": total(fields, RANKL_SPECIES), "opg": total(fields, ("opg", "rankl_opg")),
             "antibody": total(fields, ("antibody", "rankl_antibody")), "mcsf": total(fields, ("mcsf",))}
    for name, amount in before.items():
        assert after[name] == pytest.approx(amount, rel=1e-9), name
    for values in fields.sites.values():
        assert values.min() >= 0


def test_uptake_leaves_the_fields_and_decay_is_exactly_backward_euler():
    e = experiment(fields={"mode": "tissue", "mcsf": {"diffusivity_um2_per_h": 3.6e5, "decay_per_h": 0.5}},
                   medium={"change_every_h": None})
    fields = Fields(e)
    start = fields.amount("mcsf")
    x, y = np.array([1, 5, 5]), np.array([2, 7, 7])
    fields.exchange_with_cells("mcsf", x, y, np.array([100.0, 50.0, 50.0]))
    assert fields.amount("mcsf") == pytest.approx(start - 200, rel=1e-12)
    for _ in range(20):
        fields.step()
    assert fields.amount("mcsf") == pytest.approx((start - 200) / (1 + 0.1 * 0.5) ** 20, rel=1e-10)


def test_uptake_never_takes_more_than_a_site_holds_and_counts_the_rest():
    fields = Fields(experiment())
    medium = fields.medium["mcsf"]
    held = fields.sites["mcsf"][3, 3] * fields.molecules_per_nM_site
    fields.exchange_with_cells("mcsf", np.array([3]), np.array([3]), np.array([10 * held]))
    assert fields.sites["mcsf"][3, 3] == 0 and fields.medium["mcsf"] == medium
    assert fields.uptake_shortfall_molecules["mcsf"] == pytest.approx(9 * held)
    assert fields.net_uptake_molecules["mcsf"] == pytest.approx(10 * held)


def test_one_dimensional_steady_state_is_the_analytic_exponential():
    """A source at the no-flux edge of a line of sites, with decay λ and diffusion D: c ∝ exp(-x/ℓ), ℓ = √(D/λ)."""
    spacing, decay = 10.0, 1.0
    diffusivity = (10 * spacing) ** 2 * decay  # ℓ = 10 sites
    e = experiment(width_um=300 * spacing, height_um=3 * spacing, dt_h=2.0,
                   domain={"width_um": 300 * spacing, "height_um": 3 * spacing, "grid_spacing_um": spacing,
                           "periodic": False},
                   precursors={"plating_density_per_cm2": 0},
                   fields={"mode": "tissue", "boundary": "no_flux",
                           "mcsf": {"diffusivity_um2_per_h": diffusivity, "decay_per_h": decay}},
                   medium={"mcsf_ng_ml": 0, "change_every_h": None})
    fields = Fields(e)
    for _ in range(300):
        fields.exchange_with_cells("mcsf", np.zeros(3, int), np.arange(3), np.full(3, -1000.0))  # secretion
        fields.step()
    profile = fields.sites["mcsf"][:, 1]
    x = (np.arange(60) + 0.5) * spacing
    expected = np.exp(-(x - x[0]) / (10 * spacing))
    assert np.allclose(profile[:60] / profile[0], expected, rtol=0.01)


def test_far_beyond_the_explicit_limit_fields_stay_non_negative_conserved_and_accurate():
    """A tick 100× the explicit stability limit h²/(4D): non-negative, conserving, within 1 % of a converged
    small-tick run of the same culture (cells taking up M-CSF at fixed sites, exchanging with the medium)."""
    def run(dt_h, hours):
        e = experiment(width_um=1000, height_um=1000, dt_h=dt_h, medium={"mcsf_ng_ml": 30, "change_every_h": None})
        fields = Fields(e)
        rng = np.random.default_rng(4)
        fields.sites["mcsf"] *= rng.uniform(0, 2, fields.shape)  # start far from equilibrium
        x, y = rng.integers(0, 40, 300), rng.integers(0, 40, 300)
        taken = 0.0
        for _ in range(round(hours / dt_h)):
            uptake = np.full(300, 2e4 * dt_h)  # molecules per cell per tick
            fields.exchange_with_cells("mcsf", x, y, uptake)
            taken += uptake.sum()
            fields.step()
            assert fields.sites["mcsf"].min() >= 0
        return fields, taken

    explicit_limit_h = 25.0**2 / (4 * 3.6e5)
    big, taken = run(100 * explicit_limit_h, 100 * explicit_limit_h * 40)
    taken -= big.uptake_shortfall_molecules["mcsf"]  # what the cells asked for where a site ran dry
    start = Fields(experiment(medium={"mcsf_ng_ml": 30, "change_every_h": None}))
    rng = np.random.default_rng(4)
    start.sites["mcsf"] *= rng.uniform(0, 2, start.shape)
    assert big.amount("mcsf") == pytest.approx(start.amount("mcsf") - taken, rel=1e-9)
    small, _ = run(explicit_limit_h / 2, 100 * explicit_limit_h * 40)
    assert np.allclose(big.sites["mcsf"], small.sites["mcsf"], rtol=0.01)


def test_an_antibody_dose_sequesters_rankl_and_a_medium_change_washes_it_out():
    """Denosumab-like sequestration (docs/references.md#anti-rankl): free RANKL collapses; fresh medium
    restores it."""
    e = experiment(medium={"rankl_ng_ml": 50, "change_every_h": None})
    fields = Fields(e)
    fields.dose("anti_rankl_antibody", 1000)  # ≈ 6.8 nM of antibody against 2.5 nM RANKL
    for _ in range(50):
        fields.step()
    assert fields.sites["rankl"].mean() < 0.01 * 2.5
    fields.change_medium()
    assert fields.sites["rankl"].mean() == pytest.approx(2.5) and fields.sites["antibody"].max() == 0


def test_tissue_mode_refuses_medium_changes():
    from boneabm.errors import UserError

    with pytest.raises(UserError, match="medium.change_every_h must be null"):
        load_experiment(data={"fields": {"mode": "tissue"}})


def test_an_unphysical_layer_is_refused():
    from boneabm.errors import UserError

    with pytest.raises(UserError, match="fields.layer_height_um = 500.0 must be below the medium's height"):
        load_experiment(data={"fields": {"layer_height_um": 500}, "medium": {"volume_ul_per_cm2": 20}})


def test_the_fields_carry_only_what_is_read_and_what_binds_with_it():
    """A species nothing reads is held at its fresh value: freed or secreted molecules of it are counted but not
    put in, and no tick moves it; reading RANKL carries its binders and their complexes."""
    fields = Fields(experiment(medium={"rankl_ng_ml": 50, "sclerostin_ng_ml": 1.0}))
    fields.carry_only({"mcsf", "rankl"})
    assert fields.carried == ("mcsf", "rankl", "opg", "rankl_opg", "antibody", "rankl_antibody")
    freed = {"tgfb": np.array([1e4]), "igf1": np.array([2e4])}
    fields.release_from_matrix(np.array([3]), np.array([4]), freed)
    fields.secrete({"sema4d": np.ones(fields.shape)})
    for _ in range(3):
        fields.step()
    assert not fields.sites["tgfb"].any() and not fields.sites["igf1"].any() and not fields.sites["sema4d"].any()
    assert fields.released_from_matrix_molecules == {**dict.fromkeys(fields.sites, 0.0), "tgfb": 1e4, "igf1": 2e4}
    fresh_sclerostin = fields.fresh["sclerostin"]
    assert fresh_sclerostin > 0 and np.all(fields.sites["sclerostin"] == fresh_sclerostin)
    assert fields.medium["sclerostin"] == fresh_sclerostin
    with pytest.raises(ValueError, match="no species"):
        fields.carry_only({"tgf_beta"})


def test_a_culture_carries_what_its_tables_report_and_an_osteoblast_lineage_what_it_reads():
    from boneabm.config import with_seed
    from boneabm.model import BoneModel
    from boneabm.output import FIELD_COLUMNS
    from boneabm.snapshots import FIELD_MAPS

    culture = BoneModel(with_seed(experiment(), 1))
    reported = {name for species, _ in FIELD_COLUMNS.values() for name in species}
    reported |= {species for species, _ in FIELD_MAPS.values()} | {"mcsf", "rankl"}  # and cells.csv's
    assert reported <= set(culture.fields.carried)
    assert not {"tgfb", "igf1", "sclerostin", "sema4d", "wnt"} & set(culture.fields.carried)
    with_osteoblasts = BoneModel(with_seed(experiment(osteoblasts={"enabled": True}), 1))
    contract = with_osteoblasts.lineages["osteoblast"].contract
    assert {s.field for s in contract.inputs.values() if s.field} <= set(with_osteoblasts.fields.carried)


def test_a_state_that_carried_an_unread_species_restores_to_it_held_and_continues_as_this_version():
    """A checkpoint written before the fields carried only what is read holds TGF-β1 a culture's osteoclasts
    freed: restored, it is held at its fresh value, and the model continues as one that never carried it."""
    from boneabm.config import with_seed
    from boneabm.model import BoneModel

    e = with_seed(experiment(medium={"rankl_ng_ml": 50, "change_every_h": None}), 3)
    model = BoneModel(e)
    for _ in range(20):
        model.step()
    state = model.state()
    older = type(state)(copy.deepcopy(state.meta), {**state.arrays, "fields/tgfb": np.full(model.fields.shape, 0.25)})
    older.meta["parts"]["fields"]["medium"]["tgfb"] = 0.5
    restored = BoneModel.from_state(older)
    assert not restored.fields.sites["tgfb"].any() and restored.fields.medium["tgfb"] == 0.0
    for m in (model, restored):
        for _ in range(10):
            m.step()
    after, restored_after = model.state(), restored.state()
    for name, values in after.arrays.items():
        np.testing.assert_array_equal(restored_after.arrays[name], values, err_msg=name)
    assert restored_after.meta["parts"]["fields"] == after.meta["parts"]["fields"]
