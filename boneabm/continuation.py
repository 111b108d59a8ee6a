"""Continuing from a checkpoint: ``resume`` finishes a stopped run in its own directory, ``fork`` starts a new
run from a checkpoint's state with settings that may change mid-run."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

import yaml

from boneabm import state
from boneabm.config import Experiment, validate
from boneabm.errors import UserError
from boneabm.files import claimed, run_lock
from boneabm.model import BoneModel
from boneabm.output import (PARTIAL_SUFFIX, Recorder, RunDirectory, default_run_dir, partial_path, read_metadata,
                            truncate_tables)
from boneabm.runner import Checkpointing, checkpoints_in, drive
from boneabm.signaling.network import load_network, network_path, with_outputs
from boneabm.yamlio import apply_overrides


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
    # two resumes of one run started together would both pass the liveness check below: the claim decides
    with claimed(run_lock(final), f"run {final}"):
        return _resume_claimed(partial, final, progress, command)


def _resume_claimed(partial: Path, final: Path, progress: bool, command: list[str] | None) -> Path:
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
    _same_network(saved, partial / "network.yaml", found[-1], experiment)
    checkpointing = Checkpointing(**metadata["checkpoints"]) if metadata.get("checkpoints") else None
    directory = RunDirectory.reopen(partial, final, command, resumed_from=str(found[-1]),
                                    resumed_at_h=saved.time_h)

    def start():
        truncate_tables(partial, saved.time_h)
        model = BoneModel.from_state(saved, experiment)
        return model, Recorder(partial, model.network, "csv", append=True)

    return drive(directory, start, progress, False, checkpointing)


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


def _same_network(saved: state.ModelState, network_file: Path, checkpoint: Path,
                  experiment: Experiment) -> None:
    network = with_outputs(load_network(network_file), experiment.signaling.observables,
                           experiment.signaling.counters)
    digest = state.spec_digest(network.spec.model_dump(mode="json"))
    if digest != saved.meta["networks"]["osteoclast"]["digest"]:
        raise state.CheckpointError(f"checkpoint {checkpoint}: written with a different network than "
                                    f"{network_file} (changed since?); nothing was written")


# ------------------------------------------------------------------------------------------------- fork
# What may change when a run is forked from a checkpoint: what happens from now on. Everything else (the
# domain, the tick, the network, the cells' and fields' parameters) shaped the state being continued.
FORKABLE = ("name", "time.duration_h", "time.record_every_h", "time.snapshot_every_h", "time.spatial_every_h",
            "doses", "medium.mcsf_ng_ml", "medium.rankl_ng_ml", "medium.opg_ng_ml", "medium.change_every_h",
            "signaling.knockouts", "signaling.inhibitors", "signaling.clamps", "signaling.pulses",
            "signaling.itam_ligand", "osteocytes.strain_microstrain",
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
    _same_network(saved, network_path(parent.signaling.network), checkpoint, parent)
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
        model = BoneModel.from_state(saved, experiment)
        directory.write_inputs(experiment, model.network)
        if experiment.seed != record["parent_seed"]:  # new streams: the fork's own future
            model.reseed(experiment.seed)
        return model, Recorder(directory.path, model.network, experiment.output.format)

    return drive(directory, start, progress, True, checkpointing)
