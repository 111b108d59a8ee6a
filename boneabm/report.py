"""``boneabm report``: run the validation panels and write a markdown report with a figure per check."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from boneabm.errors import UserError  # noqa: E402
from boneabm.files import write_atomically  # noqa: E402
from boneabm.output import utc_now  # noqa: E402
from boneabm.validation import CHECKS, REDUCED, VALIDATION_MANIFEST, Validation  # noqa: E402


def run_report(out: Path, replicates: int = 1, quick: bool = False, seed: int = 1, workers: int | None = None,
               resume: bool = False, progress: bool = False, overrides: tuple[str, ...] | None = None) -> Path:
    """Run every check with its runs under ``out/runs`` (distinct runs once, in parallel on ``workers``
    processes) and write ``out/report.md``; return its path.

    ``out`` must be new, or with ``resume`` a report directory whose runs were planned the same (same seed,
    replicates and domain): its complete runs are kept and the rest run. ``overrides`` replace the domain
    ``quick`` picks (tests shrink the runs with them)."""
    if overrides is None:
        overrides = REDUCED if quick else ()
    validation = Validation(out / "runs", overrides=overrides, replicates=replicates, seed=seed, workers=workers,
                            progress=progress)
    if out.exists():
        if not resume:
            raise UserError(f"--out {out}: already exists; --resume finishes the report there, or choose a new "
                            "directory (nothing was written)")
        if not (out / "runs" / VALIDATION_MANIFEST).exists():
            raise UserError(f"--out {out}: not a report directory (runs/{VALIDATION_MANIFEST} is missing); "
                            "nothing to resume (nothing was written)")
    validation.check_directory()
    validation.run_all()
    scale = ("reduced domain (1.5 x 1.5 mm)" if overrides == REDUCED else
             "full assay domain (2.6 x 2.6 mm, the osteoclastogenesis example)" if not overrides else
             f"with {' '.join(overrides)}")
    return write_report(out, validation, scale)


def write_report(out: Path, validation: Validation, scale: str) -> Path:
    """Evaluate every check on ``validation`` (running what it has not run yet) and write ``out/report.md``
    with a figure per check."""
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)  # a resumed report replaces its own figures and report.md
    results = []
    for check in CHECKS:
        print(f"boneabm report: {check.__name__.removeprefix('check_')} ...", file=sys.stderr)
        result = check(validation)
        fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
        result.figure(ax)
        ax.set_title(result.title, fontsize=9)
        image = io.BytesIO()
        fig.savefig(image, format="png", dpi=110)
        plt.close(fig)
        write_atomically(figures / f"{result.key}.png", image.getvalue())
        results.append(result)
    passed = sum(r.passed for r in results)
    lines = [
        "# boneabm biology validation report", "",
        f"{utc_now():%Y-%m-%d %H:%M} UTC; {scale}; {validation.replicates} replicate(s) per arm from seed "
        f"{validation.seed}. "
        f"**{passed} of {len(results)} checks pass.** Readouts: osteoclasts = cells with ≥ 3 nuclei on day 5; "
        "resorption on day 7. Panels: the shipped panels (`boneabm examples`)"
        + ("; arms with the same experiment share its runs: "
           + ", ".join(f"{arm} = {same}" for arm, same in validation.shared().items()) if validation.shared()
           else "") + ".", "",
        "| check | result | expected | measured |", "|---|---|---|---|",
        *[f"| [{r.title}](#{r.key}) | {'✅ PASS' if r.passed else '❌ FAIL'} | {r.expected} | {r.measured} |"
          for r in results], "",
    ]
    for r in results:
        lines += [f"## {r.title}", f'<a id="{r.key}"></a>', "",
                  f"**{'PASS' if r.passed else 'FAIL'}** — source: {r.source}", "",
                  f"- expected: {r.expected}", f"- measured: {r.measured}", "",
                  f"![{r.key}](figures/{r.key}.png)", ""]
    path = out / "report.md"
    write_atomically(path, "\n".join(lines))
    return path
