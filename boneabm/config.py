"""The experiment schema: pydantic models of one experiment, their validation and loading an experiment.

Every field carries its unit in its name and, in its description, a source or the word "calibrated". The
schema is validated once here; the model trusts it. Unknown keys are refused (with a did-you-mean), every
number is range-checked, and the resolved config (defaults filled in, seed drawn) is what a run saves.
"""

from __future__ import annotations

import math
import re
import secrets
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from boneabm.errors import UserError, validation_lines
from boneabm.units import MAX_MOLECULES
from boneabm.yamlio import apply_overrides, read_yaml

MAX_SEED = 2**63 - 1
MAX_SITES = 4_000_000  # 2000 x 2000 sites: beyond this the Mesa grid alone needs several GB
UM2_PER_CM2 = 1e8


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _merge_into_default_sections(cls, data):
        """A sub-section given in part keeps its default's other keys: ``fields.rankl: {decay_per_h: 0.4}`` keeps
        RANKL's diffusivity, where building the sub-section from the given keys alone would drop or reset them."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, field in cls.model_fields.items():
            default = field.default
            if isinstance(default, BaseModel) and isinstance(merged.get(name), dict):
                merged[name] = {**default.model_dump(), **merged[name]}
        return merged


def _ticks(value_h: float, dt_h: float, least: int = 1) -> int | None:
    """How many ticks make ``value_h``, or None when it is not a whole number of ticks (at least ``least``).

    The model acts on ticks only, so a time between two ticks would be silently moved to one of them; a
    relative tolerance of 1e-9 lets through what decimal fractions of hours become as floats (0.3 / 0.1)."""
    n = round(value_h / dt_h)
    return n if n >= least and math.isclose(n * dt_h, value_h, rel_tol=1e-9, abs_tol=1e-12) else None


MAX_TICKS = 10**9  # far beyond any run (a century at 6-min ticks is 8.8e6), so a typo cannot overflow a count


def _tick_problem(key: str, value_h: float | None, dt_h: float, least: int = 1) -> str | None:
    """Why ``key = value_h`` is not a whole number (>= ``least``) of ticks, with the nearest that are, or None."""
    if value_h is None:
        return None
    if not value_h / dt_h <= MAX_TICKS:
        return (f"{key} = {value_h!r}: more than {MAX_TICKS:.0e} ticks of time.dt_h = {dt_h!r}; "
                f"at most {MAX_TICKS * dt_h:.6g} h")
    if _ticks(value_h, dt_h, least) is not None:
        return None
    below = max(math.floor(value_h / dt_h), least)
    above = max(math.ceil(value_h / dt_h), below + 1)
    return (f"{key} = {value_h!r}: not a whole number of ticks (time.dt_h = {dt_h!r}); use a multiple of "
            f"{dt_h:.12g} h such as {below * dt_h:.12g} or {above * dt_h:.12g}")


class TimeConfig(_Section):
    duration_h: float = Field(
        168.0, gt=0, le=24 * 365 * 10, description="Simulated time, h (168 h = 7 days); whole ticks.")
    dt_h: float = Field(
        0.1, gt=0, le=24,
        description="Tick length, h. Fates are drawn once per tick as probabilities 1 - exp(-rate*dt_h); "
        "keep rate*dt_h small (the default 0.1 h gives <0.5 % per tick for every default rate).")
    record_every_h: float = Field(1.0, gt=0, description="Interval between rows of timeseries.csv, h; whole ticks.")
    snapshot_every_h: float = Field(
        24.0, gt=0, description="Interval between per-cell snapshots in cells.csv, h; whole ticks.")
    spatial_every_h: float | None = Field(
        None, gt=0, description="Interval between spatial snapshots (cells with state, nuclei and position; "
        "field and depth maps) in snapshots/, which boneabm app and animate replay, h; whole ticks. null: "
        "with cells.csv, every snapshot_every_h.")

    @model_validator(mode="after")
    def _whole_ticks(self) -> TimeConfig:
        problems = [_tick_problem(f"time.{key}", getattr(self, key), self.dt_h)
                    for key in ("duration_h", "record_every_h", "snapshot_every_h", "spatial_every_h")]
        if any(problems):
            raise ValueError("\n  ".join(p for p in problems if p))
        return self

    @property
    def n_ticks(self) -> int:
        return _ticks(self.duration_h, self.dt_h)

    @property
    def record_every_ticks(self) -> int:
        return _ticks(self.record_every_h, self.dt_h)

    @property
    def snapshot_every_ticks(self) -> int:
        return _ticks(self.snapshot_every_h, self.dt_h)

    @property
    def spatial_every_ticks(self) -> int:
        return _ticks(self.spatial_every_h or self.snapshot_every_h, self.dt_h)


class DomainConfig(_Section):
    width_um: float = Field(2000.0, gt=0, description="Width of the simulated patch of the culture surface, µm.")
    height_um: float = Field(2000.0, gt=0, description="Height of the simulated patch, µm.")
    grid_spacing_um: float = Field(
        25.0, gt=0,
        description="Site pitch of the cell grid, µm; one cell per site. 25 µm gives a 625 µm² footprint, the "
        "spread area of a bone-marrow macrophage, so a full grid (1.6e5 cells/cm²) is a confluent BMM "
        "monolayer (calibrated).")
    periodic: bool = Field(
        True, description="Wrap the domain's edges: the patch stands for the middle of a large, uniform well.")

    @model_validator(mode="after")
    def _grid_fits(self) -> DomainConfig:
        for key in ("width_um", "height_um"):
            value = getattr(self, key)
            n = value / self.grid_spacing_um
            if abs(n - round(n)) > 1e-6 * max(n, 1.0) or round(n) < 3:
                raise ValueError(
                    f"domain.{key} = {value!r} must be a whole multiple of domain.grid_spacing_um = "
                    f"{self.grid_spacing_um!r}, at least 3 sites")
        if self.shape[0] * self.shape[1] > MAX_SITES:
            raise ValueError(
                f"domain of {self.shape[0]} x {self.shape[1]} sites exceeds the {MAX_SITES:,} sites allowed; "
                "enlarge domain.grid_spacing_um or shrink domain.width_um/height_um")
        return self

    @property
    def shape(self) -> tuple[int, int]:
        return round(self.width_um / self.grid_spacing_um), round(self.height_um / self.grid_spacing_um)

    @property
    def area_cm2(self) -> float:
        return self.width_um * self.height_um / UM2_PER_CM2

    @property
    def max_density_per_cm2(self) -> float:
        return UM2_PER_CM2 / self.grid_spacing_um**2


class MediumConfig(_Section):
    mcsf_ng_ml: float = Field(
        30.0, ge=0, le=1e4,
        description="M-CSF in fresh medium, ng/mL (homodimer ~37 kDa: 30 ng/mL ≈ 0.8 nM). Mouse BMM "
        "protocols use 20-30 ng/mL (docs/references.md#in-vitro-protocols).")
    rankl_ng_ml: float = Field(
        0.0, ge=0, le=1e4,
        description="Soluble RANKL in fresh medium, ng/mL (~20 kDa monomer: 100 ng/mL ≈ 5 nM). Protocols use "
        "30-100 ng/mL (docs/references.md#in-vitro-protocols). Carried by the medium; RANK signaling reads it "
        "from the signaling issue on.")
    opg_ng_ml: float = Field(
        0.0, ge=0, le=1e5,
        description="OPG (dimeric, ~110 kDa: 100 ng/mL ≈ 0.9 nM) in fresh medium, ng/mL; titrations use 50-500 "
        "ng/mL against 50 ng/mL RANKL (Li et al. 2016 JBC; docs/references.md#opg).")
    sclerostin_ng_ml: float = Field(
        0.0, ge=0, le=1e4,
        description="Sclerostin in fresh medium (or, in tissue mode, in the marrow), ng/mL (22.5 kDa). Serum "
        "sclerostin is ≈ 0.5 ng/mL in adults; osteocytes make it locally (osteocytes section).")
    wnt_ng_ml: float = Field(
        0.0, ge=0, le=1e4,
        description="Canonical Wnt ligand in fresh medium (recombinant Wnt3a, ≈ 40 kDa: 100 ng/mL ≈ 2.5 nM) or, in "
        "tissue mode, in the marrow, ng/mL. Wnt acts over a cell or two (fields.wnt), so in tissue what the "
        "osteoblast lineage reads comes from the cells around it: osteocytes (`osteocytes.wnt_per_cell_h`) and "
        "osteoclasts (`osteoclasts.wnt_per_nucleus_h`). In culture the medium's Wnt is lost at "
        "`fields.wnt.decay_per_h` as the layer's is (3.2/h: lower it for a stabilised Wnt3a).")
    volume_ul_per_cm2: float = Field(
        625.0, gt=0, le=1e5,
        description="Medium volume over each cm² of culture surface, µL/cm² (200 µL in a 0.32 cm² 96-well).")
    change_every_h: float | None = Field(
        48.0, gt=0,
        description="Interval between full medium changes, h (protocols feed every 2-3 days, "
        "docs/references.md#in-vitro-protocols); whole ticks; null for never. A change restores every factor to its "
        "fresh-medium level.")


class FactorConfig(_Section):
    diffusivity_um2_per_h: float = Field(
        ge=0, description="Diffusivity in the fluid around the cells, µm²/h (Stokes–Einstein scaling from a "
        "globular protein's ~90 µm²/s at 37 °C by molecular weight; calibrated).")
    decay_per_h: float = Field(0.0, ge=0, le=100, description="First-order loss, 1/h.")


class FieldsConfig(_Section):
    mode: Literal["culture", "tissue"] = Field(
        "culture",
        description="culture: a well-mixed medium over the cells exchanges with every site, so factors stay "
        "nearly uniform; tissue: no medium, factors are made, bound, consumed and decay locally.")
    boundary: Literal["periodic", "no_flux"] = Field(
        "periodic", description="Boundary of the fields' transport: periodic (like the cells) or no-flux.")
    layer_height_um: float = Field(
        10.0, gt=0, le=1e4,
        description="Height of the fluid layer around the cells that a site's concentration stands for, µm (a "
        "cell's height); uptake and secretion change it through the site's volume = spacing² × this.")
    medium_exchange_um_per_h: float = Field(
        1000.0, ge=0,
        description="Mass-transfer velocity between the cells' layer and the medium above, µm/h (culture mode). "
        "1000 µm/h keeps the layer within a few % of the medium under full M-CSF uptake (calibrated).")
    marrow_exchange_um_per_h: float = Field(
        0.0, ge=0, le=1e5,
        description="Tissue mode: mass-transfer velocity between the fluid layer over the bone surface and the "
        "marrow, µm/h. The marrow is a reservoir at the medium section's concentrations (the systemic levels a "
        "user sets) that every site exchanges with, except where a canopy of lining cells closes the bone "
        "remodeling compartment (Hauge et al. 2001 JBMR 16:1575; Andersen et al. 2009 Am J Pathol 174:239). "
        "0: a closed tissue, factors only made, bound, consumed and decaying locally. Calibrated.")
    canopy_margin_um: float | None = Field(
        None, ge=0, le=1e4,
        description="Tissue mode: lining cells lift into a canopy over the surface being remodeled — where "
        "osteocytes signal for resorption, where bone is eroded and not refilled, where osteoid lies — widened "
        "by this margin, µm (boneabm/environment/canopy.py; a rule standing for the lining cells; calibrated). "
        "Sites under it do not exchange with the marrow. null: no canopy.")
    mcsf: FactorConfig = Field(FactorConfig(diffusivity_um2_per_h=3.6e5),
                               description="M-CSF (37 kDa): ≈ 100 µm²/s.")
    rankl: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=2.9e5),
        description="Soluble RANKL (trimer ~60 kDa): ≈ 80 µm²/s. Bone-model fits use 10.13/d decay in vivo "
        "(Pivonka 2008); 0 in culture.")
    opg: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=2.2e5),
        description="OPG (dimer ~110 kDa): ≈ 60 µm²/s; its RANKL complex moves and decays like it. Lemaire "
        "2004 uses 0.35/d decay in bone; 0 in culture.")
    tgfb: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=4.1e5, decay_per_h=10.0),
        description="Active TGF-β1 (dimer 25 kDa) freed from resorbed matrix: ≈ 115 µm²/s by Stokes–Einstein "
        "scaling from M-CSF; active TGF-β is cleared within minutes (plasma half-life 2.2 min, Coffey et al. 1987 "
        "J Clin Invest 80:750; docs/references.md#coupling), so it acts near the resorption site.")
    igf1: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=6.1e5, decay_per_h=5.0),
        description="Free IGF-1 (7.6 kDa) freed from resorbed matrix: ≈ 170 µm²/s by Stokes–Einstein scaling; "
        "free IGF-1 is recaptured by binding proteins within minutes (docs/references.md#coupling).")
    sclerostin: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=4.2e5, decay_per_h=0.1),
        description="Sclerostin (22.5 kDa) from osteocytes: ≈ 120 µm²/s by Stokes–Einstein scaling; cleared over "
        "hours (calibrated).")
    wnt: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=180.0, decay_per_h=3.2),
        description="Canonical Wnt ligands (≈ 40 kDa, palmitoleoylated): they stick to membranes and heparan "
        "sulfate, so they spread slowly and act near the cell that made them. Measured for Wingless in the "
        "Drosophila wing disc, D ≈ 0.05 µm²/s and degradation ≈ 9×10⁻⁴/s, a decay length √(D/k) ≈ 7.5 µm "
        "(≈ 6 µm measured directly; Kicheva et al. 2007 Science 315:521); Wnt3 reaches only the cells next to its "
        "source in the intestinal crypt (Farin et al. 2016 Nature 530:340).")
    sema4d: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=2.2e5, decay_per_h=1.0),
        description="Soluble Sema4D (the ≈ 120 kDa ectodomain shed from osteoclasts): ≈ 60 µm²/s by Stokes–Einstein "
        "scaling; its clearance is not measured (calibrated).")
    antibody: FactorConfig = Field(
        FactorConfig(diffusivity_um2_per_h=1.8e5, decay_per_h=0.00111),
        description="Anti-RANKL antibody (IgG ~147 kDa, denosumab-like): ≈ 50 µm²/s; half-life ≈ 26 days "
        "(docs/references.md#anti-rankl); its RANKL complex moves and decays like it.")
    rankl_opg_kon_per_nM_h: float = Field(
        3.6, gt=0, description="RANKL–OPG association, 1/(nM·h) (1e6 /M/s; calibrated).")
    rankl_opg_kd_nM: float = Field(
        0.004, gt=0,
        description="RANKL–OPG dissociation constant, nM: 500-fold tighter than RANKL–RANK (2 nM in the rank "
        "network), as measured for the OPG binding region (Nelson et al. 2012 Structure 20:1971).")
    opg_rankl_sites_per_dimer: int = Field(
        2, ge=1, le=3,
        description="RANKL monomers one OPG dimer binds: each OPG chain's cysteine-rich domains fill one groove of "
        "the RANKL trimer (Luan et al. 2012 J Immunol 189:245), and the dimer binds with both chains (avidity: "
        "K_D 10 nM against 3 µM for monomeric OPG, Schneeweis et al. 2005 JBC 280:41155). The K_D above is per "
        "site.")
    rankl_antibody_kon_per_nM_h: float = Field(
        3.6, gt=0, description="RANKL–antibody association, 1/(nM·h) (calibrated).")
    rankl_antibody_kd_nM: float = Field(
        0.003, gt=0, description="RANKL–antibody dissociation constant, nM (denosumab ≈ 3 pM, Kostenuik et al. "
        "2009 JBMR 24:182).")
    antibody_rankl_sites_per_molecule: int = Field(
        2, ge=1, le=2, description="RANKL monomers one antibody binds: an IgG (denosumab is an IgG2) has two "
        "antigen-binding arms. The K_D above is per site.")



class DoseConfig(_Section):
    drug: Literal["anti_rankl_antibody", "opg_fc"] = Field(
        description="anti_rankl_antibody sequesters RANKL (denosumab-like); opg_fc adds OPG (AMGN-0007-like).")
    ng_ml: float = Field(gt=0, le=1e6, description="Concentration added to the medium (culture) or to every "
                         "site (tissue), ng/mL.")
    at_h: float = Field(ge=0, description="Time of the (first) dose, h; whole ticks.")
    every_h: float | None = Field(None, gt=0, description="Interval of repeated doses, h (whole ticks); null for one "
                                  "dose.")
    count: int | None = Field(None, ge=1, description="Number of doses given every every_h; null for no limit.")
    stop_h: float | None = Field(None, gt=0, description="No dose at or after this time, h (whole ticks): with "
                                 "every_h, a treatment window; null for none.")

    @model_validator(mode="after")
    def _repeats(self) -> DoseConfig:
        if self.count is not None and self.count > 1 and self.every_h is None:
            raise ValueError(f"count = {self.count} doses need every_h, the interval between them")
        if self.stop_h is not None and self.stop_h <= self.at_h:
            raise ValueError(f"stop_h = {self.stop_h!r} must come after at_h = {self.at_h!r}")
        return self

    def due(self, tick: int, dt_h: float) -> bool:
        """Whether a dose is given at the start of tick ``tick`` (times are whole ticks, checked on loading)."""
        first = round(self.at_h / dt_h)
        if tick < first or (self.stop_h is not None and tick >= round(self.stop_h / dt_h)):
            return False
        if tick == first:
            return True
        if self.every_h is None:
            return False
        every = round(self.every_h / dt_h)
        given = (tick - first) // every  # doses before this one
        return (tick - first) % every == 0 and (self.count is None or given < self.count)


class MatrixConfig(_Section):
    density_g_per_cm3: float = Field(
        2.0, gt=0, le=3.5,
        description="Density of the bone whose growth-factor content is given per gram, g/cm³ (mineralised "
        "cortical and trabecular tissue ≈ 1.9-2.1).")
    tgfb_ng_per_g: float = Field(
        200.0, ge=0, le=1e5,
        description="Latent TGF-β1 stored in the matrix, ng per g of bone: bone holds about 200 µg/kg, the body's "
        "largest store (Bonewald & Mundy 1990 Clin Orthop 250:261; docs/references.md#coupling). Freed in proportion "
        "to the collagen osteoclasts degrade.")
    tgfb_active_fraction: float = Field(
        0.3, ge=0, le=1,
        description="Fraction of the freed latent TGF-β1 that the acid and proteases of the resorption lacuna "
        "activate; the rest stays latent and is not followed. No measurement in bone was found: calibrated "
        "(docs/references.md#coupling).")
    igf1_ng_per_g: float = Field(
        85.0, ge=0, le=1e5,
        description="IGF-1 stored in the matrix, ng per g of bone: the order of magnitude reviews report for bone "
        "growth factors, not read from a primary measurement; calibrated (docs/references.md#coupling).")
    igf1_active_fraction: float = Field(
        0.3, ge=0, le=1,
        description="Fraction of the freed IGF-1 that leaves its binding protein (IGFBP-5) free to signal. "
        "Calibrated.")


class MineralisationConfig(_Section):
    lag_days: float = Field(
        10.0, ge=0, le=365,
        description="Mineralisation lag: days new matrix stays osteoid before it mineralises (≈ 8 d in human iliac "
        "bone, Agerbaek et al. 1991 Bone Miner 12:101; osteomalacia beyond 100 d).")
    primary_days: float = Field(
        10.0, gt=0, le=365,
        description="Days over which primary mineralisation brings matrix to `primary_fraction` (a linear ramp; "
        "the Martínez-Reina models' queue uses 10 d).")
    primary_fraction: float = Field(
        0.7, gt=0, le=1,
        description="Mineral fraction of full mineralisation reached by primary mineralisation (≈ 60-70 %).")
    secondary_half_life_days: float = Field(
        180.0, gt=0, le=1e5,
        description="Half-life of the secondary mineralisation that takes the rest toward full, days (months to "
        "years; calibrated).")


class BoneConfig(_Section):
    mineralisation: MineralisationConfig = Field(
        MineralisationConfig(), description="How matrix osteoblasts lay down mineralises "
        "(boneabm/environment/formation.py).")
    matrix: MatrixConfig = Field(
        MatrixConfig(), description="The growth factors the bone matrix stores and resorption sets free (TGF-β1, "
        "IGF-1): the coupling of formation to resorption.")
    thickness_um: float = Field(
        300.0, gt=0, description="Thickness of the bone (or dentine) slice under the cells, µm (slices of "
        "0.2-0.4 mm are usual); resorption cannot go deeper.")
    pixels_per_site: int = Field(
        5, ge=1, le=20,
        description="Bone pixels along each side of a grid site (5 → 5 µm pixels at the 25 µm default spacing): "
        "pits are a few cell diameters across, so they need a finer grid than the cells.")
    trench_elongation: float = Field(
        2.0, gt=1,
        description="A resorption event whose length is at least this times its width is a trench, not a pit "
        "(trenches are long, Søe & Delaissé 2017 J Cell Sci; calibrated).")


class PrecursorConfig(_Section):
    plating_density_per_cm2: float = Field(
        3.1e4, ge=0,
        description="Bone-marrow macrophages plated, cells/cm². 1e4 cells per 96-well (0.32 cm²) as in common "
        "mouse BMM osteoclastogenesis protocols; RAW264.7 assays span 2.5-10e3 cells/cm² (Akchurin 2008 PLoS "
        "One 3:e2104). Calibrated.")
    division_rate_max_per_h: float = Field(
        0.035, ge=0, le=10,
        description="Division rate in saturating M-CSF, 1/h (doubling ≈ 20 h; BMMs cycle in about a day in "
        "CSF-1, Tushinski & Stanley 1985 J Cell Physiol 122:221). Calibrated.")
    division_csf1r_half_molecules: float = Field(
        1.6, gt=0,
        description="M-CSF-bound CSF-1R per nucleus (network molecules, the role mitogenic_signal) giving half the "
        "maximal division rate: the receptor's ERK signal drives the cycle. Proliferation needs more CSF-1 than "
        "survival (Tushinski et al. 1982 Cell 28:71). Calibrated: 1.6 keeps the division rate at 30 ng/mL M-CSF "
        "at 86 % of its maximum, as before the receptor was modelled.")
    division_arrest_cfos_molecules: float = Field(
        0.75, gt=0,
        description="c-Fos per nucleus (network molecules) that halves division: RANKL withdraws precursors from "
        "the cell cycle as they differentiate, through p27KIP1 and p21CIP1 (Sankar et al. 2004 JBMR 19:1339). "
        "Calibrated (0.75 with the graded RANK module): precursors are used up so multinucleated cells peak on "
        "day 4-6 and decline by day 7 (docs/references.md#time-course).")
    death_rate_basal_per_h: float = Field(
        0.002, ge=0, le=10,
        description="Apoptosis rate with ample M-CSF, 1/h (mean lifetime ≈ 3 weeks in culture). Calibrated.")
    death_rate_no_mcsf_per_h: float = Field(
        0.03, ge=0, le=10,
        description="Apoptosis rate without M-CSF, 1/h (half-life ≈ 23 h: BMMs die within 1-3 days of CSF-1 "
        "withdrawal, Tushinski et al. 1982 Cell 28:71; op/op precursors fail, "
        "docs/references.md#knockout-and-inhibitor-phenotypes). Calibrated.")
    survival_csf1r_half_molecules: float = Field(
        0.3, gt=0,
        description="M-CSF-bound CSF-1R per nucleus (network molecules) at which the death rate is halfway between "
        "its no-M-CSF and basal values: the receptor's PI3K/Akt survival signal. Low CSF-1 keeps macrophages "
        "alive without proliferation (Tushinski et al. 1982). Calibrated (half survival near 0.3 ng/mL).")
    motility_um2_per_h: float = Field(
        300.0, ge=0,
        description="Random-walk diffusivity of a precursor on an empty surface, µm²/h (≈ 1 µm/min with a "
        "10-min persistence). Hops go only to free neighbouring sites, so crowding slows cells. Calibrated.")
    marrow_pool_per_mm2: float = Field(
        0.0, ge=0, le=1e7,
        description="Osteoclast precursors (monocytes) in the marrow within reach of each mm² of surface: a count, "
        "not agents, recruited to free sites by RANKL (boneabm/cells/recruitment.py). 0: no recruitment, as in a "
        "culture.")
    recruitment_per_mm2_per_h: float = Field(
        0.0, ge=0, le=1e7,
        description="Arrivals per mm² of free surface per hour with RANK saturated and the pool full: RANKL is a "
        "chemoattractant for osteoclast precursors (Henriksen et al. 2003 J Biol Chem 278:48745). Calibrated.")
    recruitment_rankl_half_nM: float = Field(
        2.0, gt=0, le=1e3,
        description="Free RANKL at which recruitment is half-maximal, nM: RANK's K_D (2 nM in the rank network).")
    marrow_renewal_per_h: float = Field(
        0.05, ge=0, le=100,
        description="Rate at which the marrow pool refills toward its steady count, 1/h (proliferation and "
        "influx in the marrow, lumped; calibrated).")
    egress_rate_max_per_h: float = Field(
        0.0, ge=0, le=10,
        description="Rate at which an uncommitted mononuclear precursor without RANK signaling leaves the surface "
        "for the circulation, 1/h, returning to the marrow pool: precursors follow blood sphingosine-1-phosphate "
        "through S1PR1 (Ishii et al. 2009 Nature 458:524). 0: none (a culture has nowhere to go); needs "
        "marrow_pool_per_mm2 > 0. Calibrated.")
    egress_cfos_half_molecules: float = Field(
        0.5, gt=0, le=1e4,
        description="c-Fos per nucleus (role arrest_signal) that halves egress (Hill 2): RANKL signaling represses "
        "S1PR1, so precursors that RANKL has reached stay (Ishii et al. 2009; lumped on c-Fos). Calibrated.")


class OsteoclastConfig(_Section):
    retired_keys: ClassVar[dict[str, str]] = {
        name: "committed cells' survival reads their own Bim, which M-CSF and RANKL signaling keep low, not the "
              "medium; set osteoclasts.death_bim_half_molecules, or the network's k_bim_* rates"
        for name in ("survival_rankl_ec50_ng_ml", "survival_mcsf_ec50_ng_ml")}
    trap_positive_molecules: float = Field(
        3.0, gt=0,
        description="TRAP per nucleus (network molecules) at which a cell is TRAP⁺ and commits: a "
        "pre-osteoclast stops dividing (TRAP⁺ mononuclear cells precede fusion, PMC7461040). Calibrated.")
    fusion_dcstamp_molecules: float = Field(
        5.0, gt=0, description="DC-STAMP per nucleus needed for fusion competence (Yagi 2005). Calibrated.")
    fusion_ocstamp_molecules: float = Field(
        5.0, gt=0, description="OC-STAMP per nucleus needed for fusion competence (Witwicka 2015). Calibrated.")
    fusion_rate_per_h: float = Field(
        2.0, ge=0, le=100,
        description="Fusion rate of a pair of fusion-competent neighbours at saturating fusion genes, 1/h. "
        "Calibrated to the first multinucleated cells on day 3 (docs/references.md#time-course).")
    fusion_gene_half_molecules: float = Field(
        10.0, gt=0, description="DC-STAMP and OC-STAMP per nucleus giving half the fusion rate. Calibrated.")
    multinucleated_pair_fusion_factor: float = Field(
        1.0, ge=0, le=1,
        description="Fusion rate of two multinucleated neighbours relative to a pair with a mononuclear partner "
        "(same fusion genes), 0-1. Fusion partners are not alike: most fusions join a motile mononuclear cell to a "
        "less motile, fusion-founding cell (Levaot et al. 2015 J Cell Biol 210:1251; Hobolt-Pedersen, Delaissé & "
        "Søe 2014 Calcif Tissue Int 95:73), and two multinucleated cells fuse by other machinery (syncytin-1 rather "
        "than CD47, Møller, Delaissé & Søe 2017 J Cell Physiol 232:1396) — which live imaging sees in culture "
        "(Jansen et al. 2012) but which bone's small osteoclasts (a few to 20 nuclei) suggest is rare there. 1 in "
        "the culture, calibrated with it; `bmu` sets 0, calibrated.")
    min_nuclei: int = Field(
        3, ge=2, le=10,
        description="Nuclei that make an osteoclast (TRAP⁺, ≥ 3 nuclei, docs/references.md#in-vitro-protocols).")
    sema4d_per_nucleus_h: float = Field(
        20000.0, ge=0, le=1e7,
        description="Soluble Sema4D a multinucleated cell sheds per nucleus, molecules/h: osteoclasts express "
        "Sema4D, which binds Plexin-B1 on osteoblasts and holds their differentiation back while resorption goes "
        "on (Negishi-Koga et al. 2011 Nat Med 17:1473). 0: an osteoclast Sema4d deletion. Shed only with an "
        "osteoblast lineage, the one cell type that reads it. Calibrated: ≈ 0.1-0.2 nM at the osteoblast-lineage "
        "cells of a resorbing BMU, which blocks most of their IGF-1 signaling.")
    wnt_per_nucleus_h: float = Field(
        2000.0, ge=0, le=1e7,
        description="Canonical Wnt a multinucleated cell secretes per nucleus at saturating active TGF-β1, "
        "molecules/h (0: an osteoclast Wnt deletion, or of their TGF-β receptor, Tgfbr2, which Weivoda 2016 made): "
        "TGF-β freed from the matrix induces Wnt1 (Weivoda et al. 2016 JBMR 31:76) and Wnt10b (Ota et al. 2013 "
        "Endocrinology 154:3745) in osteoclasts, coupling formation to resorption; mature osteoclasts secrete "
        "Wnt10b (Pederson et al. 2008 PNAS 105:20764). Made only with an osteoblast lineage, the one cell type "
        "that reads it. Calibrated.")
    wnt_tgfb_half_nM: float = Field(
        0.1, gt=0, le=1e3,
        description="Active TGF-β1 at the cell's site at which it makes half its Wnt, nM. Read at the tick's start, "
        "as the cells' networks read their inputs, before the fields spread what the last tick's resorption freed: "
        "mostly what the cell's own resorption freed into its site, as in its sealed lacuna, an amount that grows "
        "with the tick. Calibrated at `bmu`'s 0.5-h tick.")
    ephrinb2: bool = Field(
        True, description="Whether committed (TRAP⁺) cells present ephrinB2 (Efnb2, an NFATc1 target) to touching "
        "osteoblast-lineage cells, whose EphB4 forward signaling favours their differentiation (Zhao et al. 2006 "
        "Cell Metab 4:111); false: an osteoclast-lineage Efnb2 deletion. Read only with an osteoblast lineage.")
    spread_area_one_nucleus_um2: float = Field(
        625.0, gt=0,
        description="Area a one-nucleus cell of the lineage covers, µm²: the spread area of a bone-marrow "
        "macrophage, the same as a grid site (domain.grid_spacing_um). Calibrated.")
    spread_area_nuclei_exponent: float = Field(
        2 / 3, ge=0, le=1,
        description="Spread area ∝ nuclei^this, 1: each fusion partner brings its cytoplasm, so the volume grows "
        "with the nuclei; a cell that keeps its shape as it grows spreads over volume^(2/3), a flat one of fixed "
        "height over volume^1. Calibrated (2/3): larger osteoclasts resorb more but less per nucleus (Piper, "
        "Boyde & Jones 1992 Anat Embryol 186:291, chick osteoclasts on dentine); the area-nuclei relation itself "
        "is not taken from a measurement (docs/references.md#resorption-per-osteoclast).")
    sealing_zone_area_fraction: float = Field(
        0.5, gt=0, le=1,
        description="Share of the spread area the sealing zone (actin ring) encloses at full integrin β3, 1: "
        "the resorption lacuna and the ruffled border over it, and the footprint resorbed on the bone. "
        "Calibrated (a ring at 70 % of the cell's radius; with wild-type integrin β3 a 4-nuclei cell seals "
        "≈ 600 µm², a 10-nuclei one ≈ 1100 µm²).")
    function_gene_half_molecules: float = Field(
        10.0, gt=0,
        description="Integrin β3 per nucleus for half the sealing-zone area (β3⁻/⁻ osteoclasts spread and seal "
        "poorly, McHugh et al. 2000 J Clin Invest 105:433), and TRAP per nucleus for half its effect on the "
        "proton flux (TRAP⁻/⁻: mild osteopetrosis, Hayman et al. 1996 Development 122:3151), molecules. "
        "Calibrated.")
    pump_half_density_per_um2: float = Field(
        0.2, gt=0,
        description="Atp6v0d2 (network molecules, standing for the cell's osteoclast V-ATPase) per µm² of "
        "ruffled border for half the maximal proton flux, 1/µm²: the pumps work only in the ruffled border, so "
        "the flux saturates with their density there (Blair et al. 1989 Science 245:855). Calibrated: "
        "wild-type osteoclasts run at ≈ 50-60 % of the maximal flux, larger ones nearer it.")
    proton_flux_per_um2_per_s: float = Field(
        1.6e6, ge=0,
        description="H⁺ secreted per s per µm² of sealed ruffled border at saturating pumps, 1/(s·µm²) (≈ 270 "
        "pmol/(cm²·s); the ruffled border's folds count in it). Calibrated so that a 10-nuclei osteoclast in a "
        "pit demineralises ≈ 390 µm³/h, the mean of single osteoclasts (43-1225 µm³/h, Kanehisa & Heersche "
        "1988 Bone 9:73); bone costs ≈ 9.1e9 H⁺ per µm³ (boneabm/cells/osteoclast/resorption.py).")
    collagen_um3_per_h_per_cathepsin_k: float = Field(
        3.0, ge=0,
        description="Collagen digested per hour per cathepsin K (network molecule) of the cell, µm³ of bone "
        "per h: secretion into the lacuna in proportion to the cell's content. The bone caps it at what the "
        "acid has exposed; without cathepsin K the collagen stays (Saftig et al. 1998 PNAS 95:13453). "
        "Calibrated: a wild-type osteoclast can digest 2-3 times what it demineralises, so its collagen keeps "
        "up with the mineral but for a thin fringe (`collagen_fringe_half_um`).")
    collagen_fringe_half_um: float = Field(
        0.5, ge=0, le=100,
        description="Depth of demineralised collagen the acid has laid bare at which cathepsin K digests at half "
        "its capacity, µm: the enzyme works on exposed fibrils, so it lags the acid by a thin fringe that stays in "
        "the lacuna where the cell moves on (Everts et al. 2002 JBMR 17:77 saw such collagen remnants in Howship's "
        "lacunae; Søe & Delaissé 2017 J Cell Sci 130:2026 in pits on bone slices). With m and c "
        "the acid's and the enzyme's depth per tick, the bared collagen settles at K·m/(c − m), and K·m/(c − m) − m "
        "stays behind the acid: ≈ 0.1 µm in the bmu example (calibrated). 0: "
        "collagen keeps up with the acid until the capacity runs out.")
    migrating_to_resorbing_per_h: float = Field(
        0.5, ge=0, description="Rate at which a migrating osteoclast settles to resorb, 1/h. Calibrated.")
    trench_fraction: float = Field(
        0.5, ge=0, le=1,
        description="Fraction of resorption events that are trenches, resorbing while moving (> 50 % of human "
        "osteoclasts, Søe & Delaissé 2017 J Cell Sci).")
    pit_to_migrating_per_h: float = Field(
        0.1, ge=0, description="End of a pit: back to migrating, 1/h (pits last hours). Calibrated.")
    trench_to_migrating_per_h: float = Field(
        0.04, ge=0, description="End of a trench, 1/h (trench events last days, Søe & Delaissé 2017). Calibrated.")
    migration_speed_um_per_h: float = Field(
        105.0, ge=0, description="Speed of a migrating osteoclast, µm/h (30-248, mean 105, Kanehisa 1988).")
    crawl_over_mononuclear_cells: bool = Field(
        False, description="Whether a moving osteoclast crawls over the mononuclear cells of the surface (precursors, "
        "reversal cells, osteoblasts; not lining cells), swapping sites with the one in its way, instead of waiting "
        "for a free site; of the sites open to it, it takes one over bare mineralised bone if there is any (its "
        "integrins find their matrix there, not on osteoid or lining cells). A multinucleated osteoclast spreads "
        "over tens of µm and migrates among the reversal "
        "cells that line the eroded surface (Abdelgawad et al. 2016 Histochem Cell Biol 145:603; Lassen et al. 2017 "
        "JBMR 32:1395); a lattice that held it to free sites traps it in a crowded BMU, where it digs a shaft "
        "in one place. Off in the culture, whose calibration predates it; on in `bmu`.")
    trench_speed_um_per_h: float = Field(
        8.0, ge=0, description="Speed while resorbing a trench, µm/h (several hundred µm over days, Søe 2017).")
    trench_rate_factor: float = Field(
        2.0, ge=0, description="Trenches erode this much faster than pits (≈ 2×, Søe & Delaissé 2017).")
    death_rate_per_h: float = Field(
        0.04, ge=0, le=10,
        description="Apoptosis of committed cells (pre-osteoclasts and osteoclasts) at saturating Bim, as without "
        "RANKL and M-CSF, 1/h. Calibrated.")
    death_rate_supported_per_h: float = Field(
        0.008, ge=0, le=10,
        description="Apoptosis of committed cells without Bim, 1/h (a lifespan of days: Bim⁻/⁻ osteoclasts outlive "
        "M-CSF withdrawal, Akiyama et al. 2003 EMBO J 22:6653). Calibrated with the c-Fos cell-cycle arrest to the "
        "decline after the day 4-6 peak as the precursors are used up (docs/references.md#time-course; Akchurin "
        "2008 fit the post-peak decay). The `bmu` example sets 0.001 from bone's osteoclast lifespan of weeks "
        "(Manolagas 2000): a calibration, as the model does not explain the difference.")
    death_bim_half_molecules: float = Field(
        20.0, gt=0,
        description="Bim per nucleus (network molecules, the role apoptosis_signal) at which a committed cell's "
        "apoptosis is halfway between its rates without Bim and at saturating Bim (Hill coefficient 2). Calibrated: "
        "in 30 ng/mL M-CSF and 50 ng/mL RANKL a committed cell holds ≈ 7.5 Bim per nucleus (apoptosis ≈ 0.012/h, "
        "as the earlier rule gave from the RANKL and M-CSF the cells left at their sites), with M-CSF alone ≈ 14, "
        "with RANKL alone ≈ 22, with neither ≈ 75 (a day after the receptor's loss, 300 cells).")
    multinucleated_death_factor: float = Field(
        1.5, ge=0, le=100,
        description="Multinucleated cells die this many times faster than mononuclear pre-osteoclasts in the same "
        "RANKL and M-CSF, 1 (calibrated: 1.5, with the c-Fos arrest, gives the day 4-6 peak and the decline to "
        "≤ 80 % of it by day 7 (docs/references.md#time-course, decline by apoptosis) and keeps fusion knockouts' "
        "TRAP⁺ nuclei within 30 % of wild type, docs/validation.md#check-10-fusion-knockouts). The `bmu` example sets 0.2: "
        "bone's osteoclasts live for weeks while their nuclei turn over (Manolagas 2000; Parfitt 1994), a calibration.")
    unligated_integrin_death_rate_per_h: float = Field(
        0.0, ge=0, le=10,
        description="Apoptosis that integrin αvβ3 with no bone matrix to bind adds to a committed cell, at "
        "saturating unligated β3, 1/h: unoccupied αvβ3 recruits caspase-8 and signals death, which ligation by the "
        "bone's matrix proteins prevents (Zhao, Ross & Teitelbaum 2005 Mol Endocrinol 19:771). The unligated β3 is "
        "the cell's integrin β3 per nucleus times the share of its spread area over no bare mineralised bone (lining "
        "cells or osteoid beneath), at half effect at `function_gene_half_molecules`. No magnitude was found: "
        "calibrated. 0 (the default): a culture on a bone slice has bare bone under every cell, so the culture was "
        "calibrated without it and it would change nothing there.")
    nucleus_extrusion_rate_per_h: float = Field(
        0.0, ge=0, le=10,
        description="Apoptosis of single nuclei of a multinucleated cell, each extruded with its share of the "
        "cytoplasm while the cell lives on, per nucleus, 1/h: live imaging saw osteoclasts split off compartments "
        "holding apoptotic nuclei, in culture and in native osteoclasts (Jansen et al. 2012 Calcif Tissue Int "
        "90:515); a cell left with no nucleus dies. Its rate is measured only in bone: the `bmu` example sets 0.0033, "
        "a nucleus's mean stay of 12.5 days (Parfitt 1994 J Cell Biochem 55:273). The culture was calibrated "
        "without it (0; with bone's rate its day-7 decline reached 81 % of the peak at seed 3, against ≤ 80 %).")


class _Window(_Section):
    start_h: float = Field(0.0, ge=0, description="When it starts, h; whole ticks.")
    stop_h: float | None = Field(None, gt=0, description="When it stops (a wash-out), h (whole ticks); "
                                   "null for never.")

    @model_validator(mode="after")
    def _ordered(self):
        if self.stop_h is not None and self.stop_h <= self.start_h:
            raise ValueError(f"stop_h = {self.stop_h!r} must come after start_h = {self.start_h!r}")
        return self


class KnockoutConfig(_Window):
    gene: str = Field(description="A gene of the network (its `genes:` table) or one species.")


class InhibitorConfig(_Window):
    target: str = Field(description="A named inhibitor of the network (e.g. calcineurin_inhibitor) or a reaction.")
    remaining_activity: float = Field(
        0.0, ge=0, le=1, description="Fraction of the target reactions' rate left, 1 (0 = complete block).")
    label: str | None = Field(None, description="What it stands for in reports, e.g. FK506 1 µM.")


class ClampConfig(_Window):
    species: str = Field(description="A species held fixed (overexpression, a constitutively active form).")
    molecules: int = Field(ge=0, le=MAX_MOLECULES, description="The count it is held at per nucleus, molecules (in the network's "
                           "scaling): the transgene is in every nucleus, so a fused cell holds it times its nuclei "
                           "(the same concentration).")


class PulseConfig(_Window):
    species: str = Field(description="The species each pulse holds, e.g. CaN_a (active calcineurin): a Ca²⁺ pulse "
                         "applied from outside keeps calcineurin active while Ca²⁺ is high (Tomida et al. 2003).")
    molecules: int = Field(ge=0, le=MAX_MOLECULES, description="The count it is held at during a pulse, per nucleus, molecules (in the "
                           "network's scaling; in rank, one spontaneous spike makes 3 CaN_a).")
    period_min: float = Field(gt=0, description="Time from one pulse's start to the next, min (need not be whole "
                              "ticks: the signaling step is split at every pulse edge).")
    duration_min: float = Field(gt=0, description="How long each pulse holds the species, min; shorter than "
                                "period_min. Between pulses the network takes the species back.")

    @model_validator(mode="after")
    def _shorter_than_period(self):
        if self.duration_min >= self.period_min:
            raise ValueError(f"duration_min = {self.duration_min!r} must be shorter than period_min = "
                             f"{self.period_min!r} (a pulse that never ends is a clamp: use clamps)")
        return self


class _NetworkPerturbations(_Section):
    """A lineage's network and what perturbs it: knockouts, inhibitors, clamps and pulses."""

    knockouts: list[KnockoutConfig] = Field(
        [], description="Genes removed (a gene name alone means from t = 0, for good).")
    inhibitors: list[InhibitorConfig] = Field([], description="Drugs or blocks acting on reactions.")
    clamps: list[ClampConfig] = Field([], description="Species held at a fixed count.")
    pulses: list[PulseConfig] = Field(
        [], description="Pulse trains: a species held at a count during pulses of duration_min every period_min, "
        "from start_h to stop_h (external Ca²⁺ pulses, as in Tomida et al. 2003).")

    def perturbations(self) -> list:
        from boneabm.signaling.perturbations import Perturbation

        return ([Perturbation("knockout", k.gene, 0.0, k.start_h, k.stop_h) for k in self.knockouts]
                + [Perturbation("inhibitor", i.target, i.remaining_activity, i.start_h, i.stop_h)
                   for i in self.inhibitors]
                + [Perturbation("clamp", c.species, float(c.molecules), c.start_h, c.stop_h) for c in self.clamps]
                + [Perturbation("pulse", p.species, float(p.molecules), p.start_h, p.stop_h, p.period_min / 60,
                                p.duration_min / 60) for p in self.pulses])

    @model_validator(mode="before")
    @classmethod
    def _plain_gene_names(cls, data):
        if isinstance(data, dict) and isinstance(data.get("knockouts"), list):
            data = {**data, "knockouts": [{"gene": k} if isinstance(k, str) else k for k in data["knockouts"]]}
        return data


class SignalingConfig(_NetworkPerturbations):
    network: str = Field(
        "rank", description="A built-in network (rank) or a network YAML file, relative to the experiment file.")
    itam_ligand: float = Field(
        1.0, ge=0, le=1,
        description="Availability of ligands for the ITAM-associated receptors TREM-2 and OSCAR, 1 (1 in "
        "M-CSF + RANKL monoculture on bone or plastic; calibrated).")
    observables: dict[str, list[str]] = Field(
        {}, description="Readouts added to the network's own without copying its file: name -> species summed "
        "per cell, written to cells.csv and (mean, sd) to timeseries.csv like the network's observables.")
    counters: dict[str, str] = Field(
        {}, description="Reactions whose firings are counted per cell, added to the network's counters: name -> "
        "reaction (cells.csv <name>, timeseries.csv <name>_total).")


class OsteoblastSignalingConfig(_NetworkPerturbations):
    network: str = Field(
        "osteoblast", description="A built-in network (osteoblast) or a network YAML file, relative to the "
        "experiment file.")
    retired_keys: ClassVar[dict[str, str]] = {
        "wnt_nM": "Wnt is a field (fields.wnt) that cells make: osteocytes (osteocytes.wnt_per_cell_h), osteoclasts "
                  "(osteoclasts.wnt_per_nucleus_h) and the marrow or medium (medium.wnt_ng_ml)"}
    pth_nM: float = Field(
        0.003, ge=0, le=1e3,
        description="PTH the cells see, nM: serum PTH(1-84) is 10-65 pg/mL, 1-7 pM (9.4 kDa).")


HABITUAL_STRAIN_MICROSTRAIN = 1000.0  # peak strain of habitual daily use in human bone (Burr et al. 1996 Bone 18:405)


class ActivationConfig(_Section):
    at_h: float = Field(ge=0, description="When the osteocytes die, h; whole ticks.")
    x_um: float = Field(ge=0, description="Centre of the disk, µm from the domain's left edge.")
    y_um: float = Field(ge=0, description="Centre of the disk, µm from the domain's lower edge.")
    radius_um: float = Field(gt=0, le=1e5, description="Radius of the disk, µm.")
    fraction: float = Field(
        0.5, gt=0, le=1, description="Fraction of the viable osteocytes under the disk that die (as from "
        "microdamage, Verborgt et al. 2000 JBMR 15:60).")


class OsteocyteConfig(_Section):
    density_per_mm3: float = Field(
        0.0, ge=0, le=1e6,
        description="Osteocytes per mm³ of bone beneath the surface: ≈ 13,000-26,000 in human bone (Mullender et "
        "al. 1996). 0: no osteocytes (a culture on a dead slice).")
    reach_depth_um: float = Field(
        50.0, gt=0, le=1000,
        description="Depth of the bone layer whose osteocytes signal to the surface above, µm (dendrites reach "
        "the surface from the first few lacunae; calibrated).")
    rankl_per_cell_h: float = Field(
        100.0, ge=0, le=1e7,
        description="Soluble RANKL a viable osteocyte sheds at rest, molecules/h (osteocytes are the main RANKL "
        "source in remodeling, Nakashima et al. 2011 Nat Med 17:1231; Xiong et al. 2011 Nat Med 17:1235). "
        "Calibrated.")
    rankl_apoptosis_signal_per_cell_h: float = Field(
        5000.0, ge=0, le=1e8,
        description="The most RANKL a viable osteocyte adds when apoptotic osteocytes lie near it, molecules/h: "
        "viable neighbours of dying osteocytes signal for resorption (Kennedy et al. 2012 Bone 50:1115). "
        "Calibrated.")
    apoptosis_signal_half_cells: float = Field(
        0.01, gt=0,
        description="Apoptotic osteocytes per site (smoothed over the signal's range) for half that added RANKL. "
        "Calibrated.")
    apoptosis_signal_days: float | None = Field(
        40.0, gt=0, le=1e4,
        description="How long apoptotic osteocytes signal after they die, days; then they are empty lacunae and "
        "their neighbours' RANKL returns to rest (null: until the osteoclasts resorb them). The dying cells "
        "release ATP through pannexin-1 channels that caspases open, and the P2X7 receptors of their viable "
        "neighbours answer with RANKL (Cheung et al. 2016 JBMR 31:890); in fatigued bone the apoptosis and the "
        "RANKL around it are seen within days and resorption by about two weeks (Verborgt et al. 2000 JBMR "
        "15:60; Kennedy et al. 2012 Bone 50:1115). Calibrated against the 30-45 days of cancellous resorption "
        "(Eriksen 1986 Endocr Rev 7:379).")
    apoptosis_signal_range_um: float = Field(
        100.0, ge=0, le=1e4,
        description="Reach of the apoptotic osteocytes' signal, µm (the standard deviation of a Gaussian; viable "
        "osteocytes expressing RANKL lie within a few hundred µm of microcracks, Kennedy 2012; calibrated).")
    sclerostin_per_cell_h: float = Field(
        13000.0, ge=0, le=1e7,
        description="Sclerostin a viable osteocyte secretes without PTH at habitual load (1,000 µε), molecules/h "
        "(0: a Sost knockout); PTH lowers it (`sclerostin_pth_half_nM`), to 11,300 at serum PTH, and strain "
        "above habitual lowers it, disuse raises it (`strain_microstrain`). Calibrated: in `bmu` it holds ≈ 0.45 "
        "nM at the working osteoblast-lineage cells (seed 1, days 10-30), against ≈ 0.6 nM Wnt there, so that a "
        "Sost knockout makes more bone (Li X et al. 2008 JBMR 23:860: Sost⁻/⁻ mice have high bone mass with more "
        "formation).")
    opg_per_cell_h: float = Field(
        100.0, ge=0, le=1e7,
        description="OPG dimers a viable osteocyte secretes, molecules/h (osteocytes supply OPG too; calibrated).")
    wnt_per_cell_h: float = Field(
        23000.0, ge=0, le=1e7,
        description="Canonical Wnt a viable osteocyte secretes into the fluid over it, molecules/h (0: an "
        "osteocyte Wnt1 deletion): osteocytes make Wnt1, and deleting it from them lowers bone formation and bone "
        "mass (Joeng et al. 2017 J Clin Invest 127:2678). Calibrated: ≈ 1.2 nM under a canopy (closed to the "
        "marrow) at 20,000 osteocytes per mm³, half that where half of them died, against the osteoblast "
        "lineage's K_D of 0.5 nM, so that a BMU's cavity is refilled.")
    sclerostin_pth_half_nM: float = Field(
        0.02, gt=0, le=1e3,
        description="PTH at which osteocytes make half their sclerostin, nM: PTH through PTH1R on osteocytes "
        "represses Sost within hours (Keller & Kneissel 2005 Bone 37:148; Bellido et al. 2005 Endocrinology "
        "146:4577). The PTH is the blood's (`osteoblasts.signaling.pth_nM`): serum PTH (3 pM) lowers sclerostin "
        "by 13 %, a teriparatide peak (≈ 0.06 nM) by three quarters. Calibrated.")
    strain_microstrain: float = Field(
        HABITUAL_STRAIN_MICROSTRAIN, ge=0, le=1e4,
        description="Peak strain the bone's daily loading brings, µε: a few hundred to about 2,000 in the human "
        "tibia in walking and running (Burr et al. 1996 Bone 18:405); 1,000 is habitual use, 0 disuse (bed "
        "rest, hindlimb unloading), 3,000 heavy loading. Osteocytes read it and lower their Sost.")
    sclerostin_strain_half_microstrain: float = Field(
        1000.0, gt=0, le=1e5,
        description="Strain at which osteocytes make half their unloaded sclerostin, µε, so they make (K + 1,000)/(K + "
        "strain) of `sclerostin_per_cell_h`: loading lowers Sost and "
        "sclerostin in osteocytes, unloading raises them (Robling et al. 2008 J Biol Chem 283:5866; Lin et al. 2009 "
        "JBMR 24:1651; loaded bone forms more by less sclerostin, Tu et al. 2012 Bone 50:209). Calibrated: "
        "disuse doubles the habitual secretion and 3,000 µε halves it.")
    activations: list[ActivationConfig] = Field(
        [], description="Osteocyte apoptosis in a disk at a time: what starts a BMU there.")


class OsteoblastConfig(_Section):
    enabled: bool = Field(
        False, description="Whether the experiment has an osteoblast lineage: mesenchymal progenitors that TGF-β "
        "keeps dividing, commit by Osterix and lay down matrix by their collagen secretion.")
    initial_progenitors_per_mm2: float = Field(
        0.0, ge=0, le=1e5,
        description="Mesenchymal progenitors placed at random free sites at t = 0, per mm² of surface.")
    lining_cells_per_mm2: float = Field(
        0.0, ge=0, le=1e5,
        description="Lining cells placed at random free sites at t = 0, per mm²: flat osteoblast-lineage cells "
        "covering quiescent surface, their networks quiescent; they lift off where the canopy forms "
        "(`fields.canopy_margin_um`). One per site covers it (6,400 per mm² at 12.5 µm).")
    canopy_mcsf_per_cell_h: float = Field(
        2000.0, ge=0, le=1e8,
        description="M-CSF a canopy cell (a lining cell lifted over the remodeling compartment) secretes into its "
        "site, molecules/h: the osteoblast lineage is the M-CSF source osteoclasts need (op/op mice, whose Csf1 "
        "is mutated, lack osteoclasts: Yoshida et al. 1990 Nature 345:442). Calibrated.")
    division_rate_max_per_h: float = Field(
        0.03, ge=0, le=1,
        description="Division of an uncommitted progenitor at saturating SMAD2/3 signal, 1/h (a doubling in about "
        "a day while TGF-β lasts; calibrated).")
    division_smad_half_molecules: float = Field(
        2.0, gt=0,
        description="Nuclear phospho-SMAD2/3 per nucleus (role proliferation_signal) for half the maximal "
        "division rate: TGF-β1 released in resorption recruits progenitors and keeps them proliferating (Tang et "
        "al. 2009 Nat Med 15:757). Calibrated: 0.2 nM active TGF-β holds ≈ 4.")
    commitment_osterix_molecules: float = Field(
        10.0, gt=0,
        description="Osterix per nucleus (role commitment_marker) at which a progenitor commits to the osteoblast "
        "and stops dividing, for good (Osterix acts downstream of Runx2 and is required for osteoblasts, "
        "Nakashima et al. 2002 Cell 108:17). Calibrated: without TGF-β a progenitor reaches ≈ 13 within a day; "
        "0.2 nM TGF-β holds it near 8, where commitment is a rare fluctuation.")
    death_rate_max_per_h: float = Field(
        0.01, ge=0, le=1,
        description="Apoptosis without survival proteins, 1/h; it falls with the cell's Bcl-2 family proteins "
        "(role survival_signal) as K²/(K² + Bcl2²). Calibrated so that a mature osteoblast (≈ 45 per nucleus) "
        "lives about 3 months (Manolagas 2000 Endocr Rev 21:115).")
    death_bcl2_half_molecules: float = Field(
        10.0, gt=0,
        description="Bcl-2 family proteins per nucleus that halve the apoptosis rate (Hill 2; PTH and Wnt raise "
        "them, Jilka et al. 1999 J Clin Invest 104:439; Almeida et al. 2005 JBC 280:41342). Calibrated.")
    flattening_rate_max_per_h: float = Field(
        0.002, ge=0, le=10,
        description="Rate at which a committed osteoblast without Osterix flattens into a lining cell and quiesces, "
        "1/h; it falls as K⁴/(K⁴ + Osx⁴) with its Osterix per nucleus (Osterix drives its collagen, Nakashima et "
        "al. 2002; sclerostin from the osteocytes buried in new bone lowers it through Wnt). Calibrated.")
    lining_osterix_molecules: float = Field(
        3.0, gt=0,
        description="Osterix per nucleus (K) at which flattening runs at half its maximal rate. Calibrated: a "
        "matrix-making osteoblast with IGF-1 holds ≈ 14 (flattening ≈ 0.00004/h), without IGF-1 ≈ 7, with "
        "sclerostin and no IGF-1 ≈ 5.")
    burial_height_um: float = Field(
        20.0, gt=0, le=1000,
        description="An osteoblast whose neighbours' new matrix stands this much higher than its own (mean over its "
        "8 neighbouring sites) is buried in it and becomes an osteocyte: the height of a cuboidal osteoblast, 15-30 µm "
        "(those that slow their own secretion while their neighbours go on are embedded, Franz-Odendaal et al. "
        "2006 Dev Dyn 235:176; about 10-20 % of osteoblasts become osteocytes). Calibrated.")
    embedding_osteocytes_per_mm3: float = Field(
        20000.0, ge=0, le=1e6,
        description="Osteocytes per mm³ of the bone osteoblasts form: a matrix-making osteoblast is embedded as an "
        "osteocyte with probability 1 − exp(−matrix laid × this density) each tick, so new bone holds osteocytes "
        "at this density (the osteocytes already in the new matrix recruit the osteoblast above them once the "
        "matrix outgrows their reach: Marotti 1996 Ital J Anat Embryol 101:25; Franz-Odendaal et al. 2006 Dev Dyn "
        "235:176). Human bone holds ≈ 13,000-26,000 per mm³ (Mullender et al. 1996); about 10-20 % of "
        "osteoblasts become osteocytes (Manolagas 2000). 0: only burial by the neighbours' matrix.")
    canopy_descent_per_h: float = Field(
        0.05, ge=0, le=100,
        description="Rate at which canopy cells send a reversal cell (an uncommitted progenitor) down onto each free "
        "site of eroded surface beneath them that no osteoid has reached yet, at saturating active TGF-β1, 1/h; it "
        "follows the TGF-β receptors' occupancy as marrow recruitment does (`recruitment_tgfb_half_nM`). Canopy and "
        "reversal cells are one osteoprogenitor population, and the canopy is a main route by which the eroded "
        "surface is colonised (Kristensen et al. 2014 Am J Pathol 184:778; Andersen et al. 2009 Am J Pathol "
        "174:239); TGF-β1 draws progenitors to resorption sites (Tang et al. 2009). Calibrated. 0: the eroded "
        "surface gets only the progenitors TGF-β recruits from the marrow.")
    remnant_clearance_um3_per_cell_h: float = Field(
        2.0, ge=0, le=1e5,
        description="Demineralised collagen remnants an awake osteoblast-lineage cell on the surface (a reversal "
        "cell) digests per hour at its site, µm³/h: reversal cells clear the remnants the osteoclasts left in "
        "Howship's lacunae with matrix metalloproteinases before anything is laid on them (Everts et al. 2002 JBMR "
        "17:77; an MMP inhibitor stops it there). Calibrated. 0: an MMP-inhibited surface, which is never "
        "cleaned.")
    cement_um3_per_cell_h: float = Field(
        1.0, ge=0, le=1e5,
        description="Cement line a reversal cell lays per hour on the cleaned surface of its site, µm³/h: a thin, "
        "collagen-poor, osteopontin-rich layer on which osteoblasts then lay osteoid (Everts et al. 2002; "
        "Delaissé 2014 BoneKEy Rep 3:561). Calibrated.")
    cement_line_um: float = Field(
        1.0, ge=0, le=20,
        description="Thickness of a complete cement line, µm (cement lines are ≈ 1-5 µm, Skedros et al. 2005 Anat "
        "Rec 286A:781): an osteoblast lays osteoid only on a site whose every pixel carries it. 0: osteoblasts "
        "lay osteoid on any surface at once, with no reversal.")
    motility_um2_per_h: float = Field(
        100.0, ge=0, le=1e5,
        description="Random motility of uncommitted progenitors, µm²/h (calibrated); committed cells stay put.")
    marrow_progenitors_per_mm2: float = Field(
        0.0, ge=0, le=1e7,
        description="Mesenchymal progenitors in the marrow within reach of each mm² of surface: a count, not "
        "agents, recruited to free sites by active TGF-β1 (boneabm/cells/recruitment.py). Marrow holds about "
        "32 CFU-F per 10⁵ nucleated cells (Kuznetsov et al. 2009). 0: no recruitment.")
    recruitment_per_mm2_per_h: float = Field(
        0.0, ge=0, le=1e7,
        description="Arrivals per mm² of free surface per hour with TGF-β receptors saturated and the pool full: "
        "active TGF-β1 released in resorption recruits mesenchymal progenitors to the site through SMAD "
        "signaling (Tang et al. 2009 Nat Med 15:757). Calibrated.")
    recruitment_tgfb_half_nM: float = Field(
        0.1, gt=0, le=1e3,
        description="Active TGF-β1 at which recruitment is half-maximal, nM (2.5 ng/mL: progenitors migrate "
        "toward ng/mL TGF-β1; calibrated).")
    marrow_renewal_per_h: float = Field(
        0.05, ge=0, le=100,
        description="Rate at which the marrow pool refills toward its steady count, 1/h (calibrated).")
    osteoid_um3_per_collagen_secretion: float = Field(
        1.0, ge=0, le=1e3,
        description="Matrix laid down per procollagen secretion firing (role collagen_secretion), µm³. "
        "Calibrated: an osteoblast refilling a BMU, past the matrix's IGF-1 and with the osteocytes' "
        "sclerostin on it, fires ≈ 5.5 per hour, so one osteoblast per 12.5 µm site lays down ≈ 0.8 µm of "
        "matrix a day, near the cancellous mineral apposition rate (0.72 µm/d, Lips et al. 1978 Calcif Tissue Res "
        "26:13).")
    signaling: OsteoblastSignalingConfig = Field(
        OsteoblastSignalingConfig(), description="The osteoblast lineage's network, its inputs from outside the "
        "fields and its perturbations.")


class OutputConfig(_Section):
    format: Literal["csv", "parquet"] = Field(
        "csv", description="File format of the run's tables: csv (plain text, appended row by row, readable "
        "while the run goes) or parquet (columnar and compressed through pyarrow, categorical columns "
        "dictionary-encoded; readable once the run ends, fails or is interrupted). Column dtypes are the same "
        "in both (columns.csv).")


class Experiment(_Section):
    name: str = Field(
        "experiment", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100,
        description="Experiment name; default output goes to runs/<name>/.")
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED,
        description="Run seed; null draws a fresh one, which the saved config records.")
    time: TimeConfig = Field(TimeConfig(), description="Duration, tick and recording cadence.")
    domain: DomainConfig = Field(DomainConfig(), description="The simulated patch of culture surface.")
    medium: MediumConfig = Field(MediumConfig(), description="The culture medium and its change schedule.")
    precursors: PrecursorConfig = Field(
        PrecursorConfig(), description="Osteoclast precursors (bone-marrow macrophages): plating and M-CSF-"
        "driven survival, division and motility.")
    osteoclasts: OsteoclastConfig = Field(
        OsteoclastConfig(), description="Commitment, fusion, resorption and death of the osteoclast lineage.")
    signaling: SignalingConfig = Field(
        SignalingConfig(), description="The intracellular network every cell runs and its perturbations.")
    osteoblasts: OsteoblastConfig = Field(
        OsteoblastConfig(), description="The osteoblast lineage: progenitors, commitment, matrix and survival.")
    osteocytes: OsteocyteConfig = Field(
        OsteocyteConfig(), description="Osteocytes in the bone beneath the surface: RANKL, OPG and sclerostin, "
        "and the apoptosis that starts a BMU.")
    fields: FieldsConfig = Field(FieldsConfig(), description="M-CSF, RANKL and OPG as fields on the grid.")
    doses: list[DoseConfig] = Field([], description="Drugs added on a schedule.")
    bone: BoneConfig = Field(BoneConfig(), description="The resorbable bone slice under the cells.")
    output: OutputConfig = Field(OutputConfig(), description="How the run's tables are written.")

    @model_validator(mode="after")
    def _plating_fits(self) -> Experiment:
        density = self.precursors.plating_density_per_cm2
        if density > self.domain.max_density_per_cm2:
            raise ValueError(
                f"precursors.plating_density_per_cm2 = {density!r} exceeds the grid's capacity of "
                f"{self.domain.max_density_per_cm2:.4g} cells/cm² (one cell per "
                f"{self.domain.grid_spacing_um:g} µm site)")
        return self

    @model_validator(mode="after")
    def _times_on_ticks(self) -> Experiment:
        """Medium changes, doses and perturbation windows fall on ticks: the model acts only there."""
        dt_h = self.time.dt_h
        times = [("medium.change_every_h", self.medium.change_every_h, 1)]
        for i, dose in enumerate(self.doses):
            times += [(f"doses[{i}].at_h", dose.at_h, 0), (f"doses[{i}].every_h", dose.every_h, 1),
                      (f"doses[{i}].stop_h", dose.stop_h, 1)]
        times += [(f"osteocytes.activations[{i}].at_h", a.at_h, 0)
                  for i, a in enumerate(self.osteocytes.activations)]
        for section, signaling in self.perturbed_networks():
            for family in ("knockouts", "inhibitors", "clamps", "pulses"):
                for i, window in enumerate(getattr(signaling, family)):
                    times += [(f"{section}.{family}[{i}].start_h", window.start_h, 0),
                              (f"{section}.{family}[{i}].stop_h", window.stop_h, 1)]
        problems = [_tick_problem(key, value, dt_h, least) for key, value, least in times]
        if any(problems):
            raise ValueError("\n  ".join(p for p in problems if p))
        return self

    @model_validator(mode="after")
    def _schedules_inside_the_run(self) -> Experiment:
        """A dose or a perturbation that would start at or after the run's end never acts: a mistake in the
        times or units, refused rather than silently ignored."""
        end_h = self.time.duration_h
        starts = [(f"doses[{i}].at_h", dose.at_h) for i, dose in enumerate(self.doses)]
        starts += [(f"osteocytes.activations[{i}].at_h", a.at_h) for i, a in enumerate(self.osteocytes.activations)]
        for section, signaling in self.perturbed_networks():
            for family in ("knockouts", "inhibitors", "clamps", "pulses"):
                starts += [(f"{section}.{family}[{i}].start_h", window.start_h)
                           for i, window in enumerate(getattr(signaling, family))]
        late = [f"{key} = {value!r}: at or after the run's end (time.duration_h = {end_h!r}), so it would never "
                f"act; start it before {end_h!r} h or lengthen the run" for key, value in starts if value >= end_h]
        if late:
            raise ValueError("\n  ".join(late))
        return self

    @model_validator(mode="after")
    def _layer_under_the_medium(self) -> Experiment:
        medium_height_um = self.medium.volume_ul_per_cm2 * 10  # 1 µL/cm² stands 10 µm high
        if self.fields.mode == "culture" and self.fields.layer_height_um >= medium_height_um:
            raise ValueError(
                f"fields.layer_height_um = {self.fields.layer_height_um!r} must be below the medium's height "
                f"({medium_height_um:g} µm from medium.volume_ul_per_cm2 = {self.medium.volume_ul_per_cm2!r})")
        return self

    @model_validator(mode="after")
    def _activations_on_osteocytes(self) -> Experiment:
        """An activation kills osteocytes at a place on the surface: there must be osteocytes, and the place."""
        problems = []
        width, height = self.domain.width_um, self.domain.height_um
        for i, a in enumerate(self.osteocytes.activations):
            key = f"osteocytes.activations[{i}]"
            if self.osteocytes.density_per_mm3 == 0:
                problems.append(f"{key}: osteocytes.density_per_mm3 = 0, so there are no osteocytes to die; set "
                                "a density (human bone: 13,000-26,000 per mm³)")
            if not (a.x_um <= width and a.y_um <= height):
                problems.append(f"{key}: centre ({a.x_um!r}, {a.y_um!r}) µm lies outside the domain "
                                f"({width!r} × {height!r} µm)")
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    @model_validator(mode="after")
    def _marrow_only_in_tissue(self) -> Experiment:
        if self.fields.mode == "culture" and self.fields.canopy_margin_um is not None:
            raise ValueError(f"fields.canopy_margin_um = {self.fields.canopy_margin_um!r} needs fields.mode = "
                             "'tissue' (a culture has no marrow for a canopy to close off)")
        if self.fields.mode == "culture" and self.fields.marrow_exchange_um_per_h:
            raise ValueError(f"fields.marrow_exchange_um_per_h = {self.fields.marrow_exchange_um_per_h!r} needs "
                             "fields.mode = 'tissue' (a culture exchanges with its medium: "
                             "fields.medium_exchange_um_per_h)")
        return self

    @model_validator(mode="after")
    def _egress_returns_to_a_pool(self) -> Experiment:
        if self.precursors.egress_rate_max_per_h > 0 and self.precursors.marrow_pool_per_mm2 <= 0:
            raise ValueError(f"precursors.egress_rate_max_per_h = {self.precursors.egress_rate_max_per_h!r} needs "
                             "precursors.marrow_pool_per_mm2 > 0: the marrow pool is where leaving precursors go")
        return self

    @model_validator(mode="after")
    def _tissue_has_no_medium_changes(self) -> Experiment:
        if self.fields.mode == "tissue" and self.medium.change_every_h is not None:
            raise ValueError("medium.change_every_h must be null in fields.mode = 'tissue' (there is no medium "
                             f"to change; got {self.medium.change_every_h!r}); the medium's concentrations are "
                             "the tissue's initial ones")
        return self

    def perturbed_networks(self) -> list[tuple[str, _NetworkPerturbations]]:
        """Each lineage's signaling section, by its key: the osteoclast lineage's, and the osteoblast lineage's if
        the experiment has one."""
        sections = [("signaling", self.signaling)]
        if self.osteoblasts.enabled:
            sections.append(("osteoblasts.signaling", self.osteoblasts.signaling))
        return sections

    @property
    def n_plated(self) -> int:
        return round(self.precursors.plating_density_per_cm2 * self.domain.area_cm2)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


# ----------------------------------------------------------------------------------------------------------
# Loading


def validate(data: dict[str, Any], source: str = "config") -> Experiment:
    """Validate a raw mapping into an ``Experiment``; every problem is reported at once as a ``UserError``."""
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc.errors(include_url=False), Experiment)
        raise UserError(f"{source}: invalid experiment:\n  " + "\n  ".join(lines)) from None
    lines = _check_signaling(experiment.signaling)
    if experiment.osteoblasts.enabled:
        lines += _check_network_section(experiment.osteoblasts.signaling, "osteoblasts.signaling", "osteoblast")
    if lines:
        raise UserError(f"{source}: invalid experiment:\n  " + "\n  ".join(lines))
    return experiment


def _perturbation_problems(network, signaling: _NetworkPerturbations, section: str) -> list[str]:
    """The names a signaling section's perturbations give that its network does not have."""
    lines = []
    checks = [(f"knockouts[{i}].gene", k.gene, network.resolve_gene) for i, k in enumerate(signaling.knockouts)]
    checks += [(f"inhibitors[{i}].target", x.target, network.resolve_inhibitor)
               for i, x in enumerate(signaling.inhibitors)]
    checks += [(f"clamps[{i}].species", c.species, network.resolve_gene) for i, c in enumerate(signaling.clamps)]
    checks += [(f"pulses[{i}].species", p.species, network.resolve_gene) for i, p in enumerate(signaling.pulses)]
    for key, value, resolve in checks:
        try:
            resolve(value)
        except UserError as exc:
            lines.append(f"{section}.{key} = {value!r}: {str(exc).split(': ', 1)[1]}")
    return lines


def _check_network_section(signaling: _NetworkPerturbations, section: str, lineage: str) -> list[str]:
    """A lineage's signaling section: its network loads, names what it perturbs, and gives the lineage's
    contract what it reads."""
    from boneabm.cells.contract import ContractError, bind
    from boneabm.cells.contracts import CONTRACTS
    from boneabm.signaling.network import load_network

    try:
        network = load_network(signaling.network)
    except UserError as exc:
        return [f"{section}.network = {signaling.network!r}: {exc}"]
    lines = _perturbation_problems(network, signaling, section)
    try:
        bind(network, CONTRACTS[lineage])
    except ContractError as exc:
        lines.append(f"{section}.network = {signaling.network!r}: {exc}")
    return lines


def _check_signaling(signaling: SignalingConfig) -> list[str]:
    """Names in the signaling section must exist in its network: checked before any work starts."""
    from boneabm.signaling.network import load_network

    try:
        network = load_network(signaling.network)
    except UserError as exc:
        return [f"signaling.network = {signaling.network!r}: {exc}"]
    lines = _perturbation_problems(network, signaling, "signaling")
    from boneabm.columns import expand
    from boneabm.signaling.network import with_outputs

    try:
        network = with_outputs(network, signaling.observables, signaling.counters)
        for table in ("cells", "timeseries"):
            expand(table, network.spec.observables, network.spec.counters)
    except (UserError, ValueError) as exc:
        lines.append(f"signaling.observables / signaling.counters = "
                     f"{ {**signaling.observables, **signaling.counters}!r}: {str(exc).split(': ', 1)[-1]}")
    from boneabm.cells.contract import ContractError, bind
    from boneabm.cells.osteoclast.contract import CONTRACT

    try:
        bind(network, CONTRACT)
    except ContractError as exc:
        lines.append(f"signaling.network = {signaling.network!r}: {exc}")
    return lines


def load_experiment(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
) -> Experiment:
    """Load an experiment from a YAML file (or a mapping), apply overrides and validate it.

    The experiment's name defaults to the file's stem.
    """
    if path is not None:
        data = read_yaml(path)
        if "name" not in data:
            data["name"] = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(path).stem) or "experiment"
    source = str(path) if path is not None else "config"
    data = apply_overrides(data or {}, overrides)
    if path is not None:
        data = _network_beside(data, Path(path).parent)
    return validate(data, source)


def _network_beside(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A network file named relative to the experiment file is found beside it (and saved as an absolute path)."""
    from boneabm.signaling.network import builtin_networks

    signaling = data.get("signaling")
    network = signaling.get("network") if isinstance(signaling, dict) else None
    if isinstance(network, str) and network not in builtin_networks() and not Path(network).is_absolute():
        if (folder / network).is_file():
            data = {**data, "signaling": {**signaling, "network": str((folder / network).resolve())}}
    return data


def with_seed(experiment: Experiment, seed: int | None = None) -> Experiment:
    """The experiment with its seed fixed: ``seed`` if given, else its own, else a freshly drawn one."""
    if seed is not None:
        return validate({**experiment.to_dict(), "seed": seed}, "--seed")
    if experiment.seed is not None:
        return experiment
    return experiment.model_copy(update={"seed": secrets.randbelow(2**62)})
