"""Running one experiment into its run directory: the loop, the recording cadence, progress, and how a run
ends (complete, failed or interrupted)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from boneabm import state
from boneabm.config import Experiment, _ticks, apply_overrides, validate
from boneabm.errors import UserError
from boneabm.model import BoneModel
from boneabm.output import (PARTIAL_SUFFIX, Recorder, RunDirectory, default_run_dir, partial_path, read_metadata,
                            truncate_tables)
from boneabm.signaling.network import load_network, network_path


class RunFailed(Exception):
    """The simulation raised; its directory stays at ``DIR.partial`` with the error in metadata.json."""

    def __init__(self, partial_dir: Path, error: BaseException):
        super().__init__(f"run failed ({type(error).__name__}: {error}); see {partial_dir / 'metadata.json'}")
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
        if not self.every_h > 0 or _ticks(self.every_h, time.dt_h) is None:
            raise UserError(f"--checkpoint-every {self.every_h:g}: not a positive whole number of ticks "
                            f"(time.dt_h = {time.dt_h:g} h)")
        if _ticks(self.every_h, time.dt_h) % time.record_every_ticks:
            raise UserError(f"--checkpoint-every {self.every_h:g}: must be a multiple of time.record_every_h = "
                            f"{time.record_every_h:g} h, so that a checkpoint falls on a recorded row")
        if self.keep is not None and self.keep < 1:
            raise UserError(f"--keep {self.keep}: keep at least 1 checkpoint")

    def as_metadata(self) -> dict:
        return {"every_h": self.every_h, "keep": self.keep}


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
        directory.write_inputs(experiment)
        model = BoneModel(experiment)
        return model, Recorder(directory.path, model.network, experiment.output.format)

    return _drive(directory, start, progress, True, checkpointing)


def _drive(directory: RunDirectory, start, progress: bool, record_start: bool,
           checkpointing: Checkpointing | None) -> Path:
    """Build the model and recorder with ``start()`` and run to the end; a failure or an interruption is
    recorded in the directory, which stays at ``DIR.partial``."""
    recorder = None
    try:
        model, recorder = start()
        run_to_end(model, recorder, progress, record_start, checkpointing)
    except KeyboardInterrupt:
        _close_quietly(recorder)
        directory.fail("interrupted", "interrupted by the user (SIGINT) or a termination signal")
        raise
    except Exception as exc:
        _close_quietly(recorder)
        directory.fail("failed", "".join(traceback.format_exception(exc)))
        raise RunFailed(directory.path, exc) from exc
    return directory.complete(n_ticks=model.experiment.time.n_ticks, final_cells=model.population.n_alive,
                              ssa=ssa_summary(model), uptake=uptake_summary(model.fields))


# ------------------------------------------------------------------------------------------------- resume
def resume(run_dir: Path, progress: bool = False, command: list[str] | None = None) -> Path:
    """Continue a run that was killed, failed or interrupted, from its last checkpoint, into the same
    directory: rows recorded after the checkpoint are dropped and written again, so the finished tables are
    those of an uninterrupted run. Returns the final path."""
    run_dir = Path(run_dir)
    partial = run_dir if run_dir.name.endswith(PARTIAL_SUFFIX) else partial_path(run_dir)
    final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))
    if not partial.is_dir():
        if final.is_dir():
            raise UserError(f"{final}: the run is complete; nothing to resume (boneabm fork one of its "
                            f"checkpoints to go on with other settings or a longer duration)")
        raise UserError(f"{run_dir}: no such run directory (nor {partial})")
    metadata = read_metadata(partial)
    if metadata.get("status") == "running" and _alive_here(metadata):
        raise UserError(f"{partial}: still running (process {metadata['pid']} on {metadata['host']}); resume "
                        "a run only once it has stopped")
    fmt = yaml.safe_load((partial / "config.yaml").read_text(encoding="utf-8")).get("output", {}).get("format")
    if fmt == "parquet":
        raise UserError(f"{partial}: written as parquet, which a killed run leaves unreadable; runs to be "
                        "resumed need output.format: csv")
    found = checkpoints_in(partial)
    if not found:
        raise UserError(f"{partial}: no checkpoint to resume from (start runs with --checkpoint-every HOURS)")
    saved = state.load(found[-1])
    experiment = validate(saved.meta["experiment"], str(found[-1]))
    _same_network(saved, partial / "network.yaml", found[-1])
    checkpointing = Checkpointing(**metadata["checkpoints"]) if metadata.get("checkpoints") else None
    directory = RunDirectory.reopen(partial, final, command, resumed_from=str(found[-1]),
                                    resumed_at_h=saved.time_h)

    def start():
        truncate_tables(partial, saved.time_h)
        model = BoneModel.from_state(saved, experiment)
        return model, Recorder(partial, model.network, "csv", append=True)

    return _drive(directory, start, progress, False, checkpointing)


def _alive_here(metadata: dict) -> bool:
    """Whether the process that wrote ``metadata`` runs on this host still."""
    if metadata.get("host") != platform.node() or not metadata.get("pid"):
        return False
    try:
        os.kill(int(metadata["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return int(metadata["pid"]) != os.getpid()


def _same_network(saved: state.ModelState, network_file: Path, checkpoint: Path) -> None:
    network = load_network(network_file)
    digest = state.spec_digest(network.spec.model_dump(mode="json"))
    if digest != saved.meta["networks"]["osteoclast"]["digest"]:
        raise state.CheckpointError(f"checkpoint {checkpoint}: written with a different network than "
                                    f"{network_file} (changed since?); nothing was written")


# ------------------------------------------------------------------------------------------------- fork
# What may change when a run is forked from a checkpoint: what happens from now on. Everything else (the
# domain, the tick, the network, the cells' and fields' parameters) shaped the state being continued.
FORKABLE = ("name", "time.duration_h", "time.record_every_h", "time.snapshot_every_h", "doses",
            "medium.mcsf_ng_ml", "medium.rankl_ng_ml", "medium.opg_ng_ml", "medium.change_every_h",
            "signaling.knockouts", "signaling.inhibitors", "signaling.clamps", "signaling.itam_ligand",
            "output.format")


def _flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def fork_seed(parent_seed: int, changes: dict) -> int:
    """The seed of a fork given none: the parent's when nothing changes (the fork continues the parent
    exactly), else a hash of the parent's seed and the changes (stable across machines and versions)."""
    if not changes:
        return parent_seed
    text = f"{parent_seed}:{json.dumps(changes, sort_keys=True, default=str)}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) % 2**62


def plan_fork(checkpoint: Path, overrides: list[str] | tuple[str, ...] = (), seed: int | None = None,
              saved: state.ModelState | None = None) -> tuple[state.ModelState, Experiment, dict]:
    """Read ``checkpoint`` (unless ``saved`` holds it already) and the fork's experiment; refuse a change that
    cannot happen mid-run. Returns the state, the experiment (seed fixed) and what the fork's metadata
    records."""
    saved = saved or state.load(checkpoint)
    parent = validate(saved.meta["experiment"], str(checkpoint))
    # the fork runs the checkpoint's network and its directory holds the file named by the config: they must agree
    _same_network(saved, network_path(parent.signaling.network), checkpoint)
    data = apply_overrides(parent.to_dict(), overrides)
    data.pop("seed", None)
    before, after = _flat({k: v for k, v in parent.to_dict().items() if k != "seed"}), _flat(data)
    changes = {key: after.get(key) for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}
    refused = [key for key in changes if not any(key == f or key.startswith(f + ".") for f in FORKABLE)]
    if refused:
        raise UserError(f"fork {checkpoint}: {', '.join(f'{k} = {changes[k]!r}' for k in refused)}: cannot change "
                        f"mid-run (it shaped the state being continued); a fork may change {', '.join(FORKABLE)}")
    experiment = validate({**data, "seed": seed if seed is not None else fork_seed(parent.seed, changes)},
                          "fork")
    if experiment.time.duration_h <= saved.time_h + experiment.time.dt_h / 2:
        raise UserError(f"fork {checkpoint}: time.duration_h = {experiment.time.duration_h:g} must be later than "
                        f"the checkpoint's time, {saved.time_h:g} h")
    source = ("--seed" if seed is not None else "the parent's (no changes)" if not changes
              else "derived from the parent's seed and the changes")
    record = {"checkpoint": str(Path(checkpoint).resolve()), "time_h": saved.time_h, "parent_seed": parent.seed,
              "changes": changes, "seed": experiment.seed, "seed_source": source}
    return saved, experiment, record


def fork(checkpoint: Path, overrides: list[str] | tuple[str, ...] = (), seed: int | None = None,
         out: Path | None = None, progress: bool = False, command: list[str] | None = None,
         checkpointing: Checkpointing | None = None) -> Path:
    """Start a new run from ``checkpoint`` with ``overrides`` applied; its tables start with the state at the
    checkpoint's time. Returns the final path."""
    saved, experiment, record = plan_fork(checkpoint, overrides, seed)
    return continue_fork(saved, experiment, record, out, progress, command, checkpointing)


def continue_fork(saved: state.ModelState, experiment: Experiment, record: dict, out: Path | None = None,
                  progress: bool = False, command: list[str] | None = None,
                  checkpointing: Checkpointing | None = None) -> Path:
    """Run a fork that ``plan_fork`` planned into ``out``; returns the final path."""
    if checkpointing is not None:
        checkpointing.validate(experiment)
    directory = RunDirectory(Path(out) if out is not None else default_run_dir(experiment), experiment, command)
    directory.note(forked_from=record, **({"checkpoints": checkpointing.as_metadata()} if checkpointing else {}))

    def start():
        directory.write_inputs(experiment)
        model = BoneModel.from_state(saved, experiment)
        if experiment.seed != record["parent_seed"]:  # new streams: the fork's own future
            model.reseed(experiment.seed)
        return model, Recorder(directory.path, model.network, experiment.output.format)

    return _drive(directory, start, progress, True, checkpointing)


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
