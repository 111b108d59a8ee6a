"""Running one experiment into its run directory: the loop, the recording and checkpoint cadence, progress,
and how a run ends (complete, failed or interrupted). Continuing from a checkpoint is ``continuation.py``."""

from __future__ import annotations

import math
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from boneabm import state
from boneabm.config import Experiment, _ticks
from boneabm.errors import UserError
from boneabm.files import cannot_write, write_failure
from boneabm.model import BoneModel
from boneabm.output import Recorder, RunDirectory, default_run_dir


class RunFailed(Exception):
    """The simulation raised; its directory stays at ``DIR.partial`` with the error in metadata.json (when it
    could still be written)."""

    def __init__(self, partial_dir: Path, error: BaseException, recorded: bool = True):
        where = (f"see {partial_dir / 'metadata.json'}" if recorded else
                 f"{partial_dir} stays as it was, unfinished: its metadata.json could not record this either")
        if cannot_write(error):
            text = f"run failed: {write_failure(error)}; {where}"
        else:
            text = f"run failed ({type(error).__name__}: {error}); {where}"
        super().__init__(text)
        self.partial_dir = partial_dir



CHECKPOINTS = "checkpoints"  # the folder of a run directory holding its checkpoints


@dataclass(frozen=True)
class Checkpointing:
    """Checkpoints every ``every_h`` of simulated time (and at the end), keeping the newest ``keep`` (all if
    None), in ``RUN_DIR/checkpoints/``."""

    every_h: float
    keep: int | None = None

    def validate(self, experiment: Experiment) -> None:
        """A checkpoint falls on a recording: what was recorded before it is exactly what precedes it."""
        time = experiment.time
        if not 0 < self.every_h < math.inf or _ticks(self.every_h, time.dt_h) is None:
            raise UserError(f"--checkpoint-every {self.every_h:g}: not a positive whole number of ticks "
                            f"(time.dt_h = {time.dt_h:g} h)")
        if _ticks(self.every_h, time.dt_h) % time.record_every_ticks:
            raise UserError(f"--checkpoint-every {self.every_h:g}: must be a multiple of time.record_every_h = "
                            f"{time.record_every_h:g} h, so that a checkpoint falls on a recorded row")
        if self.keep is not None and self.keep < 1:
            raise UserError(f"--keep {self.keep}: keep at least 1 checkpoint")

    def as_metadata(self) -> dict:
        return {"every_h": self.every_h, "keep": self.keep}


def checkpointing(every_h: float | None, keep: int | None = None) -> Checkpointing | None:
    """What ``--checkpoint-every`` and ``--keep`` (or the API's ``checkpoint_every_h`` and ``keep``) ask for."""
    if every_h is None:
        if keep is not None:
            raise UserError("--keep needs --checkpoint-every HOURS")
        return None
    return Checkpointing(every_h, keep)


def checkpoint_path(run_dir: Path, time_h: float) -> Path:
    """``RUN_DIR/checkpoints/checkpoint-000024.000h.npz``: names sort as times do."""
    return run_dir / CHECKPOINTS / f"checkpoint-{time_h:010.3f}h.npz"


def checkpoints_in(run_dir: Path) -> list[Path]:
    """A run's checkpoints, oldest first."""
    folder = run_dir / CHECKPOINTS
    return sorted(folder.glob("checkpoint-*h.npz")) if folder.is_dir() else []


def _write_checkpoint(model: BoneModel, run_dir: Path, checkpointing: Checkpointing) -> None:
    path = checkpoint_path(run_dir, model.time_h)
    path.parent.mkdir(exist_ok=True)
    state.save(model.state(), path)
    if checkpointing.keep is not None:
        for old in checkpoints_in(run_dir)[: -checkpointing.keep]:
            old.unlink()


def run_to_end(model: BoneModel, recorder: Recorder, progress: bool = False, record_start: bool = True,
               checkpointing: Checkpointing | None = None) -> None:
    """Advance ``model`` from where it stands to the end of its experiment, recording at the start (unless
    ``record_start`` is False: a resumed run recorded it before), on the configured cadence and at the end,
    and writing checkpoints into the recorder's directory."""
    time = model.experiment.time
    if record_start:
        recorder.record(model)
        recorder.snapshot(model)
        recorder.spatial(model)
    checkpoint_ticks = checkpointing and _ticks(checkpointing.every_h, time.dt_h)
    bar = tqdm(total=time.duration_h, initial=model.time_h, unit="sim h", file=sys.stderr, delay=2.0,
               disable=not progress,
               bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} sim h [{elapsed}<{remaining}, {rate_fmt}]")
    with bar:
        for tick in range(model.steps + 1, time.n_ticks + 1):
            model.step()
            recorder.take_events(model)
            if tick % time.record_every_ticks == 0 or tick == time.n_ticks:
                recorder.record(model)
            if tick % time.snapshot_every_ticks == 0 or tick == time.n_ticks:
                recorder.snapshot(model)
            if tick % time.spatial_every_ticks == 0 or tick == time.n_ticks:
                recorder.spatial(model)
            if checkpoint_ticks and (tick % checkpoint_ticks == 0 or tick == time.n_ticks):
                _write_checkpoint(model, recorder.directory, checkpointing)
            bar.update(model.dt_h)
    recorder.finish(model)


def execute(experiment: Experiment, out: Path | None = None, progress: bool = False,
            command: list[str] | None = None, checkpointing: Checkpointing | None = None) -> Path:
    """Run ``experiment`` (seed fixed) into ``out`` (or the default run directory); return the final path.

    Raises ``UserError`` before writing anything if ``out`` exists or the checkpointing does not fit the
    experiment, ``RunFailed`` if the simulation raised, and lets ``KeyboardInterrupt`` through after recording
    it.
    """
    if checkpointing is not None:
        checkpointing.validate(experiment)
    directory = RunDirectory(Path(out) if out is not None else default_run_dir(experiment), experiment, command)
    if checkpointing is not None:
        directory.note(checkpoints=checkpointing.as_metadata())

    def start():
        model = BoneModel(experiment)
        directory.write_inputs(experiment, model.network)
        return model, Recorder(directory.path, model.network, experiment.output.format)

    return drive(directory, start, progress, True, checkpointing)


def drive(directory: RunDirectory, start, progress: bool, record_start: bool,
           checkpointing: Checkpointing | None) -> Path:
    """Build the model and recorder with ``start()`` and run to the end; a failure or an interruption is
    recorded in the directory, which stays at ``DIR.partial``."""
    recorder = None
    try:
        model, recorder = start()
        run_to_end(model, recorder, progress, record_start, checkpointing)
    except KeyboardInterrupt:
        _close_quietly(recorder)
        _record(directory, "interrupted", "interrupted by the user (SIGINT) or a termination signal")
        raise
    except Exception as exc:
        _close_quietly(recorder)
        if _caused_by_interrupt(exc):
            _record(directory, "interrupted", "interrupted by the user (SIGINT) or a termination signal")
            raise KeyboardInterrupt from exc
        reason = (write_failure(exc) if cannot_write(exc)
                  else "".join(traceback.format_exception(exc)))
        raise RunFailed(directory.path, exc, _record(directory, "failed", reason)) from exc
    return directory.complete(n_ticks=model.experiment.time.n_ticks, final_cells=model.population.n_alive,
                              ssa=ssa_summary(model), uptake=uptake_summary(model.fields))


def _record(directory: RunDirectory, status: str, reason: str) -> bool:
    """Record how the run ended in its metadata, if the disk still takes it (a full disk may not)."""
    try:
        directory.fail(status, reason)
    except OSError:
        return False
    return True


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Whether a Ctrl-C or SIGTERM surfaced as another exception: one arriving inside numba's loading of a
    cached kernel comes out as a SystemError whose context is the KeyboardInterrupt."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


UPTAKE_NOTE = (
    "Molecules the cells' networks took up, net of what they released, per factor (net_molecules). A site's "
    "fluid layer holds only a few molecules (about 3 of M-CSF at 30 ng/mL) while its cell takes up tens per "
    "tick: in culture, exchange with the medium refills the layer within seconds. The fields empty a dry site "
    "and count what it lacked as shortfall_molecules: molecules the networks consumed that the fields did not "
    "supply (neither taken from the medium nor from neighbours). In culture it is a small fraction of the "
    "medium's content per feed; in tissue mode a large shortfall means uptake outran local supply within a "
    "tick (shorten time.dt_h).")


def uptake_summary(fields) -> dict:
    """Where the cells' uptake came from, per factor that any cell took up or released."""
    names = [name for name, net in fields.net_uptake_molecules.items() if net != 0 or
             fields.uptake_shortfall_molecules[name] != 0]
    return {"note": UPTAKE_NOTE, **{name: {
        "net_molecules": round(fields.net_uptake_molecules[name], 3),
        "shortfall_molecules": round(fields.uptake_shortfall_molecules[name], 3)} for name in names}}


def _close_quietly(recorder: Recorder | None) -> None:
    """Close what a stopped run wrote (a parquet table is readable only once closed); the run's own error is
    what gets reported."""
    if recorder is not None:
        try:
            recorder.close()
        except Exception:  # noqa: BLE001 - the run's own error is the one to report
            pass


def ssa_summary(model: BoneModel, top: int = 8) -> dict:
    """Signaling cost: events in all, per cell-hour, and the reactions that fired most."""
    by_reaction = sorted(zip(model.network.reactions, model.ssa_events_by_reaction.tolist()), key=lambda kv: -kv[1])
    return {
        "events_total": model.ssa_events_total,
        "cell_hours": round(model.cell_hours, 3),
        "events_per_cell_hour": round(model.ssa_events_total / model.cell_hours, 3) if model.cell_hours else None,
        "top_reactions": dict(by_reaction[:top]),
    }
