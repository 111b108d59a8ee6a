"""The ``boneabm`` command: run, check and plot experiments; describe networks.

Exit status: 0 done, 1 the run failed (a bug: its traceback is shown and kept in metadata.json), 2 bad input
(one message, no traceback, nothing written), 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import traceback
from pathlib import Path

from boneabm.version import __version__
from boneabm.catalog import resolve
from boneabm.config import load_experiment, with_seed
from boneabm.errors import UserError
from boneabm.files import cannot_write, write_failure
from boneabm.resources import MAX_SWEEP_RUNS, check_affordable, estimate

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130

_SET_HELP = ("override one config value, as dotted.key=value (the value is read as YAML: 30, 1e-3, null, "
             "[1, 2]); repeat for several, e.g. --set medium.mcsf_ng_ml=0 --set time.duration_h=72")
_FORCE_HELP = ("run even if the estimate of its cost is above 8 GB of memory or 5,000,000 ticks (the thresholds: "
               "environment variables BONEABM_FORCE_ABOVE_GB and BONEABM_FORCE_ABOVE_TICKS); a run that cannot fit "
               "in this machine's memory is refused whatever the flag")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors are bad input too: exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"boneabm: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="boneabm", description="Stochastic agent-based bone remodeling simulator.")
    parser.add_argument("--version", action="version", version=f"boneabm {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser(
        "run", help="run one experiment",
        description="Run one experiment. Standard output carries only the run directory's path; progress "
        "and messages go to standard error. The run writes into DIR.partial/ and is renamed to DIR when "
        "complete.")
    run.add_argument("config", metavar="CONFIG",
                     help="experiment YAML file, or a shipped example's name (boneabm examples lists them)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=_SET_HELP)
    run.add_argument("--seed", type=int, metavar="N",
                     help="run seed, the same as --set seed=N; with no seed anywhere a fresh one is drawn, "
                     "printed and saved in the run's config.yaml (the shipped examples carry none)")
    run.add_argument("--out", metavar="DIR",
                     help="run directory, used exactly; refused if DIR or DIR.partial exists "
                     "(default: runs/<experiment name>/<UTC timestamp>-seed<N>)")
    run.add_argument("--quiet", action="store_true",
                     help="no progress bar or messages; the run directory is still printed on standard output")
    run.add_argument("--force", action="store_true", help=_FORCE_HELP)
    _checkpoint_options(run)

    resume = commands.add_parser(
        "resume", help="continue a killed or interrupted run from its last checkpoint",
        description="Continue an unfinished run (DIR.partial) from its newest checkpoint, in the same directory: "
        "rows recorded after the checkpoint are dropped and written again, so the finished tables are those of "
        "an uninterrupted run. metadata.json records the resume.")
    resume.add_argument("run_dir", metavar="RUN_DIR", help="the run directory (DIR or DIR.partial)")
    resume.add_argument("--quiet", action="store_true", help="no progress bar or messages")

    fork = commands.add_parser(
        "fork", help="start a new run from a checkpoint, with other settings from then on",
        description="Start a new run from a checkpoint's state with settings that can change mid-run: doses, "
        "knockouts, inhibitors and clamps, the medium and its schedule, ITAM co-stimulation, the duration and "
        "the recording. Anything that shaped the state (domain, tick, network, cell and field parameters) is "
        "refused. Without --seed the fork continues the parent's random streams when nothing changes, else "
        "draws new ones from the parent's seed and the changes. Its tables start at the checkpoint's time.")
    fork.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file (RUN_DIR/checkpoints/*.npz)")
    fork.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=_SET_HELP)
    fork.add_argument("--seed", type=int, metavar="N", help="the fork's own seed (new random streams)")
    fork.add_argument("--out", metavar="DIR", help="run directory, refused if it exists "
                      "(default: runs/<experiment name>/<UTC timestamp>-seed<N>)")
    fork.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    _checkpoint_options(fork)

    sweep = commands.add_parser(
        "sweep", help="run a parameter sweep on dask.distributed, or one of its runs",
        description="Expand a sweep file into runs and run them on a local Dask cluster (default), a running "
        "scheduler or Slurm/PBS, each into DIR/<run_id>/ as boneabm run writes it; then write DIR/summary.csv "
        "(one row per run) and DIR/timeseries.csv (all runs' time series). Exit status 1 if any run failed; "
        "the others still finish.")
    sweep.add_argument("sweep", metavar="SWEEP", help="sweep YAML file, or a shipped sweep's name (boneabm examples)")
    sweep.add_argument("--out", metavar="DIR", help="sweep directory (default runs/<sweep name>/); refused if it "
                       "exists, unless --resume, --index or --collect")
    sweep.add_argument("--seed", type=int, metavar="N",
                       help="the sweep's seed, from which every run's derives (overrides the file's seed:); without "
                       "either a fresh one is drawn, printed and recorded in DIR/sweep.json, which --resume and "
                       "--collect reuse; --index needs one")
    sweep.add_argument("--workers", type=int, metavar="N",
                       help="worker processes, one thread each (default: this machine's CPU count; with --cluster "
                       "the most workers to scale to, default one per run)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--cluster", choices=("slurm", "pbs"),
                       help="start workers as Slurm or PBS jobs through dask-jobqueue (pip install -e '.[cluster]'), "
                       "configured in ~/.config/dask/jobqueue.yaml")
    sweep.add_argument("--worker-timeout", type=float, default=None, metavar="SECONDS",
                       help="with --cluster or --scheduler: end the sweep (exit status 2) when no Dask worker has "
                       "joined for this long while runs wait (default 600; 0 waits indefinitely); a refused job "
                       "submission ends it at once")
    sweep.add_argument("--resume", action="store_true",
                       help="finish the sweep in DIR: skip complete runs, redo failed and unfinished ones; refused "
                       "if the sweep file now expands differently")
    mode = sweep.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="print the expanded runs as CSV and exit")
    mode.add_argument("--index", type=int, metavar="I", help="run only run I (0-based, as --list numbers them) in "
                      "this process, e.g. --index $SLURM_ARRAY_TASK_ID in an array job")
    mode.add_argument("--collect", action="store_true",
                      help="write summary.csv and timeseries.csv from the run directories present (after array jobs)")
    sweep.add_argument("--quiet", action="store_true",
                       help="no progress bar and no start or end messages (failures are still reported)")
    sweep.add_argument("--force", action="store_true",
                       help=f"run a sweep of more than {MAX_SWEEP_RUNS:,} runs, or runs above the memory or tick "
                       "thresholds (see boneabm run --help)")

    check = commands.add_parser(
        "check", help="validate an experiment, sweep or panel file",
        description="Validate a file without running anything. An experiment prints its resolved config (every "
        "default filled in) as YAML; a sweep file (top-level key sweep:) prints its runs as CSV; a panel file "
        "(top-level key panel:) prints its arms. Exit status 0 when valid, 2 otherwise.")
    check.add_argument("config", metavar="FILE", help="experiment, sweep or panel YAML file, or a shipped example's name")
    check.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help=_SET_HELP)
    check.add_argument("--force", action="store_true", help="check a sweep of more than "
                       f"{MAX_SWEEP_RUNS:,} runs (expanding it takes time)")

    network = commands.add_parser(
        "network", help="print a signaling network's species, parameters and reactions",
        description="Validate a reaction network file and print its species, parameters (value, unit, source) "
        "and reactions as tables.")
    network.add_argument("file", metavar="FILE", nargs="?", default="rank",
                         help="a network YAML file, an SBML file (.xml) or a built-in network name (default: rank)")
    network.add_argument("--format", choices=("text", "markdown", "csv"), default="text",
                         help="text (default): columns fitted to the terminal, long sources wrapped; markdown: "
                         "the tables docs/model.md shows; csv: one table (give --table) for pandas or a sheet")
    network.add_argument("--table", choices=("species", "parameters", "reactions"),
                         help="print only this table")
    network.add_argument("--path", action="store_true",
                         help="print only the network file's path (a built-in network's, inside the installed "
                         "package: copy it to make your own)")
    network.add_argument("--to-sbml", metavar="OUT", dest="to_sbml",
                         help="write the network as SBML Level 3 Version 2 to OUT (a new file: an existing one is "
                         "never overwritten)")

    report = commands.add_parser(
        "report", help="run the biology validation panels and write a markdown report",
        description="Run the validation panels (boneabm examples lists them) and write DIR/report.md with a figure and "
        "PASS/FAIL per check of docs/validation.md against its published value. The arms run in parallel on a local "
        "Dask cluster, each distinct experiment once (wild type = RANKL 50 = OPG 0, no RANKL = RANKL 0: 26 runs "
        "per replicate), with a progress bar and time left (on a terminal). On 2 free cores --quick took 4 3/4 min "
        "(26 runs); the full size costs about 1.7 times as much per run (estimated: about 8 min per replicate). "
        "--seeds evaluates every check on each of several seeds (their runs together in one pool) and passes a "
        "check only if it passes on all of them. --resume finishes an interrupted report.")
    report.add_argument("--out", metavar="DIR", help="report directory, refused if it exists unless --resume "
                        "(default: runs/report/<UTC timestamp>)")
    report.add_argument("--replicates", type=int, default=1, metavar="N", help="runs per arm (default 1)")
    report.add_argument("--seed", type=int, metavar="N", help="seed of the first replicate (default 1)")
    report.add_argument("--seeds", metavar="SEEDS",
                        help="several seeds, as a range (1-5), a list (1,3,7) or both (1-3,7): every check is "
                        "evaluated on each seed's runs (each seed's --replicates from it on) and passes only if it "
                        "passes on every seed; the report shows how many passed and each seed's values")
    report.add_argument("--quick", action="store_true", help="reduced domain (1.5 x 1.5 mm), as in the tests")
    report.add_argument("--workers", type=int, metavar="N",
                        help="worker processes, one run each at a time (default: this machine's CPU count)")
    report.add_argument("--resume", action="store_true",
                        help="finish the report in DIR (after an interruption or failed runs): skip complete runs; "
                        "refused if DIR's runs were started with other --seed/--seeds, --replicates or --quick")
    report.add_argument("--remodeling", action="store_true",
                        help="add the BMU checks (R1-R3, R6, osteoblast fates, Sost knockout) from one run per arm "
                        "of the bmu_cycle panel: the shipped bmu experiment, 200 days (with --quick on 1 x 1 mm)")

    docs = commands.add_parser(
        "docs", help="write the ODD model description with generated parameter tables",
        description="Write the model description in the ODD protocol's order, with parameter tables generated "
        "from the experiment schema and the RANK network file.")
    docs.add_argument("--out", metavar="FILE",
                      help="where to write, - for standard output (default: docs/model.md of the boneabm checkout "
                      "this command runs from; an installed boneabm has no docs folder of its own and needs --out)")

    examples = commands.add_parser(
        "examples", help="list the shipped example experiments, sweeps and panels, or copy one out to edit",
        description="With no NAME, list the examples shipped inside boneabm (each runs by name: boneabm run "
        "osteoclastogenesis). With NAME, print its file, or copy it into DIR with --copy to edit it.")
    examples.add_argument("name", metavar="NAME", nargs="?", help="an example's name")
    examples.add_argument("--copy", metavar="DIR", nargs="?", const=".",
                          help="copy NAME into DIR (default: the current directory), never overwriting")

    plot = commands.add_parser(
        "plot", help="draw a run's or a sweep's figures",
        description="Write PNG figures of a run into RUN_DIR/figures/ (population per cm², factors, cells by stage "
        "and nuclei, bone), or of a sweep into SWEEP_DIR/figures/dose_response.png (summary columns against the "
        "varied keys, replicate spread), replacing only boneabm's own figures.")
    plot.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by boneabm run, or a sweep "
                      "directory written by boneabm sweep")
    plot.add_argument("--response", action="append", metavar="COLUMN",
                      help="of a sweep: a summary.csv column to draw (repeat for several; default: "
                      "n_osteoclasts_final, resorbed_area_um2_final, n_pits_final, n_trenches_final)")

    app = commands.add_parser(
        "app", help="a local web app: run an experiment live, or replay a run or a sweep",
        description="Start a local web app (Solara, with Mesa's parameter inputs) on a loopback port and print its "
        "address. Given an experiment (default: the shipped osteoclastogenesis assay) it runs it live: play, pause, "
        "step, reset, RANKL, OPG, M-CSF and a knockout or inhibitor set before a reset; the page draws the newest "
        "simulated hour at most --fps times a second, or every hour (--every-hour). Given a run directory (or a "
        "sweep directory) it replays the run's spatial snapshots with a time slider. Ctrl-C stops it.")
    app.add_argument("target", metavar="CONFIG|RUN_DIR", nargs="?",
                     help="an experiment file or shipped example's name, a run directory or a sweep directory")
    app.add_argument("--port", type=int, metavar="N", help="listen on 127.0.0.1:N (default: a free port)")
    app.add_argument("--fps", type=float, metavar="N", default=None,
                     help="a live experiment's page draws at most N frames per second of wall time, each the newest "
                     "simulated hour (default 4; at most 30): what watching costs the model, whatever its speed")
    app.add_argument("--every-hour", action="store_true",
                     help="a live experiment's page draws every recorded hour (time.record_every_h), none skipped: "
                     "the model waits for the page when the page is the slower")

    animate = commands.add_parser(
        "animate", help="render a movie of a run's surface over time",
        description="Render a movie of the surface (a map layer, resorbed areas outlined, cells coloured by state "
        "and sized by nuclei), one frame per spatial snapshot (time.spatial_every_h). MP4 through the ffmpeg of "
        "the imageio-ffmpeg wheel, GIF through Pillow. Prints the movie's path.")
    animate.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by boneabm run")
    animate.add_argument("--out", metavar="FILE", help="FILE.mp4 or FILE.gif, never overwritten (default: "
                         "RUN_DIR/figures/surface.mp4, boneabm's own file, replaced)")
    animate.add_argument("--layer", default="mineral_depth_um",
                         help="the map under the cells: mineral_depth_um (default), collagen_depth_um, mcsf_ng_ml, "
                         "rankl_free_ng_ml, opg_free_ng_ml or antibody_free_ng_ml")
    animate.add_argument("--fps", type=float, default=4.0, help="frames (snapshots) per second (default 4)")
    return parser


def _checkpoint_options(parser) -> None:
    parser.add_argument("--checkpoint-every", type=float, metavar="HOURS",
                        help="write the model's whole state every HOURS of simulated time (a multiple of "
                        "time.record_every_h) and at the end, into RUN_DIR/checkpoints/; boneabm resume continues "
                        "from the last one, boneabm fork branches from any")
    parser.add_argument("--keep", type=int, metavar="K", help="keep only the newest K checkpoints (default: all)")


def _checkpointing(args):
    from boneabm.runner import checkpointing

    return checkpointing(args.checkpoint_every, args.keep)


def _finished(args, run) -> int:
    """Run ``run()`` (a runner call returning the final directory) and report as ``boneabm run`` does."""
    from boneabm.runner import RunFailed

    signal.signal(signal.SIGTERM, _terminate)
    try:
        path = run()
    except RunFailed as exc:
        if not cannot_write(exc.__cause__):  # a bug's traceback helps; a full disk's does not
            traceback.print_exception(exc.__cause__, file=sys.stderr)
        print(f"boneabm: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(path)
    if not args.quiet:
        _note_uptake(path)
    _say(args, f"boneabm: complete; tables in {path}/, figures with: boneabm plot {path}")
    return 0


def _resume(args) -> int:
    from boneabm.continuation import resume

    return _finished(args, lambda: resume(Path(args.run_dir), progress=not args.quiet and sys.stderr.isatty(),
                                          command=sys.argv))


def _fork(args) -> int:
    from boneabm.output import refuse_existing
    from boneabm.continuation import fork, plan_fork

    checkpointing = _checkpointing(args)
    _, experiment, record = plan_fork(Path(args.checkpoint), args.overrides, args.seed)  # refusals first
    if args.out:
        refuse_existing(Path(args.out))
    changes = ", ".join(f"{k}={v!r}" for k, v in record["changes"].items()) or "no changes"
    _say(args, f"boneabm: fork of {args.checkpoint} at {record['time_h']:g} h ({changes}); seed "
               f"{experiment.seed}: {record['seed_source']}")
    return _finished(args, lambda: fork(Path(args.checkpoint), args.overrides, args.seed,
                                        Path(args.out) if args.out else None,
                                        progress=not args.quiet and sys.stderr.isatty(), command=sys.argv,
                                        checkpointing=checkpointing))


def _say(args, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _run(args) -> int:
    from boneabm.output import default_run_dir, refuse_existing
    from boneabm.runner import execute

    checkpointing = _checkpointing(args)
    experiment = load_experiment(resolve(args.config, "experiment"), args.overrides)
    seeded_by = ("--seed" if args.seed is not None else "the config" if experiment.seed is not None
                 else "drawn fresh")
    experiment = with_seed(experiment, args.seed)
    check_affordable(experiment, args.force)
    out = Path(args.out) if args.out else default_run_dir(experiment)
    refuse_existing(out)  # before any banner: a refused run prints nothing but the refusal
    if checkpointing is not None:
        checkpointing.validate(experiment)
    if seeded_by == "the config":  # a user running again for replicates would get copies: say so
        _say(args, f"boneabm: seed {experiment.seed} comes from the config, so every run of it repeats this one "
                   "exactly (give --seed N, or drop seed: to draw one per run)")
    elif seeded_by == "drawn fresh":
        _say(args, f"boneabm: seed {experiment.seed} drawn fresh (recorded in the run's config.yaml; --seed "
                   f"{experiment.seed} repeats this run)")
    _say(args, f"boneabm: {experiment.name}: seed {experiment.seed}, {experiment.n_plated} precursors, "
               f"{experiment.time.duration_h:g} h in ticks of {experiment.time.dt_h:g} h")
    # a scheduler's SIGTERM ends the run like Ctrl-C: recorded as interrupted, left at DIR.partial
    return _finished(args, lambda: execute(experiment, out, progress=not args.quiet and sys.stderr.isatty(),
                                           command=sys.argv, checkpointing=checkpointing))


def _note_uptake(path) -> None:
    import json

    uptake = json.loads((path / "metadata.json").read_text(encoding="utf-8")).get("uptake", {})
    for name, numbers in uptake.items():
        if isinstance(numbers, dict) and numbers["shortfall_molecules"] > 0:
            shortfall, net = numbers["shortfall_molecules"], numbers["net_molecules"]
            # a share of the net uptake only where it is one: cells that shed a factor (RANKL) may release more
            # of it than they take up, and their net is no measure of the uptake
            amount = (f"{shortfall / net:.1%} of the cells' {name} uptake ({shortfall:.3g} molecules)"
                      if net >= shortfall else f"{shortfall:.3g} molecules of the cells' {name} uptake")
            print(f"boneabm: note: {amount} exceeded what their sites' fluid layers held within a tick and was not "
                  "taken from the fields; see uptake in metadata.json for what this means", file=sys.stderr)


def _sweep(args) -> int:
    if not (args.list or args.index is not None or args.collect or args.scheduler or args.cluster):
        from boneabm.workers import start_worker_server

        start_worker_server()  # the local workers' boneabm imports, on the other core while this one reads the sweep
    from boneabm.sweep import collect, load_sweep, run_index, run_sweep
    from boneabm.sweep.engine import DEFAULT_WORKER_TIMEOUT_S, check_directory, recorded_seed
    from boneabm.sweep.spec import read_sweep

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: give 1 or more")
    if (args.list or args.index is not None or args.collect) and (args.scheduler or args.cluster or args.workers
                                                                   or args.worker_timeout is not None):
        raise UserError("--list, --index and --collect run nothing on Dask; drop --workers, --scheduler, --cluster "
                        "and --worker-timeout")
    if args.worker_timeout is not None and not (args.worker_timeout >= 0 and math.isfinite(args.worker_timeout)):
        raise UserError(f"--worker-timeout {args.worker_timeout:g}: give a number of seconds, 0 or more "
                        "(0 waits indefinitely)")
    if args.worker_timeout is not None and not (args.cluster or args.scheduler or args.list or args.index is not None
                                                or args.collect):
        raise UserError("--worker-timeout applies to --cluster and --scheduler; the local cluster starts its own "
                        "workers")
    path = resolve(args.sweep, "sweep")
    spec, name = read_sweep(path)
    out = Path(args.out) if args.out else Path("runs") / name
    seed, seeded_by = args.seed, "--seed"
    if seed is None and spec.seed is not None:
        seed, seeded_by = spec.seed, "the file"
    if seed is None and (args.resume or args.collect) and recorded_seed(out) is not None:
        seed, seeded_by = recorded_seed(out), "the directory"
    if seed is None and args.index is not None:
        raise UserError(f"--index {args.index}: {path} has no seed:, and every array task must expand the same "
                        "runs; give the same --seed N to every task, or put seed: N in the sweep file")
    sweep = load_sweep(path, seed, max_runs=math.inf if args.force else MAX_SWEEP_RUNS)
    for note in sweep.notes:
        print(f"boneabm: note: {note}", file=sys.stderr)
    if sweep.runs and not (args.list or args.collect):
        costliest = max(sweep.runs, key=lambda run: estimate(run.experiment).memory_bytes)
        check_affordable(costliest.experiment, args.force, f"run {costliest.run_id}")
        longest = max(sweep.runs, key=lambda run: run.experiment.time.n_ticks)
        check_affordable(longest.experiment, args.force, f"run {longest.run_id}")
    if args.list:
        if seed is None:
            print(f"boneabm: {path} has no seed:; these runs use seed {sweep.seed}, drawn fresh for this listing "
                  f"(--seed {sweep.seed} runs exactly them)", file=sys.stderr)
        sweep.listing().to_csv(sys.stdout, index=False)
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    if args.index is not None:
        return 0 if run_index(sweep, out, args.index) == "complete" else EXIT_FAILED
    if args.collect:
        check_directory(sweep, out, must_exist=True)
        counts = collect(sweep, out)
    else:
        workers = args.workers or (None if args.cluster else os.cpu_count() or 1)
        if out.exists() and not args.resume:  # refused before any banner (run_sweep would refuse it too)
            raise UserError(f"--out {out}: already exists; use --resume to finish that sweep, or a new --out")
        _say(args, f"boneabm: sweep {sweep.name}: {len(sweep.runs)} runs into {out}/")
        if seed is None:
            _say(args, f"boneabm: sweep seed {sweep.seed} drawn fresh (recorded in {out / 'sweep.json'}; --seed "
                       f"{sweep.seed} repeats this sweep)")
        elif seeded_by == "the file" and not args.resume:  # re-running for more replicates would give copies
            _say(args, f"boneabm: sweep seed {seed} comes from the sweep file, so running it again repeats these runs "
                       "exactly (give --seed N, or drop seed: to draw one per sweep)")
        elif seeded_by == "the directory":
            _say(args, f"boneabm: sweep seed {seed}, as recorded in {out / 'sweep.json'}")
        counts = run_sweep(sweep, out, workers=workers, scheduler=args.scheduler, cluster=args.cluster,
                           resume=args.resume, progress=not args.quiet and sys.stderr.isatty(),
                           worker_timeout=DEFAULT_WORKER_TIMEOUT_S if args.worker_timeout is None
                           else args.worker_timeout)
    print(out / "summary.csv")
    unfinished = {status: n for status, n in counts.items() if status != "complete"}
    if unfinished:
        print(f"boneabm: {sum(unfinished.values())} of {len(sweep.runs)} runs not complete ("
              + ", ".join(f"{n} {status}" for status, n in sorted(unfinished.items()))
              + f"); see the status and error columns of {out / 'summary.csv'}; --resume redoes them",
              file=sys.stderr)
        return EXIT_FAILED
    _say(args, f"boneabm: all {len(sweep.runs)} runs complete; one row per run in {out / 'summary.csv'}")
    return 0


def _check(args) -> int:
    from boneabm.yamlio import read_yaml

    path = resolve(args.config)
    data = read_yaml(path)
    if "sweep" in data or "panel" in data:
        if args.overrides:
            raise UserError(f"--set applies to experiments; {path} is a {'sweep' if 'sweep' in data else 'panel'} "
                            "file (put shared overrides in its set: list or its arms)")
        return _check_sweep(path, args.force) if "sweep" in data else _check_panel(path)
    experiment = load_experiment(path, args.overrides)
    sys.stdout.write(experiment.to_yaml())
    width, height = experiment.domain.shape
    seed = experiment.seed if experiment.seed is not None else "drawn fresh at run time"
    print(f"boneabm: valid: {width} x {height} sites, {experiment.n_plated} precursors plated, "
          f"{experiment.time.n_ticks} ticks, seed {seed}", file=sys.stderr)
    return 0


def _check_sweep(path, force: bool) -> int:
    from boneabm.sweep import load_sweep

    sweep = load_sweep(path, max_runs=math.inf if force else MAX_SWEEP_RUNS)
    for note in sweep.notes:
        print(f"boneabm: note: {note}", file=sys.stderr)
    sweep.listing().to_csv(sys.stdout, index=False)
    seed = (f"seed {sweep.seed}" if sweep.spec.seed is not None else
            f"no seed: (each sweep draws one; this listing used {sweep.seed})")
    print(f"boneabm: valid sweep {sweep.name}: {len(sweep.runs)} runs, every run's experiment valid, {seed}",
          file=sys.stderr)
    return 0


def _check_panel(path) -> int:
    from boneabm.panel import load_panel

    panel = load_panel(path)
    for arm, overrides in panel.arms.items():
        print(f"{arm}: {' '.join(overrides) or '(the base experiment)'}")
    print(f"boneabm: valid panel {panel.name}: {len(panel.arms)} arms on {panel.base}, every arm's experiment "
          "valid", file=sys.stderr)
    return 0


def _examples(args) -> int:
    from boneabm import catalog

    if args.name is None:
        if args.copy is not None:
            raise UserError("--copy needs the NAME of an example; boneabm examples lists them")
        for kind in catalog.KINDS:
            print(f"{kind}s:")
            for example in catalog.examples(kind):
                print(f"  {example.name:<28} {example.summary}")
        print("run one by name (boneabm run osteoclastogenesis, boneabm sweep rankl_opg_sweep); "
              "copy one out to edit with boneabm examples NAME --copy [DIR]", file=sys.stderr)
        return 0
    if args.copy is None:
        sys.stdout.write(catalog.find(args.name).path.read_text(encoding="utf-8"))
        return 0
    print(catalog.copy_out(args.name, Path(args.copy)))
    return 0


def _network(args) -> int:
    import shutil

    from boneabm.signaling.describe import TABLES, describe, markdown_table, text_table
    from boneabm.signaling.network import load_network

    if args.format == "csv" and args.table is None:
        raise UserError("--format csv prints one table: add --table species, parameters or reactions")
    network = load_network(args.file)
    if args.to_sbml:
        from boneabm.files import write_new

        write_new(Path(args.to_sbml), network.to_sbml(), "--to-sbml")
        print(args.to_sbml)
        return 0
    if args.path:
        print(network.path)
        return 0
    width = shutil.get_terminal_size((100, 24)).columns
    if args.table is None:
        sys.stdout.write(describe(network, args.format, width))
        return 0
    frame = TABLES[args.table](network)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        sys.stdout.write((text_table(frame, width) if args.format == "text" else markdown_table(frame)) + "\n")
    return 0


def _report(args) -> int:
    from boneabm.output import utc_now
    from boneabm.report import parse_seeds, run_report
    from boneabm.validation import IncompleteRuns

    if args.seed is not None and args.seeds is not None:
        raise UserError(f"--seed {args.seed} and --seeds {args.seeds}: give one; --seed N runs one seed, --seeds "
                        "several (a range 1-5, a list 1,3,7, or both)")
    seed = parse_seeds(args.seeds) if args.seeds is not None else 1 if args.seed is None else args.seed
    if args.replicates < 1:
        raise UserError(f"--replicates {args.replicates}: give 1 or more")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: give 1 or more")
    if args.resume and not args.out:
        raise UserError("--resume needs the --out DIR of the report to finish")
    out = Path(args.out) if args.out else Path("runs/report") / f"{utc_now():%Y%m%dT%H%M%SZ}"
    args.out = str(out)  # for the message if interrupted
    signal.signal(signal.SIGTERM, _terminate)
    try:
        path = run_report(out, replicates=args.replicates, quick=args.quick, seed=seed, workers=args.workers,
                          resume=args.resume, progress=sys.stderr.isatty(), remodeling=args.remodeling)
    except IncompleteRuns as exc:
        print(f"boneabm: {exc}; boneabm report --resume --out {out} (with the same options) redoes them",
              file=sys.stderr)
        return EXIT_FAILED
    print(path)
    return 0


def _docs(args) -> int:
    from boneabm.docs import checkout_model_md, generate
    from boneabm.files import write_atomically

    if args.out == "-":
        sys.stdout.write(generate())
        return 0
    path = Path(args.out) if args.out else checkout_model_md()
    if path is None:
        raise UserError("this boneabm is installed, not run from a checkout, so it has no docs/model.md to "
                        "refresh; give --out FILE (or --out - for standard output)")
    if not path.parent.is_dir():
        raise UserError(f"--out {path}: {path.parent} is not a directory (nothing was written)")
    write_atomically(path, generate())
    print(path)
    return 0


def _plot(args) -> int:
    from boneabm.plot import plot

    for path in plot(args.run_dir, args.response):
        print(path)
    return 0


def _app(args) -> int:
    from boneabm.app.server import serve
    from boneabm.app.target import resolve_target

    # the target checked before any server starts
    serve(resolve_target(args.target), args.port, args.fps, args.every_hour)
    return 0


def _animate(args) -> int:
    from boneabm.animate import animate

    print(animate(args.run_dir, args.out, args.layer, args.fps))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"run": _run, "resume": _resume, "fork": _fork, "sweep": _sweep, "check": _check, "network": _network, "report": _report,
                "docs": _docs, "examples": _examples, "plot": _plot, "animate": _animate,
                "app": _app}[args.command](args)
    except UserError as exc:
        print(f"boneabm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader stopped reading (boneabm sweep --list | head): not a failure
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # after BrokenPipeError, one of its kind
        if not cannot_write(exc):
            raise
        print(f"boneabm: {write_failure(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        unfinished = {"sweep": "the unfinished runs stay at their .partial directories; --resume finishes the "
                                "sweep",
                      "report": f"the complete runs stay in {args.out}; boneabm report --resume --out {args.out} "
                                "(with the same options) finishes the report"}.get(
            args.command, "the unfinished run stays at its .partial directory")
        print(f"boneabm: interrupted; {unfinished}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
