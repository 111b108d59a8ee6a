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
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from boneabm.config import Experiment
from boneabm.errors import UserError
from boneabm.files import claimed, make_directory, run_lock, write_atomically
from boneabm.output import partial_path
from boneabm.sweep.collect import collect, run_status
from boneabm.sweep.spec import Sweep
from boneabm.workers import WORKER_ENV, forking, interrupts_deferred, start_worker_server

MANIFEST = "sweep.json"
SWEEP_LOCK = ".sweep.lock"  # held by the process running a sweep into the directory


# ----------------------------------------------------------------------------------------------------------
# The sweep directory


def _manifest(sweep: Sweep) -> dict:
    return {"sweep": sweep.name, "file": str(sweep.path.resolve()), "seed": sweep.seed,
            "runs": [{"run_id": r.run_id, "seed": r.seed, "config_sha256": r.config_sha256} for r in sweep.runs]}


def recorded_seed(out: Path) -> int | None:
    """The sweep seed recorded in ``out/sweep.json``, if there is one (so a seedless sweep file resumes)."""
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError):
        return None


def differences(recorded: list[dict], now: list[dict]) -> list[str]:
    """What changed between two lists of runs (``run_id``, ``seed``, ``config_sha256``), one line each."""
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
    changed = differences(recorded["runs"], _manifest(sweep)["runs"])
    if changed:
        if recorded.get("seed") is not None and recorded["seed"] != sweep.seed:
            changed.insert(0, f"the sweep seed is {sweep.seed}, not the {recorded['seed']} it started with "
                              f"(--seed {recorded['seed']} continues it)")
        raise UserError(f"{sweep.path}: expands differently from the sweep that started {out} "
                        f"({recorded['file']}):\n  {shown_lines(changed)}\n"
                        "use a new --out for the changed sweep (nothing was run)")


def shown_lines(lines: list[str], most: int = 8) -> str:
    return "\n  ".join(lines[:most]) + (f"\n  ... and {len(lines) - most} more" if len(lines) > most else "")


def record_expansion(sweep: Sweep, out: Path) -> None:
    """Write ``sweep.json`` and ``runs.csv`` into ``out`` unless they are there (checked the same)."""
    if (out / MANIFEST).exists():
        return
    make_directory(out, exist_ok=True)
    # array tasks may race here, writing the same content: the manifest goes first
    write_atomically(out / MANIFEST, json.dumps(_manifest(sweep), indent=1) + "\n")
    write_atomically(out / "runs.csv", sweep.listing().to_csv(index=False))


# ----------------------------------------------------------------------------------------------------------
# One run: what a worker executes


def execute_run(experiment: Experiment, run_dir: str, fork_from: dict | None = None) -> tuple[str, str | None]:
    """Run one (validated) experiment into ``run_dir``, from the start or (``fork_from``: a fork's record, as
    ``continuation.plan_fork`` gives it) from a checkpoint; return ``("complete", None)`` or ``("failed", error)``.

    Everything a run can raise is caught here, so a failure is a result, never a lost worker."""
    from boneabm import state
    from boneabm.continuation import continue_fork
    from boneabm.runner import RunFailed, execute

    path = Path(run_dir)
    partial = partial_path(path)
    try:
        # the run is this process's while it lasts: an array task started twice, or two sweeps, cannot both
        # write it (and a .partial left by a process that died is free to be redone)
        with claimed(run_lock(path), f"run {path}"):
            if partial.is_dir():  # an earlier attempt: failed, interrupted, or its worker died
                shutil.rmtree(partial)
            if fork_from is None:
                execute(experiment, path, command=["boneabm", "sweep"])
            else:
                continue_fork(state.load(fork_from["checkpoint"]), experiment, fork_from, path,
                              command=["boneabm", "sweep"])
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
    status, error = execute_run(run.experiment, str(out / run.run_id), run.fork_from)
    print(f"boneabm: {run.run_id}: {status}" + (f" ({error})" if error else ""), file=sys.stderr)
    return status


# ----------------------------------------------------------------------------------------------------------
# Many runs on dask.distributed

DEFAULT_WORKER_TIMEOUT_S = 600.0


class ClusterUnusable(UserError):
    """The batch system refused the workers' jobs, or no worker joined in time: bad cluster configuration."""


def _submission_error(exc: BaseException, command: str, kind: str) -> str:
    """The batch system's own words for a failed submission (the command's standard error, or that it is not
    there), and what to look at."""
    if isinstance(exc, FileNotFoundError):
        return (f"{command}: command not found\nrun the sweep where the batch system's commands are on PATH "
                "(a login node)")
    text = str(exc)
    stderr = text.partition("\nstderr:\n")[2].strip()  # dask-jobqueue's _call puts the command's stderr last
    return (f"{stderr or text.strip()}\ncheck jobqueue.{kind} in your Dask configuration (queue, account, memory, "
            "walltime; see the README's Sweeps section)")


def _recording_submissions(job_class):
    """``job_class`` (dask-jobqueue's SLURMJob or PBSJob) whose failed submissions are recorded in the class's
    ``failures`` list for the sweep to report, rather than raised into the cluster's event loop, where
    distributed only logs them and waits for the missing worker forever."""
    from distributed.core import Status

    class RecordingJob(job_class):
        failures: list[str] = []  # a new class, and list, per cluster

        async def start(self):
            try:
                await super().start()
            except Exception as exc:  # noqa: BLE001 - any failure to submit: sbatch missing, refused, unparsable
                type(self).failures.append(_submission_error(exc, self.submit_command, self.config_name))
                # raising would only have distributed log a traceback; the sweep sees the failure and closes
                # the cluster, so the job counts as started (and, with no job id, has nothing to cancel)
                self.status = Status.running

    RecordingJob.__name__ = RecordingJob.__qualname__ = f"Recording{job_class.__name__}"
    return RecordingJob


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
    return cluster_class(processes=cores, job_script_prologue=[*prologue, "export NUMBA_NUM_THREADS=1"],
                         job_cls=_recording_submissions(cluster_class.job_cls))


def _client(workers: int | None, scheduler: str | None, cluster_kind: str | None, n_runs: int):
    import dask
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
    # workers forked from a server that has boneabm imported, ignoring SIGINT (boneabm.workers); dashboard off;
    # the scheduler's small HTTP server (health checks) on a free loopback port, not 8787, so two sweeps on one
    # machine do not collide; no statistical profiler in the workers (every 10 ms it walked the stacks of the
    # running task, for a dashboard this cluster does not show: ~10 % of a run's time); the event loop's health
    # check, the system monitor and the memory monitor once a second at most, not every 20, 500 and 100 ms (each
    # wakes the worker's event loop, which takes the GIL from the run: together ≈ 5 % of a run's time; a run's
    # memory grows over seconds, and the memory limits are still checked every second); the cluster's own logs
    # only if critical: a run's failure comes back as its result, and a worker whose heartbeat finds the scheduler
    # gone while a Ctrl-C stops them both logged an ERROR traceback (a race the suite met once in several runs)
    start_worker_server()
    cluster = None
    try:
        with interrupts_deferred(), dask.config.set({
                "distributed.worker.multiprocessing-method": "forkserver" if forking() else "spawn",
                "distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "1s",
                "distributed.worker.memory.monitor-interval": "1s"}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                   silence_logs=logging.CRITICAL, env=WORKER_ENV)
    except KeyboardInterrupt:  # held while the cluster started: it stops whole, then the interrupt goes on
        if cluster is not None:
            cluster.close()
        raise
    return Client(cluster), cluster


class DaskRuns:
    """Runs experiments into their run directories on dask.distributed: a local cluster of ``workers``
    single-threaded processes (default), a running ``scheduler``, or Slurm/PBS jobs (``cluster``).

    A context manager: entering connects (bad --scheduler or --cluster: ``UserError``, nothing started),
    leaving closes the client and any cluster it started, whatever happened. ``run`` raises
    ``ClusterUnusable`` when the batch system refuses a job or no worker joins within ``worker_timeout``
    seconds (None or 0: wait indefinitely; a local cluster always has its workers)."""

    def __init__(self, workers: int | None, scheduler: str | None = None, cluster: str | None = None,
                 n_runs: int = 1, worker_timeout: float | None = DEFAULT_WORKER_TIMEOUT_S):
        self.where = f"--scheduler {scheduler}" if scheduler else f"--cluster {cluster}" if cluster else None
        self.worker_timeout = worker_timeout if self.where else None
        self.client, self.cluster = _client(workers, scheduler, cluster, n_runs)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def _problem(self, idle_since: float) -> str | None:
        """Why the runs cannot go on: a refused job submission, or no worker for too long."""
        failures = getattr(getattr(self.cluster, "job_cls", None), "failures", None)
        if failures:
            return f"{self.where}: the workers' job could not be submitted: {failures[0]}"
        if self.worker_timeout and time.monotonic() - idle_since > self.worker_timeout:
            hint = ("jobs were submitted but none started a Dask worker: see them with squeue or qstat and their "
                    "output (jobqueue log-directory)" if self.cluster is not None else
                    "start workers with: dask worker ADDRESS --nthreads 1")
            return (f"{self.where}: no Dask worker joined within --worker-timeout {self.worker_timeout:g} s; "
                    f"{hint}; a busy queue may need a longer --worker-timeout (0 waits indefinitely)")
        return None

    def run(self, tasks: list[tuple], *, progress: bool = False,
            label: Callable[[Path], str] = lambda path: path.name) -> dict[Path, tuple[str, str | None]]:
        """Run every (run_dir, experiment[, fork record]) and follow them as they finish, with a progress bar
        (runs done, failed and running, time left) and one line per failure; return each run directory's
        status and error."""
        from distributed import wait

        client = self.client
        futures = {client.submit(execute_run, experiment, str(run_dir), *fork_from, pure=False,
                                 key=f"boneabm-{label(run_dir)}-{experiment.seed}"): run_dir
                   for run_dir, experiment, *fork_from in tasks}
        results: dict[Path, tuple[str, str | None]] = {}
        failed, pending, idle_since = 0, set(futures), time.monotonic()
        with tqdm(total=len(tasks), unit="run", file=sys.stderr, disable=not progress, smoothing=0.1,
                  bar_format="{l_bar}{bar}| {n}/{total} runs [{elapsed}<{remaining}]{postfix}") as bar:
            while pending:
                try:
                    done, pending = wait(pending, timeout=1, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                for future in done:
                    try:
                        status, error = future.result()
                    except Exception as exc:  # noqa: BLE001 - KilledWorker: the run failed, the others go on
                        status, error = "failed", f"{type(exc).__name__}: {exc}"
                    results[futures[future]] = status, error
                    if status != "complete":
                        failed += 1
                        bar.write(f"boneabm: {label(futures[future])} failed: {error}")
                    bar.update()
                # workers of an adaptive cluster come and go: count them each time
                threads = sum(client.nthreads().values()) if progress or self.worker_timeout else 0
                if threads or not pending:
                    idle_since = time.monotonic()
                problem = self._problem(idle_since)
                if problem:
                    raise ClusterUnusable(problem)
                bar.set_postfix_str(f"done {bar.n - failed}, failed {failed}, "
                                    f"running {min(threads, len(tasks) - bar.n)}", refresh=False)
        return results


def run_sweep(sweep: Sweep, out: Path, *, workers: int | None, scheduler: str | None = None,
              cluster: str | None = None, resume: bool = False, progress: bool = False,
              worker_timeout: float | None = DEFAULT_WORKER_TIMEOUT_S) -> dict[str, int]:
    """Run every run not yet complete in ``out`` on a Dask cluster, then collect the tables; return how many
    runs ended in each status."""
    out = out.resolve()  # workers elsewhere need the path as the shared file system names it
    if out.exists() and not resume:
        raise UserError(f"--out {out}: already exists; use --resume to finish that sweep, or a new --out")
    before = set(out.iterdir()) if out.is_dir() else None
    make_directory(out, exist_ok=True)
    # claimed before anything is read or written: of two sweeps (or resumes) into one --out, one runs and the
    # other is refused, even when they start together; a process that could not claim it touches nothing
    with claimed(out / SWEEP_LOCK, f"--out {out}"):
        try:
            if not resume and any(path.name != SWEEP_LOCK for path in out.iterdir()):
                raise UserError(f"--out {out}: another sweep wrote there since this one started; use --resume to "
                                "finish that sweep, or a new --out")
            return _run_claimed_sweep(sweep, out, before, workers, scheduler, cluster, progress, worker_timeout)
        except UserError:
            if before is None and all(path.name == SWEEP_LOCK for path in out.iterdir()):
                shutil.rmtree(out)  # refused before any run, in a directory this sweep made: leave nothing
            raise


def _run_claimed_sweep(sweep: Sweep, out: Path, before: set[Path] | None, workers, scheduler, cluster, progress,
                       worker_timeout) -> dict[str, int]:
    check_directory(sweep, out)
    todo = [run for run in sweep.runs if run_status(out, run.run_id)[0] != "complete"]
    skipped = len(sweep.runs) - len(todo)
    if skipped:
        print(f"boneabm: {skipped} of {len(sweep.runs)} runs already complete; running {len(todo)}", file=sys.stderr)
    if todo:
        try:
            # bad --cluster/--scheduler: refused here, nothing written
            with DaskRuns(workers, scheduler, cluster, len(todo), worker_timeout) as runs:
                record_expansion(sweep, out)
                runs.run([(out / run.run_id, run.experiment, run.fork_from) for run in todo], progress=progress)
        except ClusterUnusable as exc:
            raise ClusterUnusable(f"{exc}\n{_undo_if_nothing_ran(out, before)}") from None
    return collect(sweep, out)


def _undo_if_nothing_ran(out: Path, before: set[Path] | None) -> str:
    """Remove what this sweep added to ``out`` (its manifest and listing; ``out`` itself if it made it) when no
    run began there, so a refused cluster leaves nothing behind; otherwise keep everything, resumable."""
    added = (set(out.iterdir()) if out.is_dir() else set()) - (before or set())
    if any(path.name not in (MANIFEST, "runs.csv", SWEEP_LOCK) for path in added):
        return f"the runs in {out} stay as they are; --resume finishes the sweep"
    for path in added:
        if path.name != SWEEP_LOCK:  # held until the sweep ends; run_sweep removes a directory it made
            path.unlink()
    if before is None:
        return "no run started; nothing was written"
    return f"no run started; {out} is as it was (--resume continues it)"
