"""The remodeling checks of docs/validation.md (Check 14): one cancellous BMU of the shipped `bmu` experiment,
activation to quiescence, read from its runs' tables as a histomorphometrist reads a biopsy. `boneabm report
--remodeling` runs the `bmu_cycle` panel (wild type, TβRI blocked, Sost knockout) and adds these checks;
benchmarks/bmu_cycle.py prints the same figures from a model it steps itself.

Readouts: resorption lasts from the activation to the last tick bone was removed in the BMU's region; formation
from the first matrix to 90 % of all the matrix laid (a few osteoblasts work on for months, so its last tick
says little); reversal is ``bmus.csv``'s ``reversal_h``; MAR is the median of the daily MAR over formation (from
10 days after the first matrix, when the first labels can be read); the cutting cone is the days from 5 to the end
of resorption.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from boneabm.cells.osteoblast.fates import fate_shares
from boneabm.environment.histomorphometry import RESORBED_DEPTH_UM
from boneabm.validation import Check

PANEL = "bmu_cycle"
REDUCED = ("domain.width_um=1000", "domain.height_um=1000")  # --quick: the activated disk and its margin
HOURS_PER_DAY = 24.0
DOC = "docs/validation.md#check-14-in-vivo-bmu"


# figure -> (what it is, the published value, the band a check accepts)
BANDS = {
    "resorption_days": ("resorption, activation to its end (d)", "15-45 (Eriksen 1986)", (15, 45)),
    "erosion_depth_um": ("erosion depth (µm)", "40-60, 30-80 (Eriksen 1986)", (30, 80)),
    "reversal_days": ("reversal at a site, median (d)", "days to weeks, 5-45 (Eriksen 1986; Andersen 2013)",
                      (5, 45)),
    "formation_days": ("formation, first matrix to 90 % of it (d)", "60-150 (Eriksen 1986)", (60, 150)),
    "wall_thickness_um": ("wall thickness (µm)", "50-60, 40-70 (Lips 1978)", (40, 70)),
    "refilled": ("refilled, formed / resorbed", "0.95-1.05 (Eriksen 1990)", (0.95, 1.05)),
    "mar_um_per_d": ("MAR, median over formation (µm/d)", "0.6-1.2, 0.4-1.5 (Lips 1978)", (0.4, 1.5)),
    "osteoid_seam_um": ("osteoid seam, thickest (µm)", "≤ 12.5", (0.0, 12.5)),
    "osteoclasts_at_once": ("osteoclasts at once, median while resorbing", "5-15 (Parfitt 1994)", (5, 15)),
    "nuclear_renewal_per_d": ("osteoclast nuclei renewed per day", "0.08, 0.04-0.12 (Parfitt 1994)", (0.04, 0.12)),
    "fate_apoptosis": ("osteoblasts ending by apoptosis", "0.5-0.7 (Manolagas 2000)", (0.5, 0.7)),
    "fate_osteocyte": ("osteoblasts ending as osteocytes", "0.1-0.2 (Manolagas 2000)", (0.1, 0.2)),
}


def within(f: dict[str, float], *keys: str) -> bool:
    """Whether each figure of ``keys`` lies in its band."""
    return all(BANDS[key][2][0] <= f[key] <= BANDS[key][2][1] for key in keys)


def nuclei_joining_osteoclasts(time_h: Sequence[float], event: Sequence[str], cell: Sequence[int],
                               partner: Sequence, nuclei: Sequence[int], min_nuclei: int) -> np.ndarray:
    """(day, nuclei) of each fusion that left a cell with ≥ ``min_nuclei``: the nuclei it brought into osteoclasts
    for the first time (the new nuclei Parfitt's labelling counted; two osteoclasts that fuse renew none, nor does
    an osteoclast that shed nuclei below ``min_nuclei`` and fused back above it). Read from the events: each cell
    holds some nuclei that have never been in an osteoclast — one until its first fusion, then its partners' such
    nuclei, none once it is an osteoclast, and no more than an extrusion leaves it."""
    fresh, joined = {}, []  # cell -> its nuclei that have never been in an osteoclast
    for t, kind, survivor, absorbed, total in zip(time_h, event, cell, partner, nuclei):
        if kind == "extrusion":  # the nuclei it kept
            fresh[int(survivor)] = min(fresh.get(int(survivor), 1), int(total))
        if kind != "fusion":
            continue
        new = fresh.get(int(survivor), 1) + fresh.pop(int(absorbed), 1)
        if total >= min_nuclei:
            joined.append((t / HOURS_PER_DAY, new))
            new = 0
        fresh[int(survivor)] = new
    return np.array(joined, dtype=float).reshape(-1, 2)


def nuclei_dying_with_their_cell(events) -> int:
    """The nuclei that died with a whole multinucleated osteoclast-lineage cell, from events as ``Lineage.record``
    gives them (those extruded alone are the lineage's ``nuclei_extruded_total``)."""
    return sum(e[4] for e in events if e[1] == "death" and e[-1] == "osteoclast" and e[4] > 1)


def cutting_cone(day: np.ndarray, resorption_days: float) -> np.ndarray:
    """Which of the days lie in the cutting cone: from day 5 (the first osteoclasts are formed) to the end of
    resorption."""
    return (day >= 5) & (day <= resorption_days)


def nuclear_renewal(day: np.ndarray, nuclei_in_osteoclasts: np.ndarray, joined: np.ndarray,
                    resorption_days: float) -> tuple[float, float]:
    """Osteoclast nuclei renewed per day over the cutting cone, as Parfitt 1994 reads it (the nuclei that joined
    osteoclasts, ``nuclei_joining_osteoclasts``, over the nuclei-days osteoclasts held, from counts at each
    ``day``), and how many nuclei joined (the count the figure's spread follows)."""
    interval_days = np.diff(day, prepend=0.0)
    nuclei_days = float((nuclei_in_osteoclasts * interval_days)[cutting_cone(day, resorption_days)].sum())
    joining = joined[cutting_cone(joined[:, 0], resorption_days), 1].sum()
    return (joining / nuclei_days if nuclei_days else np.nan), float(joining)


DEEP_UM = 80.0  # the top of the published erosion depth's tolerance (Eriksen 1986): a cavity floor's pixels
# deeper than this are pits no cancellous BMU digs


def cavity_floor(mineral_depth_um: np.ndarray) -> dict[str, float]:
    """How even the cavity's floor is, from the resorbed-depth map: the eroded pixels' depth at the 10th, 50th and
    90th percentiles (µm) and the share of the resorbed volume deeper than ``DEEP_UM`` (a mean erosion depth in
    the published band can hide a few deep shafts)."""
    depth = mineral_depth_um[mineral_depth_um > RESORBED_DEPTH_UM]
    if not depth.size:
        return {"depth_p10_um": np.nan, "depth_p50_um": np.nan, "depth_p90_um": np.nan, "volume_deeper_share": np.nan}
    p10, p50, p90 = np.percentile(depth, [10, 50, 90])
    return {"depth_p10_um": float(p10), "depth_p50_um": float(p50), "depth_p90_um": float(p90),
            "volume_deeper_share": float(depth[depth > DEEP_UM].sum() / depth.sum())}


def figures(timeseries: pd.DataFrame, bmu: dict, joined: np.ndarray) -> dict[str, float]:
    """The BMU's figures from its ``timeseries`` (time_h, n_osteoclasts, nuclei_in_osteoclasts, mar_um_per_d,
    o_th_um, matrix_formed_um3 and the fate counters), its ``bmus.csv`` row and the nuclei joining osteoclasts
    (``nuclei_joining_osteoclasts``)."""
    day = timeseries["time_h"].to_numpy() / HOURS_PER_DAY
    formed = timeseries["matrix_formed_um3"].to_numpy()
    mar = timeseries["mar_um_per_d"].to_numpy()
    resorption_days = (bmu["resorption_end_h"] - bmu["activated_h"]) / HOURS_PER_DAY
    forming = formed > 0
    first = day[forming][0] if forming.any() else np.nan
    formation_days = day[formed >= 0.9 * formed[-1]][0] - first if forming.any() else np.nan
    cutting = cutting_cone(day, resorption_days)
    last = timeseries.iloc[-1]
    ended = (last["osteoblast_apoptoses_total"], last["osteocytes_embedded_total"], last["osteoblasts_flattened_total"])
    readable = mar[(day > first + 10) & (mar > 0)] if forming.any() else np.zeros(0)
    return {
        "resorption_days": resorption_days, "erosion_depth_um": bmu["erosion_depth_um"],
        "reversal_days": bmu["reversal_h"] / HOURS_PER_DAY,
        "formation_days": formation_days, "wall_thickness_um": bmu["wall_thickness_um"],
        "refilled": bmu["formed_um3"] / bmu["resorbed_um3"] if bmu["resorbed_um3"] else np.nan,
        "mar_um_per_d": float(np.median(readable)) if readable.size else np.nan,
        "osteoid_seam_um": float(np.nanmax(timeseries["o_th_um"])) if timeseries["o_th_um"].notna().any() else 0.0,
        "osteoclasts_at_once": float(np.median(timeseries["n_osteoclasts"].to_numpy()[cutting])) if cutting.any()
        else np.nan,
        "nuclear_renewal_per_d": nuclear_renewal(day, timeseries["nuclei_in_osteoclasts"].to_numpy(), joined,
                                                 resorption_days)[0],
        **{f"fate_{fate}": share for fate, share in fate_shares(*ended).items()},
        "osteoblasts_ended": sum(ended),
    }


def run_figures(run) -> dict[str, float]:
    """``figures`` of a finished run of the `bmu` experiment (its first BMU)."""
    events = run.events
    joined = nuclei_joining_osteoclasts(events["time_h"], events["event"], events["cell_id"], events["partner_id"],
                                        events["nuclei"], run.config["osteoclasts"]["min_nuclei"])
    return figures(run.timeseries, run.bmus.iloc[0].to_dict(), joined)


def _arm(v, arm: str):
    run = v.runs(PANEL, arm)[0]
    return run, run_figures(run)


def _series(run, columns: dict[str, str], ylabel: str, log: bool = False):
    def draw(ax):
        days = run.timeseries["time_h"] / HOURS_PER_DAY
        for column, label in columns.items():
            ax.plot(days, run.timeseries[column], label=label)
        ax.set(xlabel="day", ylabel=ylabel, yscale="log" if log else "linear")
        ax.legend(fontsize=7)
    return draw


def _banded(key: str, title: str, source: str, f: dict[str, float], keys: tuple[str, ...], measured: str,
            figure) -> Check:
    """A check that every figure of ``keys`` lies in its band (``BANDS``), which its expected text lists."""
    expected = "; ".join(f"{BANDS[k][0]}: {BANDS[k][1]}" for k in keys)
    return Check(key, title, f"{source}; {DOC}", expected, measured, within(f, *keys), figure)


def check_bmu_resorption(v) -> Check:
    run, f = _arm(v, "wild_type")
    return _banded("bmu_resorption", "R1: a BMU's resorption ends, at the published depth",
                   "Eriksen 1986; Agerbaek 1991",
                   f, ("resorption_days", "erosion_depth_um"),
                   f"resorption {f['resorption_days']:.0f} d; erosion {f['erosion_depth_um']:.1f} µm",
                   _series(run, {"resorbed_volume_um3": "resorbed", "matrix_formed_um3": "formed"}, "µm³"))


def check_bmu_reversal(v) -> Check:
    run, f = _arm(v, "wild_type")

    def draw(ax):
        bone = run.bone
        rebuilt = bone[(bone["mineral_depth_um"] > RESORBED_DEPTH_UM) & bone["formed_h"].notna()]
        ax.hist((rebuilt["formed_h"] - rebuilt["resorbed_h"]) / HOURS_PER_DAY, bins=40)
        ax.set(xlabel="days from a pixel's last resorption to its first osteoid (whole slice)",
               ylabel="rebuilt eroded pixels")
    return _banded("bmu_reversal", "Reversal: reversal cells clear and cement the eroded surface before osteoid",
                   "Everts et al. 2002 JBMR 17:77; Delaissé 2014", f, ("reversal_days",),
                   f"reversal {f['reversal_days']:.1f} d (median over the rebuilt eroded pixels)", draw)


def check_bmu_formation(v) -> Check:
    run, f = _arm(v, "wild_type")
    return _banded("bmu_formation", "R1, R2: formation refills the cavity at the published rate",
                   "Lips 1978; Kragstrup 1983; Agerbaek 1991", f,
                   ("formation_days", "wall_thickness_um", "mar_um_per_d", "osteoid_seam_um"),
                   f"formation {f['formation_days']:.0f} d (first matrix to 90 %); wall {f['wall_thickness_um']:.1f} "
                   f"µm; MAR {f['mar_um_per_d']:.2f} µm/d; seam ≤ {f['osteoid_seam_um']:.1f} µm; "
                   f"{f['refilled']:.0%} of the resorbed volume refilled",
                   _series(run, {"mar_um_per_d": "MAR (µm/d)", "o_th_um": "O.Th (µm)"}, "µm/d, µm"))


def check_bmu_cutting_cone(v) -> Check:
    run, f = _arm(v, "wild_type")
    return _banded("bmu_cutting_cone", "R3: the cutting cone's osteoclasts and their nuclear renewal", "Parfitt 1994",
                   f, ("osteoclasts_at_once", "nuclear_renewal_per_d"),
                   f"{f['osteoclasts_at_once']:.0f} osteoclasts (median while resorbing); nuclei renewed "
                   f"{f['nuclear_renewal_per_d']:.1%}/d",
                   _series(run, {"n_osteoclasts": "osteoclasts", "n_osteoblasts": "osteoblasts"}, "cells", log=True))


def check_bmu_tbri(v) -> Check:
    wild_run, wild = _arm(v, "wild_type")
    blocked_run, blocked = _arm(v, "tbri_blocked")
    resorbed = blocked_run.bmus.iloc[0]["resorbed_um3"] / wild_run.bmus.iloc[0]["resorbed_um3"]
    passed = blocked["refilled"] < 0.5 and resorbed > 0.5
    return Check("bmu_tbri", "R6: blocking TβRI uncouples formation from resorption",
                 f"Tang et al. 2009 Nat Med 15:757; {DOC}",
                 "cavities < 50 % refilled while resorption proceeds (> half of wild type's)",
                 f"refilled {blocked['refilled']:.0%} (wild type {wild['refilled']:.0%}); resorbed {resorbed:.0%} of "
                 "wild type's", passed,
                 _series(blocked_run, {"resorbed_volume_um3": "resorbed", "matrix_formed_um3": "formed"}, "µm³"))


def fates_text(f: dict[str, float]) -> str:
    """How the osteoblasts ended, as counts and shares to two decimals: a share a hair outside its band (96 of
    963 osteocytes) must not print as the band's edge, as a rounded "10 %" would."""
    ended = f["osteoblasts_ended"]
    parts = (f"{f[f'fate_{fate}'] * ended:.0f} {label} ({f[f'fate_{fate}']:.2%})"
             for fate, label in (("apoptosis", "by apoptosis"), ("osteocyte", "osteocytes"),
                                 ("lining", "lining cells")))
    return ", ".join(parts) + f" of {ended:.0f} osteoblasts"


def check_bmu_fates(v) -> Check:
    run, f = _arm(v, "wild_type")
    return _banded("bmu_fates", "Osteoblasts end by apoptosis, as osteocytes or as lining cells",
                   "Manolagas 2000; Jilka 1998", f, ("fate_apoptosis", "fate_osteocyte"),
                   fates_text(f),
                   _series(run, {"osteoblast_apoptoses_total": "apoptosis", "osteocytes_embedded_total": "osteocytes",
                                 "osteoblasts_flattened_total": "lining cells"}, "osteoblasts ended"))


def check_bmu_sost(v) -> Check:
    wild_run, wild = _arm(v, "wild_type")
    knockout_run, knockout = _arm(v, "sost_knockout")
    passed = knockout["wall_thickness_um"] > 1.1 * wild["wall_thickness_um"]

    def draw(ax):
        for run, label in ((wild_run, "wild type"), (knockout_run, "Sost knockout")):
            ax.plot(run.timeseries["time_h"] / HOURS_PER_DAY, run.timeseries["matrix_formed_um3"], label=label)
        ax.set(xlabel="day", ylabel="matrix formed (µm³)")
        ax.legend(fontsize=7)
    return Check("bmu_sost", "A Sost knockout builds thicker walls",
                 f"Li X et al. 2008 JBMR 23:860; {DOC}",
                 "wall thicker than wild type's (> 1.1×)",
                 f"wall {knockout['wall_thickness_um']:.1f} µm against {wild['wall_thickness_um']:.1f} µm", passed,
                 draw)


CHECKS = [check_bmu_resorption, check_bmu_reversal, check_bmu_formation, check_bmu_cutting_cone, check_bmu_tbri,
          check_bmu_fates, check_bmu_sost]
