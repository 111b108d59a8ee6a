"""Sweep files and their expansion into runs.

    sweep: rankl_opg_dose_response      # name (default: the file's stem); output goes to runs/<name>/
    base: osteoclastogenesis            # the experiment every run starts from: a file relative to this
                                        # one, or a shipped example's name
    # from: runs/culture/checkpoints/checkpoint-000072.000h.npz
                                        # instead of base: every run forks from this state (settings that
                                        # cannot change mid-run are refused, as for boneabm fork)
    seed: 2026                          # optional: every run's seed derives from it; without it a fresh
                                        # one is drawn per sweep and recorded in its sweep.json
    replicates: 5
    set: ["domain.width_um=1500"]       # overrides every run shares
    grid:                               # every combination of these values ...
      medium.rankl_ng_ml: [0, 10, 25, 50, 100]
      medium.opg_ng_ml: [0, 100]
    sample:                             # ... times each of n points drawn over these ranges
      method: lhs                       # lhs | sobol | random  (scipy.stats.qmc)
      n: 16
      ranges:
        osteoclasts.fusion_rate_per_h: [0.5, 4]
        fields.rankl_opg_kd_nM: {low: 0.001, high: 0.01, scale: log}

A run is (grid point, sample point, replicate). Its seed is drawn by ``SeedSequence`` from the sweep's seed,
a stable hash of its varied values and its replicate number, so adding a grid value, a replicate or a worker
changes no other run. Its id spells the same things out (``rankl_ng_ml=10__opg_ng_ml=100__rep0``; sampled
points by their number, ``sample03__rep0``), so ids are readable and stable too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from boneabm.catalog import base_experiment
from boneabm.config import MAX_SEED, Experiment, load_experiment
from boneabm.errors import UserError, did_you_mean, validation_lines
from boneabm.resources import MAX_SWEEP_RUNS
from boneabm.yamlio import read_yaml

_DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class RangeSpec(_Spec):
    low: float = Field(description="Lower end of the range, in the key's own unit.")
    high: float = Field(description="Upper end of the range (above low).")
    scale: Literal["linear", "log"] = Field("linear", description="log spreads points evenly in log(value).")

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data):
        if isinstance(data, (list, tuple)):  # [low, high] is the short form
            if len(data) != 2:
                raise ValueError(f"expected [low, high] or {{low, high, scale}}, got {list(data)!r}")
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"low and high must be finite numbers, got [{self.low!r}, {self.high!r}]")
        if not self.low < self.high:
            raise ValueError(f"empty range: low = {self.low!r} must be below high = {self.high!r}")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got low = {self.low!r}")
        return self

    def scaled(self, unit: np.ndarray) -> np.ndarray:
        """Points in [0, 1) mapped onto the range."""
        if self.scale == "log":
            return np.exp(np.log(self.low) + unit * (np.log(self.high) - np.log(self.low)))
        return self.low + unit * (self.high - self.low)


class SampleSpec(_Spec):
    method: Literal["lhs", "sobol", "random"] = Field(
        "lhs", description="Latin hypercube, scrambled Sobol' points or independent uniform draws (scipy.stats.qmc).")
    n: int = Field(ge=1, le=100_000, description="Number of sampled points.")
    ranges: dict[str, RangeSpec] = Field(min_length=1, description="Dotted experiment key -> range.")

    @field_validator("ranges")
    @classmethod
    def _dotted(cls, ranges):
        for key in ranges:
            if not re.fullmatch(_DOTTED, key):
                raise ValueError(f"{key!r} is not a dotted experiment key like medium.rankl_ng_ml")
        return ranges


class SweepSpec(_Spec):
    sweep: str | None = Field(None, pattern=_NAME, max_length=100, description="Sweep name (default: file stem).")
    base: str | None = Field(None, description="Experiment every run starts from: a YAML file relative to the "
                             "sweep file, or a shipped example's name (osteoclastogenesis).")
    from_checkpoint: str | None = Field(None, alias="from", description="Instead of base: a checkpoint (relative "
                                        "to the sweep file) every run forks from, as boneabm fork does.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Sweep seed; every run's seed derives from it. "
                             "Without it each sweep draws a fresh one (recorded in its sweep.json).")
    replicates: int = Field(1, ge=1, le=10_000, description="Runs per parameter point, each with its own seed.")
    set: list[str] = Field([], description="dotted.key=value overrides every run shares (as boneabm run --set).")
    grid: dict[str, list[Any]] = Field({}, description="Dotted experiment key -> the values to try.")
    sample: SampleSpec | None = Field(None, description="Points sampled over ranges, combined with every grid point.")

    @field_validator("grid")
    @classmethod
    def _grid_values(cls, grid):
        for key, values in grid.items():
            if not re.fullmatch(_DOTTED, key):
                raise ValueError(f"{key!r} is not a dotted experiment key like medium.rankl_ng_ml")
            if not values:
                raise ValueError(f"{key}: empty list of values; give at least one")
            if len({json.dumps(v, sort_keys=True) for v in values}) < len(values):
                raise ValueError(f"{key}: a value is listed twice in {values!r}")
        return grid

    @model_validator(mode="after")
    def _one_start(self):
        if (self.base is None) == (self.from_checkpoint is None):
            raise ValueError("give base (an experiment) or from (a checkpoint), one of the two")
        return self

    @model_validator(mode="after")
    def _seed_and_name_are_the_sweeps(self):
        sampled = set(self.sample.ranges) if self.sample else set()
        fixed = {text.partition("=")[0].strip() for text in self.set}
        for key, where in (("seed", "a run's seed derives from the sweep's seed (seed: at the top of the file, or "
                            "--seed) and its replicate number; give replicates: N for N seeds per point"),
                           ("name", "every run is named after the sweep (sweep: at the top of the file)")):
            places = [place for place, keys in (("grid", self.grid), ("sample.ranges", sampled), ("set", fixed))
                      if key in keys]
            if places:
                raise ValueError(f"{key} in {' and '.join(places)}: not a key a sweep varies or sets; {where}")
        return self

    @model_validator(mode="after")
    def _each_key_varied_once(self):
        sampled = set(self.sample.ranges) if self.sample else set()
        both = sorted(set(self.grid) & sampled)
        if both:
            raise ValueError(f"{', '.join(both)}: both in grid and in sample.ranges; vary a key one way")
        fixed = {text.partition("=")[0].strip() for text in self.set}
        clash = sorted(fixed & (set(self.grid) | sampled))
        if clash:
            raise ValueError(f"{', '.join(clash)}: both fixed in set and varied; drop it from one")
        return self


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its place in the expansion, its seed and what it varies."""

    index: int
    run_id: str
    seed: int
    replicate: int
    values: dict[str, Any]  # dotted key -> value, in the sweep file's order (grid keys, then sampled keys)
    experiment: Experiment
    fork_from: dict | None = None  # a sweep ``from:`` a checkpoint: the fork's record (continuation.plan_fork)

    @property
    def config_sha256(self) -> str:
        return hashlib.sha256(self.experiment.to_yaml().encode()).hexdigest()


@dataclass(frozen=True)
class Sweep:
    name: str
    path: Path
    spec: SweepSpec
    runs: list[SweepRun]
    seed: int  # the sweep's seed: the file's, one given instead, or drawn fresh
    notes: tuple[str, ...] = ()  # what the expansion changed and the user should know (boneabm prints them)

    @property
    def varied(self) -> list[str]:
        return [*self.spec.grid, *(self.spec.sample.ranges if self.spec.sample else {})]

    def listing(self) -> pd.DataFrame:
        """The expansion: index, run_id, seed, replicate and the varied values (``--list``, ``runs.csv``)."""
        return pd.DataFrame([{"index": run.index, "run_id": run.run_id, "seed": run.seed, "replicate": run.replicate,
                              **{key: value_label(run.values[key]) for key in self.varied}} for run in self.runs])


def value_label(value: Any) -> Any:
    """A varied value as a table shows it: numbers as numbers, a gene list as ``Tyrobp+Fcer1g``."""
    if isinstance(value, list):
        return "+".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def _id_part(value: Any) -> str:
    label = value_label(value)
    if isinstance(label, bool) or label is None:
        label = json.dumps(label)
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", str(label))


def _short_keys(keys: list[str]) -> dict[str, str]:
    """Each key by its last component (``rankl_ng_ml``), or in full where two would read the same."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: (short if last.count(short) == 1 else key.replace(".", "_")) for key, short in zip(keys, last)}


def run_seed(sweep_seed: int, values: dict[str, Any], replicate: int) -> int:
    """A run's seed from the sweep's seed, its varied values (by a stable hash) and its replicate number."""
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":")).encode()).digest()
    sequence = np.random.SeedSequence(sweep_seed, spawn_key=(int.from_bytes(digest[:16], "little"), replicate))
    return int(sequence.generate_state(1, dtype=np.uint64)[0]) & MAX_SEED


def _sample_points(spec: SampleSpec, sweep_seed: int, base: dict[str, Any]) -> list[dict[str, Any]]:
    """The sampled points, drawn from the sweep's seed alone (a grid change leaves them as they were), to 6
    significant digits; a key whose base value is an integer gets integers."""
    from scipy.stats import qmc  # a second to import: only sweeps that sample pay it

    dimensions = len(spec.ranges)
    rng = np.random.default_rng(np.random.SeedSequence(sweep_seed, spawn_key=(0x5A3B1E,)))
    if spec.method == "lhs":
        unit = qmc.LatinHypercube(d=dimensions, rng=rng).random(spec.n)
    elif spec.method == "sobol":
        unit = qmc.Sobol(d=dimensions, rng=rng).random(spec.n)
    else:
        unit = rng.random((spec.n, dimensions))
    columns = {}
    for j, (key, value_range) in enumerate(spec.ranges.items()):
        values = value_range.scaled(unit[:, j])
        if isinstance(_lookup(base, key), int):
            columns[key] = [int(round(v)) for v in values]
        else:
            columns[key] = [float(f"{v:.6g}") for v in values]  # 6 digits: a config a person can read
    return [{key: columns[key][i] for key in spec.ranges} for i in range(spec.n)]


def _lookup(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _override(key: str, value: Any) -> str:
    return f"{key}={json.dumps(value)}"  # JSON is YAML: floats round-trip exactly, lists stay lists


def _invalid(path: Path, lines: list[str]) -> UserError:
    return UserError(f"{path}: invalid sweep:\n  " + "\n  ".join(lines))


def draw_seed() -> int:
    """A fresh sweep seed, as a run without a seed draws one."""
    return secrets.randbelow(2**62)


def read_sweep(path: str | Path) -> tuple[SweepSpec, str]:
    """Read and validate a sweep file without expanding it: its spec and its name."""
    path = Path(path)
    raw = read_yaml(path)
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(path, validation_lines(exc.errors(include_url=False), SweepSpec)) from None
    return spec, spec.sweep or re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)


def _distinct_points(samples: list[dict[str, Any]]) -> tuple[list[tuple[int, dict[str, Any]]], tuple[str, ...]]:
    """The sampled points by number, each set of values once: a point that is an earlier one's values once
    rounded (an integer key takes whole numbers, others 6 digits) would be the same run twice under two ids, so
    it is left out (keeping the others' numbers, so ids stay stable) and a note says so."""
    seen: dict[str, int] = {}
    kept, dropped = [], []
    for k, point in enumerate(samples):
        text = json.dumps(point, sort_keys=True)
        if text in seen:
            dropped.append(f"{k} (= {seen[text]})")
            continue
        seen[text] = k
        kept.append((k, point))
    if not dropped:
        return kept, ()
    return kept, (f"sample: points {', '.join(dropped)} repeat earlier points once rounded (integer keys take "
                  f"whole numbers, others 6 digits) and are run once: {len(kept)} distinct points of {len(samples)}; "
                  "list an integer key's values in grid to choose them",)


def load_sweep(path: str | Path, seed: int | None = None, max_runs: float = MAX_SWEEP_RUNS) -> Sweep:
    """Read, validate and expand a sweep file; every run's experiment is validated before anything runs.

    The sweep's seed is ``seed`` if given, else the file's ``seed:``, else a freshly drawn one (``Sweep.seed``).
    A sweep of more than ``max_runs`` runs is refused before it is expanded (``--force`` lifts the limit)."""
    path = Path(path)
    spec, name = read_sweep(path)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed {seed}: give a whole number from 0 to {MAX_SEED}")
    seed = seed if seed is not None else spec.seed if spec.seed is not None else draw_seed()
    if spec.from_checkpoint is not None:
        from boneabm import state
        from boneabm.continuation import plan_fork

        checkpoint = (path.parent / spec.from_checkpoint).resolve()
        try:
            saved = state.load(checkpoint)
            base = plan_fork(checkpoint, spec.set, seed=0, saved=saved)[1]
        except UserError as exc:
            raise _invalid(path, [f"from = {spec.from_checkpoint!r} with set: {exc}"]) from None

        def make(overrides: list[str], seed: int) -> tuple[Experiment, dict | None]:
            _, experiment, record = plan_fork(checkpoint, [*overrides, f"name={name}"], seed, saved)
            return experiment, record
    else:
        try:
            base_path = base_experiment(path.parent, spec.base)
            base = load_experiment(base_path, spec.set)
        except UserError as exc:
            raise _invalid(path, [f"base = {spec.base!r} with set: {exc}"]) from None

        def make(overrides: list[str], seed: int) -> tuple[Experiment, dict | None]:
            return load_experiment(base_path, [*overrides, f"seed={seed}", f"name={name}"]), None
    base_dict = base.to_dict()
    for key in [*spec.grid, *(spec.sample.ranges if spec.sample else {})]:
        problem = _key_problem(base_dict, key)
        if problem:
            raise _invalid(path, [problem])

    n_runs = math.prod(len(values) for values in spec.grid.values()) * (spec.sample.n if spec.sample else 1) \
        * spec.replicates
    if n_runs > max_runs:
        raise _invalid(path, [f"{n_runs:,} runs (grid values x sample.n x replicates), more than the {max_runs:,} a "
                              f"sweep may have; give --force to expand and run them all (each run's experiment "
                              "is checked before any starts)"])
    grid_points = [dict(zip(spec.grid, combo)) for combo in itertools.product(*spec.grid.values())]
    samples, notes = (_distinct_points(_sample_points(spec.sample, seed, base_dict)) if spec.sample
                      else ([(0, None)], ()))
    short = _short_keys(list(spec.grid))
    width = len(str(spec.sample.n - 1)) if spec.sample else 1
    runs, seen = [], {}
    for point in grid_points:
        for k, sampled in samples:
            values = {**point, **(sampled or {})}
            stem = [f"{short[key]}={_id_part(value)}" for key, value in point.items()]
            if sampled is not None:
                stem.append(f"sample{k:0{width}d}")
            for replicate in range(spec.replicates):
                run_id = "__".join([*stem, f"rep{replicate}"])
                if run_id in seen:
                    raise _invalid(path, [f"grid values {seen[run_id]} and {values} both give run id {run_id!r}; "
                                          "make them differ in how they print"])
                seen[run_id] = values
                this_seed = run_seed(seed, values, replicate)
                overrides = [*spec.set, *(_override(key, value) for key, value in values.items())]
                try:
                    experiment, fork_from = make(overrides, this_seed)
                except UserError as exc:
                    raise _invalid(path, [f"run {run_id}: {exc}"]) from None
                runs.append(SweepRun(len(runs), run_id, this_seed, replicate, values, experiment, fork_from))
    return Sweep(name, path, spec, runs, seed, notes)


def _key_problem(base: dict[str, Any], key: str) -> str | None:
    """Why ``key`` is not a value of the experiment (with a did-you-mean), or None."""
    node: Any = base
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            return f"{key}: {'.'.join(parts[:i])} is a value, not a section"
        if part not in node:
            allowed = list(node)
            hint = did_you_mean(part, allowed, prefix="".join(f"{p}." for p in parts[:i]))
            where = f" in {'.'.join(parts[:i])}" if i else ""
            return f"{key}: the experiment has no key {part!r}{where}{hint}; allowed: {', '.join(allowed)}"
        node = node[part]
    return None
