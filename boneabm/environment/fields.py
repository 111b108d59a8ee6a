"""M-CSF, RANKL and OPG (and a dosed anti-RANKL antibody), the TGF-β1 and IGF-1 that resorption frees from the
matrix, and the sclerostin, Sema4D and Wnt that cells make, as concentration fields on the grid.

Each site holds the concentration, in nM, of the fluid layer around its cells (height ``layer_height_um``, so a
site's volume is spacing² × height). In culture mode a well-mixed medium above every site (``volume_ul_per_cm2``)
exchanges with each layer at a mass-transfer velocity; medium changes reset it. In tissue mode there is no
medium: factors are made, bound, consumed and decay locally.

One tick, split into per-site steps and one transport step:

1. binding: RANKL + OPG ⇌ RANKL·OPG, then RANKL + antibody ⇌ RANKL·antibody, each solved exactly over the tick
   (the closed-form solution of reversible bimolecular binding), at every site and in the medium. Cells see
   free RANKL. Splitting the two bindings leaves their joint equilibrium exactly in place. OPG and the
   antibody are held as RANKL-binding sites (two per OPG dimer, two per IgG), each binding one RANKL monomer.
2. uptake and secretion: molecules the cells' networks took up (or released) at their sites, converted to nM
   through the site volume. A site's thin layer can hold fewer molecules than its cell takes up in one tick
   (6 pL at 0.8 nM M-CSF is ~3 molecules), because exchange with the medium refills it within seconds. A site
   is emptied, never driven negative, and what it lacked is counted as a shortfall: molecules the networks
   consumed that the fields did not supply. Taking them from the medium instead would conserve mass, but the
   RANK module and fate rates were calibrated with this accounting (drawing on the medium cut day-5
   osteoclasts by about a third in two seeds), so that change waits for a recalibration.
3. transport: backward Euler for diffusion, first-order decay and exchange with the medium,
   (1 + dt·(λ + e + D·L)) c' = c + dt·e·B', solved exactly by FFT (periodic) or DCT-II (no-flux) with the
   medium's mean mode coupled implicitly. It is stable, conserves mass and keeps concentrations non-negative at
   any tick length.

Molar conversions: ng/mL → nM divides by the molecular weight in kDa (boneabm.units); 1 nM in 1 µm³ is
0.602 molecules.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from scipy import fft, linalg

from boneabm.config import Experiment, FieldsConfig
from boneabm.units import (
    AVOGADRO_PER_MOL,
    MCSF_HOMODIMER_DA,
    OPG_DIMER_DA,
    RANKL_MONOMER_DA,
    SCLEROSTIN_DA,
    WNT_DA,
    ng_ml_to_nM,
)

SPECIES = ("mcsf", "rankl", "opg", "rankl_opg", "antibody", "rankl_antibody", "tgfb", "igf1", "sclerostin",
           "sema4d", "wnt")
# the species each binding step changes together: a reader of one reads what the others did to it
BOUND_TOGETHER = (("rankl", "opg", "rankl_opg"), ("rankl", "antibody", "rankl_antibody"))
ANTIBODY_DA = 147_000.0  # IgG2 (denosumab)
UM3_TO_L = 1e-15
UL_PER_CM2_TO_UM = 10.0  # 1 µL spread over 1 cm² stands 10 µm high


def binding_step(receptor_total, binder_total, complex0, kon, kd, dt):
    """Complex concentration after ``dt`` of A + B ⇌ C from C(0) = ``complex0``, A + C and B + C fixed.

    dC/dt = kon·(C - r1)(C - r2), r1 ≤ r2 the roots of C² - (A_t + B_t + K_D)·C + A_t·B_t; r1 is the
    equilibrium. Exact: (C - r1)/(C - r2) decays as exp(-kon·(r2 - r1)·t).
    """
    s = receptor_total + binder_total + kd
    root = np.sqrt(np.maximum(s * s - 4 * receptor_total * binder_total, 0.0))
    r1 = 2 * receptor_total * binder_total / (s + root)  # the small root, without cancellation
    r2 = (s + root) / 2
    q = (complex0 - r1) / (complex0 - r2) * np.exp(-kon * (r2 - r1) * dt)
    return np.clip((r1 - q * r2) / (1 - q), 0.0, np.minimum(receptor_total, binder_total))


def laplacian_eigenvalues(n: int, spacing: float, periodic: bool, half: bool = False) -> np.ndarray:
    """Eigenvalues of the 1-D second-difference operator: periodic (FFT modes) or no-flux (DCT-II modes)."""
    p = np.arange(n // 2 + 1 if half else n)
    angle = 2 * np.pi * p / n if periodic else np.pi * p / n
    return (2 - 2 * np.cos(angle)) / spacing**2


class Transport:
    """Backward-Euler diffusion, decay and medium exchange for one species, factorised once per tick length."""

    def __init__(self, shape, spacing_um, periodic, diffusivity, decay, site_exchange, medium_exchange, dt):
        nx, ny = shape
        self.periodic = periodic
        lx = laplacian_eigenvalues(nx, spacing_um, periodic)
        ly = laplacian_eigenvalues(ny, spacing_um, periodic, half=periodic)  # rfft2 keeps half the last axis
        denominator = 1 + dt * (decay + site_exchange + diffusivity * (lx[:, None] + ly[None, :]))
        if periodic:  # a complex spectrum, divided as numpy divides it by d + 0j: times 1/d (``_divide_by_real``)
            self.reciprocal = 1.0 / denominator
        else:  # a real one, divided by d
            self.denominator = denominator
        # the mean mode and the medium: [[1 + dt(λ + e), -dt e], [-dt e_m, 1 + dt(λ + e_m)]] (m', B') = (m, B)
        self.mean_matrix = np.array([[1 + dt * (decay + site_exchange), -dt * site_exchange],
                                     [-dt * medium_exchange, 1 + dt * (decay + medium_exchange)]])
        # the same matrix every tick: LU-factorised once (LAPACK getrf) and solved each tick with getrs, the two
        # halves of the gesv that np.linalg.solve calls, so the same bits (3.2 M random right-hand sides compared)
        # in 1 µs against 4 µs warm and ≈ 24 µs in a run
        self.mean_lu, self.mean_pivots = linalg.lu_factor(self.mean_matrix, check_finite=False)
        self.n_sites = nx * ny

    def step(self, sites: np.ndarray, medium: float | None) -> tuple[np.ndarray, float | None]:
        if self.periodic:
            spectrum = fft.rfft2(sites)
            mean_scale = self.n_sites
        else:
            spectrum = fft.dctn(sites, type=2, norm="ortho")
            mean_scale = np.sqrt(self.n_sites)
        mean = spectrum[0, 0].real / mean_scale
        if self.periodic:
            _divide_by_real(spectrum, self.reciprocal)
        else:
            spectrum /= self.denominator
        if medium is not None:
            (mean, medium), info = linalg.lapack.dgetrs(self.mean_lu, self.mean_pivots, np.array([mean, medium]))
            if info:
                raise np.linalg.LinAlgError(f"medium exchange: LAPACK getrs failed (info {info})")
            spectrum[0, 0] = mean * mean_scale
        out = fft.irfft2(spectrum, s=sites.shape) if self.periodic else fft.idctn(spectrum, type=2, norm="ortho")
        # the exact solve is non-negative; round-off may leave -1e-18 where a field is empty (in place: the
        # transform's output is this step's own)
        return np.maximum(out, 0.0, out=out), medium


class Fields:
    """Concentration fields (nM) at every site and, in culture, in the medium above them."""

    def __init__(self, experiment: Experiment):
        config: FieldsConfig = experiment.fields
        domain, medium = experiment.domain, experiment.medium
        self.config = config
        self.dt_h = experiment.time.dt_h
        self.shape = domain.shape
        self.site_volume_l = domain.grid_spacing_um**2 * config.layer_height_um * UM3_TO_L
        self.culture = config.mode == "culture"
        # OPG and the antibody are held as their RANKL-binding sites (nM), complexes as the RANKL they bind
        self.binding_sites = {"opg": config.opg_rankl_sites_per_dimer,
                              "antibody": config.antibody_rankl_sites_per_molecule}
        self.fresh = {"mcsf": ng_ml_to_nM(medium.mcsf_ng_ml, MCSF_HOMODIMER_DA),
                      "rankl": ng_ml_to_nM(medium.rankl_ng_ml, RANKL_MONOMER_DA),
                      "opg": ng_ml_to_nM(medium.opg_ng_ml, OPG_DIMER_DA) * self.binding_sites["opg"],
                      "rankl_opg": 0.0, "antibody": 0.0, "rankl_antibody": 0.0, "tgfb": 0.0, "igf1": 0.0,
                      "sclerostin": ng_ml_to_nM(medium.sclerostin_ng_ml, SCLEROSTIN_DA), "sema4d": 0.0,
                      "wnt": ng_ml_to_nM(medium.wnt_ng_ml, WNT_DA)}
        self.sites = {name: np.full(self.shape, value) for name, value in self.fresh.items()}
        self.medium = dict(self.fresh) if self.culture else None
        # tissue: the marrow over the surface, a reservoir at the medium section's concentrations (RANKL and its
        # binders at their binding equilibrium) that each site's layer exchanges with, except under the canopy
        self.marrow_exchange_per_h = 0.0 if self.culture else config.marrow_exchange_um_per_h / config.layer_height_um
        self.marrow_baseline = _bound_at_equilibrium(dict(self.fresh), config) if self.marrow_exchange_per_h else None
        self.marrow = dict(self.marrow_baseline) if self.marrow_baseline is not None else None
        self.canopy = np.zeros(self.shape, dtype=bool)  # sites a canopy of lining cells closes off from the marrow
        # medium volume per site volume: what one nM in the medium is worth in site-layers
        self.medium_height_um = medium.volume_ul_per_cm2 * UL_PER_CM2_TO_UM
        site_exchange = config.medium_exchange_um_per_h / config.layer_height_um if self.culture else 0.0
        medium_exchange = config.medium_exchange_um_per_h / self.medium_height_um if self.culture else 0.0
        factor_of = {"mcsf": config.mcsf, "rankl": config.rankl, "opg": config.opg, "rankl_opg": config.opg,
                     "antibody": config.antibody, "rankl_antibody": config.antibody, "tgfb": config.tgfb,
                     "igf1": config.igf1, "sclerostin": config.sclerostin, "sema4d": config.sema4d,
                     "wnt": config.wnt}
        periodic = config.boundary == "periodic"
        self.decay_per_h = {name: f.decay_per_h for name, f in factor_of.items()}
        self.transport = {
            name: Transport(self.shape, domain.grid_spacing_um, periodic, f.diffusivity_um2_per_h,
                            f.decay_per_h, site_exchange, medium_exchange, self.dt_h)
            for name, f in factor_of.items()}
        self.n_changes = 0
        self.carried = SPECIES  # the species the fields move; carry_only narrows them to those something reads
        self.uptake_shortfall_molecules = {name: 0.0 for name in SPECIES}  # asked for, held by no one
        self.net_uptake_molecules = {name: 0.0 for name in SPECIES}  # what the cells' networks took, net
        self.released_from_matrix_molecules = {name: 0.0 for name in SPECIES}

    # ----------------------------------------------------------------------------------------------- state
    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        return ({name: values.copy() for name, values in self.sites.items()},
                {"medium": self.medium, "marrow": self.marrow, "n_changes": self.n_changes,
                 "uptake_shortfall_molecules": self.uptake_shortfall_molecules,
                 "net_uptake_molecules": self.net_uptake_molecules,
                 "released_from_matrix_molecules": self.released_from_matrix_molecules})

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        """Take a ``state``. A state saved before the matrix factors were fields has none of them: nothing had
        released any, so they start empty."""
        arrays = {**{name: np.zeros(self.shape) for name in SPECIES}, **arrays}
        for name in self.sites:
            if arrays[name].shape != self.shape:
                raise ValueError(f"fields.{name}: shape {arrays[name].shape}, the domain is {self.shape}")
            self.sites[name] = arrays[name].astype(np.float64, copy=False)  # state() copied already
        self.medium = None if meta["medium"] is None else {
            **{name: 0.0 for name in SPECIES}, **{k: float(v) for k, v in meta["medium"].items()}}
        if meta.get("marrow") is not None:
            self.marrow = {**{name: 0.0 for name in SPECIES}, **{k: float(v) for k, v in meta["marrow"].items()}}
        self.n_changes = int(meta["n_changes"])
        for tally in ("uptake_shortfall_molecules", "net_uptake_molecules", "released_from_matrix_molecules"):
            setattr(self, tally, {**{name: 0.0 for name in SPECIES},
                                  **{k: float(v) for k, v in meta.get(tally, {}).items()}})
        self._hold_uncarried()

    # ----------------------------------------------------------------------------------------------- readers
    def carry_only(self, read: set[str]) -> None:
        """Move only the species in ``read`` (and those binding changes with them): what no cell, pool or table
        reads cannot change a result, and a culture's osteoclasts free TGF-β1 and IGF-1 that only osteoblasts
        read. The others are held where a fresh model starts them (``_hold_uncarried``): nothing enters them and
        nothing moves them."""
        unknown = set(read) - set(SPECIES)
        if unknown:
            raise ValueError(f"fields: no species {sorted(unknown)}; the fields hold {SPECIES}")
        read = set(read)
        for together in BOUND_TOGETHER:
            if read & set(together):
                read |= set(together)
        self.carried = tuple(name for name in SPECIES if name in read)
        self._hold_uncarried()

    def _hold_uncarried(self) -> None:
        """Every species not carried back at its fresh value, in the sites, the medium and the marrow: so a state
        saved by a version that carried it restores to what this one holds."""
        for name in SPECIES:
            if name in self.carried:
                continue
            self.sites[name] = np.full(self.shape, self.fresh[name])
            if self.medium is not None:
                self.medium[name] = self.fresh[name]
            if self.marrow is not None:
                self.marrow[name] = self.marrow_baseline[name]

    # ----------------------------------------------------------------------------------------------- amounts
    @property
    def molecules_per_nM_site(self) -> float:
        return AVOGADRO_PER_MOL * self.site_volume_l * 1e-9

    @property
    def medium_sites(self) -> float:
        """The medium's volume in units of site volumes."""
        return self.medium_height_um / self.config.layer_height_um * self.shape[0] * self.shape[1]

    def amount(self, name: str) -> float:
        """Molecules of ``name`` in all sites and the medium (for OPG and the antibody: their RANKL-binding
        sites)."""
        total = self.sites[name].sum()
        if self.medium is not None:
            total += self.medium[name] * self.medium_sites
        return float(total * self.molecules_per_nM_site)

    # ----------------------------------------------------------------------------------------------- events
    def change_medium(self) -> None:
        """Fresh medium: every factor back to its fresh level, drugs and complexes washed out."""
        if not self.culture:
            return
        for name, value in self.fresh.items():
            self.medium[name] = value
            self.sites[name][:] = value
        self.n_changes += 1

    def dose(self, drug: str, ng_ml: float) -> None:
        """Add a drug to the medium and the cells' layer (culture) or to every site (tissue)."""
        name, weight = {"anti_rankl_antibody": ("antibody", ANTIBODY_DA), "opg_fc": ("opg", OPG_DIMER_DA)}[drug]
        nM = ng_ml_to_nM(ng_ml, weight) * self.binding_sites[name]
        self.sites[name] += nM
        for compartment in (self.medium, self.marrow):
            if compartment is not None:
                compartment[name] += nM

    def exchange_with_cells(self, name: str, x: np.ndarray, y: np.ndarray, molecules: np.ndarray) -> None:
        """Cells at sites (x, y) took up ``molecules`` (negative: released or secreted) of ``name``, one after
        the other in the order given. A site is emptied, never driven negative; what it lacked is counted."""
        self.net_uptake_molecules[name] += float(molecules.sum())
        lacking_nM_site = _take_up(self.sites[name], x, y, molecules, self.molecules_per_nM_site)
        self.uptake_shortfall_molecules[name] += lacking_nM_site * self.molecules_per_nM_site

    def secrete(self, molecules: dict[str, np.ndarray]) -> None:
        """Molecules made into each site's fluid by cells that are not agents (osteocytes), by field, per site;
        OPG as dimers, held as their RANKL-binding sites."""
        for name, per_site in molecules.items():
            if name not in self.carried:
                continue  # read by no one
            self.sites[name] += per_site * self.binding_sites.get(name, 1) / self.molecules_per_nM_site

    def release_from_matrix(self, x: np.ndarray, y: np.ndarray, molecules: dict[str, np.ndarray]) -> None:
        """Resorption at sites (x, y) freed ``molecules`` of each named factor from the matrix into the fluid
        (counted whether or not a reader makes the fields carry it)."""
        for name, amounts in molecules.items():
            if name in self.carried:
                np.add.at(self.sites[name], (x, y), amounts / self.molecules_per_nM_site)
            self.released_from_matrix_molecules[name] += float(amounts.sum())

    # ----------------------------------------------------------------------------------------------- the tick
    def step(self) -> None:
        """Binding at every site and in the medium, then transport, over one tick."""
        c = self.config
        # site maps found all zero this tick and unchanged since: the transport below need not scan them again
        # (in a culture without OPG or antibody, four of its eight scans of an evicted map)
        empty_sites: set[str] = set()
        for where in [self.sites] + ([self.medium] if self.medium is not None else []):
            for binder, complex_, kon, kd in (("opg", "rankl_opg", c.rankl_opg_kon_per_nM_h, c.rankl_opg_kd_nM),
                                              ("antibody", "rankl_antibody", c.rankl_antibody_kon_per_nM_h,
                                               c.rankl_antibody_kd_nM)):
                if not (_held(where[binder]) or _held(where[complex_])):
                    if where is self.sites:
                        empty_sites.update((binder, complex_))
                    continue  # no binder: nothing binds (and the exact step would change nothing)
                ligand_total = where["rankl"] + where[complex_]
                binder_total = where[binder] + where[complex_]
                bound = binding_step(ligand_total, binder_total, where[complex_], kon, kd, self.dt_h)
                where["rankl"] = np.maximum(ligand_total - bound, 0.0)
                where[binder] = np.maximum(binder_total - bound, 0.0)
                where[complex_] = bound
        if self.marrow is not None:
            self._exchange_with_marrow()
            empty_sites.clear()  # the marrow may have entered them
        for name in self.carried:
            medium = self.medium[name] if self.medium is not None else None
            if not medium and (name in empty_sites or not self.sites[name].any()):
                continue  # nothing there, nothing to move: a species never dosed costs no transform
            self.sites[name], medium = self.transport[name].step(self.sites[name], medium)
            if self.medium is not None:
                self.medium[name] = float(medium)


    def _exchange_with_marrow(self) -> None:
        """Each open site's layer relaxes toward the marrow over the tick, by backward Euler as the transport does
        (a split step before it); what was dosed into the marrow is cleared at the species' decay rate, its
        baseline held. Implicit rather than the exact exponential because what cells made this tick is already in
        the layer: the exponential would take all but e^(-k·dt) of it at once (92 % at the BMU's 0.5-h tick), as if
        it had been made at the tick's start, where backward Euler keeps a steady secretion s at the continuous
        steady state, marrow + s/k, whatever the tick (with decay λ split off into the transport:
        s/(k + λ + k·λ·dt) against s/(k + λ), the splitting's first-order error)."""
        dt = self.dt_h
        keep = np.where(self.canopy, 1.0, 1.0 / (1.0 + self.marrow_exchange_per_h * dt))
        for name in self.carried:
            marrow = self.marrow[name]
            if marrow or self.sites[name].any():
                self.sites[name] = marrow + (self.sites[name] - marrow) * keep
            baseline = self.marrow_baseline[name]
            self.marrow[name] = baseline + (marrow - baseline) * np.exp(-self.decay_per_h[name] * dt)


def _held(concentration) -> bool:
    """``np.any`` of a site map or of a compartment's float, the float without numpy's conversion of it."""
    return bool(concentration.any()) if isinstance(concentration, np.ndarray) else concentration != 0.0


def _bound_at_equilibrium(concentrations: dict[str, float], config: FieldsConfig) -> dict[str, float]:
    """The concentrations with RANKL bound to OPG (then the antibody) at equilibrium: the marrow's steady state."""
    for binder, complex_, kon, kd in (("opg", "rankl_opg", config.rankl_opg_kon_per_nM_h, config.rankl_opg_kd_nM),
                                      ("antibody", "rankl_antibody", config.rankl_antibody_kon_per_nM_h,
                                       config.rankl_antibody_kd_nM)):
        ligand_total = concentrations["rankl"] + concentrations[complex_]
        binder_total = concentrations[binder] + concentrations[complex_]
        bound = float(binding_step(ligand_total, binder_total, concentrations[complex_], kon, kd, 1e9))
        concentrations.update({"rankl": max(ligand_total - bound, 0.0), binder: max(binder_total - bound, 0.0),
                               complex_: bound})
    return concentrations


@nb.njit(cache=True, error_model="numpy")
def _divide_by_real(spectrum, reciprocal):
    """``spectrum /= d + 0j`` in place, given ``reciprocal`` = 1/d (d > 0), bit for bit as numpy divides: its
    complex division (Smith's) takes rat = 0/d = +0.0 and scl = 1/(d + 0·rat) = 1/d, then (re + im·rat)·scl and
    (im - re·rat)·scl, kept here operation for operation (signed zeros and NaNs included): 3 µs on the assay's
    spectrum, where numpy's loop over a complex copy of d took 24 µs (warm, both)."""
    flat, scale = spectrum.reshape(-1), reciprocal.reshape(-1)
    for i in range(flat.shape[0]):
        re, im = flat[i].real, flat[i].imag
        flat[i] = complex((re + im * 0.0) * scale[i], (im - re * 0.0) * scale[i])


@nb.njit(cache=True)
def _take_up(sites_nM, x, y, molecules, molecules_per_nM):
    """Subtract each cell's molecules, converted to nM, from its site, never below zero; returns what could not be
    taken, nM. (Converted here, not by numpy beforehand: the same division, without a pass over a new array.)"""
    shortfall = 0.0
    for i in range(x.shape[0]):
        left = sites_nM[x[i], y[i]] - molecules[i] / molecules_per_nM
        if left < 0.0:
            shortfall -= left
            left = 0.0
        sites_nM[x[i], y[i]] = left
    return shortfall
