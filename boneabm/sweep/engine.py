"""Running a sweep's runs on dask.distributed (a local cluster, a running scheduler or Slurm/PBS through
dask-jobqueue) or one at a time for plain array jobs, each into ``DIR/<run_id>/`` exactly as ``boneabm run``
writes it.

``DIR/sweep.json`` records the expansion that started DIR (run ids, seeds and each run's resolved config
digest); resuming, collecting or adding array tasks refuses a sweep file that now expands differently. A run
that raises is recorded as failed in its ``.partial`` directory and the others go on.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from boneabm.config import Experiment
from boneabm.errors import UserError
from boneabm.output import partial_path, write_atomically
from boneabm.sweep.collect import collect, run_status
from boneabm.sweep.spec import Sweep, SweepRun

MANIFEST = "sweep.json"


# ----------------------------------------------------------------------------------------------------------
# The sweep directory


def _manifest(sweep: Sweep) -> dict:
    return {"sweep": sweep.name, "file": str(sweep.path.resolve()),
            "runs": [{"run_id": r.run_id, "seed": r.seed, "config_sha256": r.config_sha256} for r in sweep.runs]}


def _differences(recorded: list[dict], now: list[dict]) -> list[str]:
    before, after = {r["run_id"]: r for r in recorded}, {r["run_id"]: r for r in now}
    lines = [f"run {run_id} is new" for run_id in after if run_id not in before]
    lines += [f"run {run_id} is gone" for run_id in before if run_id not in after]
    lines += [f"run {run_id}: its {'seed' if before[run_id]['seed'] != r['seed'] else 'resolved config'} changed"
              for run_id, r in after.items() if run_id in before and before[run_id] != r]
    return lines


def check_directory(sweep: Sweep, out: Path, *, must_exist: bool = False) -> None:
    """Refuse ``out`` unless it is free, or the directory of a sweep that expanded as ``sweep`` does now.
    Writes nothing."""
    manifest_path = out / MANIFEST
    if not manifest_path.exists():
        if must_exist:
            raise UserError(f"{out}: not a sweep directory ({MANIFEST} is missing)")
        if out.exists() and any(not entry.name.startswith(".") for entry in out.iterdir()):
            raise UserError(f"{out}: exists and is not a sweep directory; choose another --out")
        return
    recorded = json.loads(manifest_path.read_text(encoding="utf-8"))
    differences = _differences(recorded["runs"], _manifest(sweep)["runs"])
    if differences:
        shown = "\n  ".join(differences[:8]) + (f"\n  ... and {len(differences) - 8} more" if len(differences) > 8
                                                else "")
        raise UserError(f"{sweep.path}: expands differently from the sweep that started {out} "
                        f"({recorded['file']}):\n  {shown}\nuse a new --out for the changed sweep (nothing was run)")


def record_expansion(sweep: Sweep, out: Path) -> None:
    """Write ``sweep.json`` and ``runs.csv`` into ``out`` unless they are there (checked the same)."""
    if (out / MANIFEST).exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    # array tasks may race here, writing the same content: the manifest goes first
    write_atomically(out / MANIFEST, json.dumps(_manifest(sweep), indent=1) + "\n")
    write_atomically(out / "runs.csv", sweep.listing().to_csv(index=False))


# ----------------------------------------------------------------------------------------------------------
# One run: what a worker executes


def execute_run(experiment: Experiment, run_dir: str) -> tuple[str, str | None]:
    """Run one (validated) experiment into ``run_dir``; return ``("complete", None)`` or ``("failed", error)``.

    Everything a run can raise is caught here, so a failure is a result, never a lost worker."""
    from boneabm.runner import RunFailed, execute

    path = Path(run_dir)
    partial = partial_path(path)
    if partial.is_dir():  # an earlier attempt: failed, interrupted, or its worker died
        shutil.rmtree(partial)
    try:
        execute(experiment, path, command=["boneabm", "sweep"])
    except RunFailed as exc:
        return "failed", f"{type(exc.__cause__).__name__}: {exc.__cause__}"
    except Exception as exc:  # noqa: BLE001 - a run's failure must not end the sweep
        return "failed", f"{type(exc).__name__}: {exc}"
    return "complete", None


def run_index(sweep: Sweep, out: Path, index: int) -> str:
    """Run run number ``index`` of the expansion in this process (an array job's task); return its status."""
    if not 0 <= index < len(sweep.runs):
        raise UserError(f"--index {index}: the sweep has {len(sweep.runs)} runs; give 0 to {len(sweep.runs) - 1}")
    check_directory(sweep, out)
    record_expansion(sweep, out)
    run = sweep.runs[index]
    if run_status(out, run.run_id)[0] == "complete":
        print(f"boneabm: {run.run_id} is already complete", file=sys.stderr)
        return "complete"
    status, error = execute_run(run.experiment, str(out / run.run_id))
    print(f"boneabm: {run.run_id}: {status}" + (f" ({error})" if error else ""), file=sys.stderr)
    return status


# ----------------------------------------------------------------------------------------------------------
# Many runs on dask.distributed


def _jobqueue_cluster(kind: str):
    """A dask-jobqueue cluster configured from Dask's own jobqueue configuration, one thread per worker."""
    try:
        import dask
        import dask_jobqueue
    except ImportError:
        raise UserError(f"--cluster {kind}: needs dask-jobqueue; install it with pip install -e '.[cluster]'") from None
    cores = dask.config.get(f"jobqueue.{kind}.cores", None)
    if not cores:
        raise UserError(f"--cluster {kind}: jobqueue.{kind}.cores is not configured; put your queue, cores, memory "
                        f"and walltime in ~/.config/dask/jobqueue.yaml (see the README's Sweeps section)")
    prologue = list(dask.config.get(f"jobqueue.{kind}.job-script-prologue", None) or [])
    cluster_class = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    # one single-threaded worker process per core: runs are single-threaded and never share a process
    return cluster_class(processes=cores, job_script_prologue=[*prologue, "export NUMBA_NUM_THREADS=1"])


def _client(workers: int | None, scheduler: str | None, cluster_kind: str | None, n_runs: int):
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except OSError as exc:
            raise UserError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    if cluster_kind:
        cluster = _jobqueue_cluster(cluster_kind)
        # jobs start as runs need workers and end when the work does, up to --workers
        cluster.adapt(minimum=0, maximum=workers or n_runs)
        return Client(cluster), cluster
    # dashboard off; the scheduler's small HTTP server (health checks) on a free loopback port, not 8787, so
    # two sweeps on one machine do not collide
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                           silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1"})
    return Client(cluster), cluster


def run_sweep(sweep: Sweep, out: Path, *, workers: int | None, scheduler: str | None = None,
              cluster: str | None = None, resume: bool = False, progress: bool = False) -> dict[str, int]:
    """Run every run not yet complete in ``out`` on a Dask cluster, then collect the tables; return how many
    runs ended in each status."""
    out = out.resolve()  # workers elsewhere need the path as the shared file system names it
    if out.exists() and not resume:
        raise UserError(f"--out {out}: already exists; use --resume to finish that sweep, or a new --out")
    check_directory(sweep, out)
    todo = [run for run in sweep.runs if run_status(out, run.run_id)[0] != "complete"]
    skipped = len(sweep.runs) - len(todo)
    if skipped:
        print(f"boneabm: {skipped} of {len(sweep.runs)} runs already complete; running {len(todo)}", file=sys.stderr)
    if todo:
        client, cluster = _client(workers, scheduler, cluster, len(todo))  # bad --cluster/--scheduler: nothing written
        try:
            record_expansion(sweep, out)
            _run_on_dask(client, todo, out, progress)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return collect(sweep, out)


def _run_on_dask(client, todo: list[SweepRun], out: Path, progress: bool) -> None:
    """Submit every run, then follow them as they finish: a progress bar and one line per failure."""
    from distributed import as_completed

    runs = {client.submit(execute_run, run.experiment, str(out / run.run_id), key=f"boneabm-{run.run_id}-{run.seed}",
                          pure=False): run for run in todo}
    failed = 0
    with tqdm(total=len(todo), unit="run", file=sys.stderr, disable=not progress, smoothing=0.1,
              bar_format="{l_bar}{bar}| {n}/{total} runs [{elapsed}<{remaining}]{postfix}") as bar:

        def show() -> None:  # workers of an adaptive cluster come and go: count them each time
            threads = sum(client.nthreads().values()) if progress else 0
            bar.set_postfix_str(f"done {bar.n - failed}, failed {failed}, running {min(threads, len(todo) - bar.n)}")

        show()
        for future in as_completed(runs):
            try:
                status, error = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker: the run failed, the sweep goes on
                status, error = "failed", f"{type(exc).__name__}: {exc}"
            if status != "complete":
                failed += 1
                bar.write(f"boneabm: {runs[future].run_id} failed: {error}")
            bar.update()
            show()
