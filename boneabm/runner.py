"""Running one experiment into its run directory: the loop, the recording cadence, progress, and how a run
ends (complete, failed or interrupted)."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from tqdm import tqdm

from boneabm.config import Experiment
from boneabm.model import BoneModel
from boneabm.output import Recorder, RunDirectory, default_run_dir


class RunFailed(Exception):
    """The simulation raised; its directory stays at ``DIR.partial`` with the error in metadata.json."""

    def __init__(self, partial_dir: Path, error: BaseException):
        super().__init__(f"run failed ({type(error).__name__}: {error}); see {partial_dir / 'metadata.json'}")
        self.partial_dir = partial_dir


def run_to_end(model: BoneModel, recorder: Recorder, progress: bool = False) -> None:
    """Advance ``model`` to the end of its experiment, recording at t = 0, on the configured cadence and at
    the end."""
    time = model.experiment.time
    recorder.record(model)
    recorder.snapshot(model)
    bar = tqdm(total=time.duration_h, unit="sim h", file=sys.stderr, delay=2.0, disable=not progress,
               bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} sim h [{elapsed}<{remaining}, {rate_fmt}]")
    with bar:
        for tick in range(1, time.n_ticks + 1):
            model.step()
            recorder.take_events(model)
            if tick % time.record_every_ticks == 0 or tick == time.n_ticks:
                recorder.record(model)
            if tick % time.snapshot_every_ticks == 0 or tick == time.n_ticks:
                recorder.snapshot(model)
            bar.update(model.dt_h)
    recorder.finish(model)


def execute(experiment: Experiment, out: Path | None = None, progress: bool = False,
            command: list[str] | None = None) -> Path:
    """Run ``experiment`` (seed fixed) into ``out`` (or the default run directory); return the final path.

    Raises ``UserError`` before writing anything if ``out`` exists, ``RunFailed`` if the simulation raised,
    and lets ``KeyboardInterrupt`` through after recording it.
    """
    directory = RunDirectory(Path(out) if out is not None else default_run_dir(experiment), experiment, command)
    recorder = None
    try:
        directory.write_inputs(experiment)
        model = BoneModel(experiment)
        recorder = Recorder(directory.path, model.network, experiment.output.format)
        run_to_end(model, recorder, progress)
    except KeyboardInterrupt:
        _close_quietly(recorder)
        directory.fail("interrupted", "interrupted by the user (SIGINT) or a termination signal")
        raise
    except Exception as exc:
        _close_quietly(recorder)
        directory.fail("failed", "".join(traceback.format_exception(exc)))
        raise RunFailed(directory.path, exc) from exc
    return directory.complete(n_ticks=experiment.time.n_ticks, final_cells=model.population.n_alive,
                              ssa=ssa_summary(model), uptake=uptake_summary(model.fields))


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
