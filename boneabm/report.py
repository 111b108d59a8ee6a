"""``boneabm report``: run the validation panels and write a markdown report with a figure per check.

With several seeds every check is evaluated on each seed's runs on their own, and passes only if it passes
on every seed: a check that passes on some seeds and not others is not passed.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from boneabm import bmu_checks  # noqa: E402
from boneabm.errors import UserError  # noqa: E402
from boneabm.files import write_atomically  # noqa: E402
from boneabm.output import utc_now  # noqa: E402
from boneabm.validation import (CHECKS, PANELS, REDUCED, VALIDATION_MANIFEST, Check, Validation,  # noqa: E402
                                seeds_text)

_SEED_SPEC = re.compile(r"(\d+)(?:-(\d+))?")


def parse_seeds(text: str, option: str = "--seeds") -> tuple[int, ...]:
    """``1-5``, ``1,3,7`` or both (``1-3,7``) as the seeds in the order given; a seed given twice, a range
    running down or anything else is a ``UserError`` naming ``option`` and the value."""
    seeds: list[int] = []
    for part in text.split(","):
        match = _SEED_SPEC.fullmatch(part.strip())
        if match is None:
            raise UserError(f"{option} {text}: {part.strip()!r} is not a seed or a range; give whole numbers ≥ 0 "
                            "as a range (1-5), a list (1,3,7) or both (1-3,7)")
        low, high = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if high < low:
            raise UserError(f"{option} {text}: the range {part.strip()} runs down; write it from low to high "
                            f"({high}-{low})")
        seeds.extend(range(low, high + 1))
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise UserError(f"{option} {text}: seed {', '.join(map(str, repeated))} given twice; give each seed once")
    return tuple(seeds)


@dataclass(frozen=True)
class SeedSpread:
    """One check over every seed: its result per seed, and PASS only if every seed passes."""

    results: dict[int, Check]  # seed -> the check on that seed's runs

    @property
    def first(self) -> Check:
        return next(iter(self.results.values()))

    @property
    def n_passed(self) -> int:
        return sum(r.passed for r in self.results.values())

    @property
    def passed(self) -> bool:
        return self.n_passed == len(self.results)

    @property
    def verdict(self) -> str:
        """``PASS`` or ``FAIL``, with ``k of n seeds`` when there are several."""
        word = "PASS" if self.passed else "FAIL"
        return word if len(self.results) == 1 else f"{word} ({self.n_passed} of {len(self.results)} seeds)"

    def measured(self, separator: str) -> str:
        """The measured values, prefixed by their seed (and verdict) when there are several."""
        if len(self.results) == 1:
            return self.first.measured
        return separator.join(f"seed {seed} ({'pass' if r.passed else 'FAIL'}): {r.measured}"
                              for seed, r in self.results.items())


def spread(check: Callable[[object], Check], validation: Validation) -> SeedSpread:
    """``check`` evaluated on each seed's runs of ``validation`` on their own."""
    return SeedSpread({seed: check(validation.for_seed(seed)) for seed in validation.seeds})


def run_report(out: Path, replicates: int = 1, quick: bool = False, seed: int | Sequence[int] = 1,
               workers: int | None = None, resume: bool = False, progress: bool = False,
               overrides: tuple[str, ...] | None = None, panels: Path = PANELS,
               checks: Sequence[Callable] = CHECKS, remodeling: bool = False,
               bmu_overrides: tuple[str, ...] | None = None) -> Path:
    """Run every check with its runs under ``out/runs`` (distinct runs once, in parallel on ``workers``
    processes) and write ``out/report.md``; return its path.

    ``seed`` is the first replicate's seed, or several seeds, each check evaluated on each. ``out`` must be
    new, or with ``resume`` a report directory whose runs were planned the same (same seeds, replicates and
    domain): its complete runs are kept and the rest run. ``overrides`` replace the domain ``quick`` picks,
    ``panels`` the shipped panels and ``checks`` the checks (tests shrink the report with them). ``remodeling``
    adds the BMU checks (``boneabm.bmu_checks``), from one run per arm of the `bmu_cycle` panel under
    ``out/bmu_runs`` (``bmu_overrides`` replace the domain ``quick`` picks for them)."""
    if overrides is None:
        overrides = REDUCED if quick else ()
    validation = Validation(out / "runs", overrides=overrides, replicates=replicates, seed=seed, workers=workers,
                            progress=progress, panels=panels)
    sections = [(validation, checks)]
    if remodeling:
        if bmu_overrides is None:
            bmu_overrides = bmu_checks.REDUCED if quick else ()
        sections.append((Validation(out / "bmu_runs", overrides=bmu_overrides, seed=seed, workers=workers,
                                    progress=progress, panel_names=(bmu_checks.PANEL,)), bmu_checks.CHECKS))
    if out.exists():
        if not resume:
            raise UserError(f"--out {out}: already exists; --resume finishes the report there, or choose a new "
                            "directory (nothing was written)")
        if not (out / "runs" / VALIDATION_MANIFEST).exists():
            raise UserError(f"--out {out}: not a report directory (runs/{VALIDATION_MANIFEST} is missing); "
                            "nothing to resume (nothing was written)")
    for part, _ in sections:
        part.check_directory()
    for part, _ in sections:
        part.run_all()
    scale = ("reduced domain (1.5 x 1.5 mm)" if overrides == REDUCED else
             "full assay domain (2.6 x 2.6 mm, the osteoclastogenesis example)" if not overrides else
             f"with {' '.join(overrides)}")
    if remodeling:
        scale += f"; the BMU checks on the `bmu` experiment ({' '.join(bmu_overrides) or 'full size'})"
    return write_report(out, validation, scale, checks, sections[1:])


def write_report(out: Path, validation: Validation, scale: str, checks: Sequence[Callable] = CHECKS,
                 more: Sequence[tuple[Validation, Sequence[Callable]]] = ()) -> Path:
    """Evaluate every check on each seed of ``validation`` (running what it has not run yet), and each of
    ``more``'s checks on its own validation's runs, and write ``out/report.md`` with a figure per check (of the
    first seed's runs)."""
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)  # a resumed report replaces its own figures and report.md
    spreads = []
    for part, check in [(validation, c) for c in checks] + [(v, c) for v, cs in more for c in cs]:
        print(f"boneabm report: {check.__name__.removeprefix('check_')} ...", file=sys.stderr)
        result = spread(check, part)
        fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
        result.first.figure(ax)
        ax.set_title(result.first.title, fontsize=9)
        image = io.BytesIO()
        fig.savefig(image, format="png", dpi=110)
        plt.close(fig)
        write_atomically(figures / f"{result.first.key}.png", image.getvalue())
        spreads.append(result)
    passed = sum(r.passed for r in spreads)
    several = len(validation.seeds) > 1
    lines = [
        "# boneabm biology validation report", "",
        f"{utc_now():%Y-%m-%d %H:%M} UTC; {scale}; {validation.replicates} replicate(s) per arm from "
        + (f"each of {seeds_text(validation.seeds)}, every check evaluated on each seed's runs on their own and "
           f"passed only if it passes on all {len(validation.seeds)}; figures show seed {validation.seed}. "
           if several else f"seed {validation.seed}. ")
        + f"**{passed} of {len(spreads)} checks pass.** Readouts: osteoclasts = cells with ≥ 3 nuclei on day 5; "
        "resorption on day 7. Panels: "
        + ("the shipped panels (`boneabm examples`)" if validation.panels == PANELS else f"{validation.panels}")
        + ("; arms with the same experiment share its runs: "
           + ", ".join(f"{arm} = {same}" for arm, same in validation.shared().items()) if validation.shared()
           else "") + ".", "",
        "| check | result | expected | measured |", "|---|---|---|---|",
        *[f"| [{r.first.title}](#{r.first.key}) | {'✅' if r.passed else '❌'} {r.verdict} | {r.first.expected} | "
          f"{r.measured('<br>')} |" for r in spreads], "",
    ]
    for r in spreads:
        first = r.first
        lines += [f"## {first.title}", f'<a id="{first.key}"></a>', "",
                  f"**{'PASS' if r.passed else 'FAIL'}**"
                  + (f" on {r.n_passed} of {len(r.results)} seeds" if several else "") + f" — source: {first.source}",
                  "", f"- expected: {first.expected}",
                  *([f"- measured, seed {seed} ({'pass' if c.passed else 'FAIL'}): {c.measured}"
                     for seed, c in r.results.items()] if several else [f"- measured: {first.measured}"]), "",
                  f"![{first.key}](figures/{first.key}.png)" + (f" (seed {validation.seed})" if several else ""), ""]
    path = out / "report.md"
    write_atomically(path, "\n".join(lines))
    return path
