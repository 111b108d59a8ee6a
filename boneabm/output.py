"""The run directory and what goes into it.

A run writes into ``DIR.partial/`` and is renamed to ``DIR`` only once complete, so a crashed or killed run
never looks finished. Tables are appended as the run goes (a long run can be watched), copied from the model's
arrays, never gathered agent by agent. Their columns, order and dtypes come from ``boneabm.columns``; a run's
``columns.csv`` says the same. As CSV, floats are written with 10 significant digits and always a decimal point
or an exponent (so they read back as floats whatever their values); as parquet, through one
``pyarrow.parquet.ParquetWriter`` per table. Either way the same config and seed give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import importlib.metadata
import io
import json
import operator
import os
import platform
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from boneabm.version import __version__
from boneabm import columns as registry
from boneabm.cells.osteoblast.lineage import COUNTS as OSTEOBLAST_COUNTS
from boneabm.config import Experiment
from boneabm.environment.fields import ANTIBODY_DA
from boneabm.units import MCSF_HOMODIMER_DA, OPG_DIMER_DA, RANKL_MONOMER_DA, nM_to_ng_ml
from boneabm.errors import UserError
from boneabm.files import make_directory, write_atomically
from boneabm.signaling.network import Network, is_sbml, load_network, network_path

SCHEMA_VERSION = 5  # 2: events' value split into nuclei, generation and age_h; columns.csv; parquet;
#                    3: osteoclast_days; 4: bmus; 5: reversal (bmus.reversal_h, bone.cement_um and resorbed_h, the
#                    timeseries' remnants_cleared_um3 and canopy_descended_total, the event descent)
PARTIAL_SUFFIX = ".partial"
FORMATS = ("csv", "parquet")
PARQUET_ROW_GROUP_ROWS = 65_536  # rows buffered before a row group is written (a whole snapshot stays one)
PARQUET_COMPRESSION = "zstd"


def float_text(value: float) -> str:
    """A float as CSV text: 10 significant digits, always with a decimal point or an exponent (``1.0``, not
    ``1``), so a column of whole numbers still reads back as floats."""
    text = "%.10g" % value
    return text if ("." in text or "e" in text or "n" in text) else text + ".0"


FLOAT_FORMAT = float_text  # pandas' to_csv(float_format=...)

FIELD_COLUMNS = {  # column -> (field species, molecular weight): means over the sites, what cells see
    "mcsf_ng_ml": (("mcsf",), MCSF_HOMODIMER_DA),
    "rankl_free_ng_ml": (("rankl",), RANKL_MONOMER_DA),
    "rankl_total_ng_ml": (("rankl", "rankl_opg", "rankl_antibody"), RANKL_MONOMER_DA),
    "opg_free_ng_ml": (("opg",), OPG_DIMER_DA),
    "antibody_free_ng_ml": (("antibody",), ANTIBODY_DA),
}


def _fixed(table: str) -> list[str]:
    return [c.name for c in registry.registry(table) if c.placeholder is None]


TIMESERIES_COLUMNS = _fixed("timeseries")  # then <counter>_total, <observable>_mean and <observable>_sd
CELLS_COLUMNS = _fixed("cells")  # then one column per network observable (molecules) and counter
EVENTS_COLUMNS = _fixed("events")
_EVENT_ORDER = operator.itemgetter(*(EVENTS_COLUMNS.index(name) for name in ("time_h", "cell_id", "event")))
OSTEOCLAST_COLUMNS = _fixed("osteoclasts")
OSTEOCLAST_DAY_COLUMNS = _fixed("osteoclast_days")
BMU_COLUMNS = _fixed("bmus")
BONE_CSV_COLUMNS = _fixed("bone")


def timeseries_columns(network) -> list[str]:
    return registry.names("timeseries", *registry.network_names(network))


def cells_columns(network) -> list[str]:
    return registry.names("cells", *registry.network_names(network))


_PACKAGES = ["mesa", "numpy", "numba", "llvmlite", "pandas", "scipy", "pydantic", "PyYAML", "tqdm", "matplotlib",
             "dask", "distributed"]


def read_metadata(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{run_dir}: not a readable boneabm run directory (metadata.json: {exc})") from None


def truncate_tables(run_dir: Path, time_h: float) -> None:
    """Drop the rows of the appended tables (timeseries, cells, events: CSV) recorded after ``time_h``, and a
    last line a kill cut short; what a run wrote up to its checkpoint stays byte for byte."""
    for table in ("timeseries", "cells", "events"):
        path = run_dir / f"{table}.csv"
        data = path.read_bytes()
        end = data.find(b"\n") + 1  # the header
        for line in data[end:].splitlines(keepends=True):
            if not line.endswith(b"\n") or float(line.split(b",", 1)[0]) > time_h + 1e-9:
                break
            end += len(line)
        if end < len(data):
            with open(path, "r+b") as handle:
                handle.truncate(end)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def partial_path(run_dir: Path) -> Path:
    return run_dir.with_name(run_dir.name + PARTIAL_SUFFIX)


def refuse_existing(run_dir: Path) -> None:
    """Nothing a user made is overwritten: refuse a run directory that exists, finished or not."""
    for path in (run_dir, partial_path(run_dir)):
        if path.exists():
            raise UserError(f"--out {run_dir}: {path} already exists; choose a new directory (nothing was written)")


def default_run_dir(experiment: Experiment, base: Path = Path("runs")) -> Path:
    """``runs/<name>/<UTC timestamp>-seed<N>``, with a numeric suffix if two runs start in the same second."""
    stem = f"{utc_now():%Y%m%dT%H%M%SZ}-seed{experiment.seed}"
    candidate, n = base / experiment.name / stem, 1
    while candidate.exists() or partial_path(candidate).exists():
        n += 1
        candidate = base / experiment.name / f"{stem}-{n}"
    return candidate


def _git_commit() -> str | None:
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def environment() -> dict:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    import numba

    # where and how the run ran: a sweep's runs spread over worker processes and hosts
    return {"python": sys.version.split()[0], "platform": platform.platform(), "host": platform.node(),
            "pid": os.getpid(), "numba_threads": numba.get_num_threads(), "packages": versions}


class RunDirectory:
    """Owns ``DIR.partial/`` while a run is under way and renames it to ``DIR`` when complete."""

    def __init__(self, run_dir: Path, experiment: Experiment, command: list[str] | None = None):
        refuse_existing(run_dir)
        self.final = run_dir
        self.path = partial_path(run_dir)
        make_directory(self.path)
        self.started = utc_now()
        self.metadata = {
            "schema_version": SCHEMA_VERSION,
            "boneabm_version": __version__,
            "git_commit": _git_commit(),
            "seed": experiment.seed,
            "experiment": experiment.name,
            "command": command,
            **environment(),
            "started_utc": self.started.isoformat(timespec="seconds"),
            "ended_utc": None,
            "wall_s": None,
            "status": "running",
            "error": None,
        }
        self._write_metadata()

    def write_inputs(self, experiment: Experiment, network: Network) -> None:
        """The resolved config, the network file the run used and the data dictionary of its tables (with the
        readouts the config adds to the network), so the directory alone describes the run (a ``.partial`` one
        too)."""
        (self.path / "config.yaml").write_text(experiment.to_yaml(), encoding="utf-8")
        source = network_path(experiment.signaling.network)
        if is_sbml(source):  # the network as read from SBML, in the YAML form a resume or fork reloads
            spec = load_network(source).spec.model_dump(mode="json", exclude_defaults=True)
            write_atomically(self.path / "network.yaml", f"# read from the SBML file {source.resolve()}\n"
                             + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        else:
            shutil.copyfile(source, self.path / "network.yaml")
        write_atomically(self.path / "columns.csv",
                         registry.dictionary(*registry.network_names(network)).to_csv(index=False))

    @classmethod
    def reopen(cls, partial: Path, final: Path, command: list[str] | None, **resume) -> "RunDirectory":
        """Own an unfinished run's directory again to continue it; its metadata records the resume."""
        directory = cls.__new__(cls)
        directory.final, directory.path = final, partial
        directory.metadata = read_metadata(partial)
        directory.started = utc_now()
        resumes = directory.metadata.get("resumes") or []
        here = environment()
        resumes.append({"started_utc": directory.started.isoformat(timespec="seconds"), "command": command,
                        "stopped_as": directory.metadata.get("status"), **resume, **here})
        # host and pid name the process writing the directory now (a second resume checks it has stopped)
        directory.metadata.update(status="running", error=None, ended_utc=None, resumes=resumes,
                                  host=here["host"], pid=here["pid"])
        directory._write_metadata()
        return directory

    def note(self, **items) -> None:
        """Add ``items`` to metadata.json now."""
        self.metadata.update(items)
        self._write_metadata()

    def _write_metadata(self) -> None:
        write_atomically(self.path / "metadata.json", json.dumps(self.metadata, indent=2) + "\n")

    def _finish(self, status: str, error: str | None = None, **extra) -> None:
        ended = utc_now()
        self.metadata.update(status=status, error=error, ended_utc=ended.isoformat(timespec="seconds"),
                             wall_s=round((ended - self.started).total_seconds(), 3), **extra)
        self._write_metadata()

    def complete(self, **extra) -> Path:
        self._finish("complete", **extra)
        os.rename(self.path, self.final)
        self.path = self.final
        return self.final

    def fail(self, status: str, error: str) -> None:
        """Record why the run stopped; the directory stays at ``DIR.partial``."""
        self._finish(status, error)


def _typed(frame: pd.DataFrame, columns: list[registry.Column]) -> pd.DataFrame:
    """``frame`` in the registry's column order and dtypes; a string a category does not list is a bug, never
    silently emptied."""
    frame = frame[[c.name for c in columns]]
    changes = {c.name: c.pandas_dtype for c in columns if frame[c.name].dtype != c.pandas_dtype}
    if changes:
        frame = frame.astype(changes)
    for c in columns:
        if c.dtype == "category" and (frame[c.name].cat.codes.to_numpy() < 0).any():
            raise ValueError(f"{c.table}.{c.name}: a value is not among the registry's categories "
                             f"{list(c.categories)} (boneabm/columns.py)")
    return frame


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _csv_format(column: registry.Column):
    """How ``append`` (pandas' ``to_csv`` after ``_typed``) writes one value of ``column``: floats through
    ``float_text``, integers as integers, a missing value empty, a category as its name (one the registry lists,
    or it is a bug)."""
    if column.dtype == "float64":
        return lambda value: "" if _missing(value) else float_text(float(value))
    if column.dtype == "int64":
        return lambda value: str(int(value))
    if column.dtype == "Int64":
        return lambda value: "" if _missing(value) else str(int(value))

    def category(value) -> str:
        if _missing(value):
            return ""
        if value not in column.categories:
            raise ValueError(f"{column.table}.{column.name}: {value!r} is not among the registry's categories "
                             f"{list(column.categories)} (boneabm/columns.py)")
        return str(value)
    return category


def _arrow_type(column: registry.Column):
    import pyarrow as pa

    return {"float64": pa.float64(), "int64": pa.int64(), "Int64": pa.int64(),
            "category": pa.dictionary(pa.int8(), pa.string())}[column.dtype]


class TableWriter:
    """Appends frames to one table of a run, as CSV (each append written at once, so a running or killed run
    can be read) or parquet (rows buffered into row groups of ``PARQUET_ROW_GROUP_ROWS``; the file is
    readable once closed: at the end, or when the run fails or is interrupted)."""

    def __init__(self, directory: Path, table: str, columns: list[registry.Column], fmt: str = "csv",
                 append: bool = False):
        if fmt not in FORMATS:
            raise ValueError(f"output format {fmt!r}: expected one of {', '.join(FORMATS)}")
        self.columns, self.format = columns, fmt
        self.path = directory / f"{table}.{fmt}"
        self._buffer: list[pd.DataFrame] = []
        self._buffered = 0
        self._writer = None
        if fmt == "csv":
            if not append:
                self.path.write_text(",".join(c.name for c in columns) + "\n", encoding="utf-8")
        elif append:
            raise ValueError("a parquet table cannot be appended to once closed")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema([pa.field(c.name, _arrow_type(c), nullable=True) for c in columns])
            self._writer = pq.ParquetWriter(self.path, self._schema, compression=PARQUET_COMPRESSION)

    def append(self, frame: pd.DataFrame) -> None:
        frame = _typed(frame, self.columns)
        if self.format == "csv":
            self._append_csv(frame)
            return
        self._buffer.append(frame)
        self._buffered += len(frame)
        if self._buffered >= PARQUET_ROW_GROUP_ROWS:
            self._flush()

    def append_rows(self, rows: list[tuple]) -> None:
        """Append rows given as tuples in the table's column order: the few rows a recording adds (a timeseries
        row, a tick's events). As CSV they are formatted one value at a time, exactly as ``append`` would write
        them: a one-row DataFrame cast to the registry's dtypes costs ~10 ms, ~15 % of the default assay."""
        if not rows:
            return
        if self.format != "csv":
            self.append(pd.DataFrame(rows, columns=[c.name for c in self.columns]))
            return
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(
                [text(value) for text, value in zip(self._formats, row)] for row in rows)

    def _append_csv(self, frame: pd.DataFrame) -> None:
        """``frame`` (typed) as CSV rows, byte for byte what pandas' ``to_csv`` writes with ``FLOAT_FORMAT``, each
        column's distinct values formatted once (``append_rows``' formats): pandas formatted every value, 0.24 s
        of the default assay for the 29,510 pixels of its bone table, whose coordinates and zeros repeat."""
        texts = []
        for text, (name, values) in zip(self._formats, frame.items()):
            # floats told apart by their bits: 0.0 and -0.0 are equal, but written apart
            keys = values.to_numpy().view(np.int64) if values.dtype == np.float64 else values
            codes, distinct = pd.factorize(keys, use_na_sentinel=False)
            if values.dtype == np.float64:
                distinct = np.asarray(distinct, dtype=np.int64).view(np.float64)
            texts.append(np.array([text(value) for value in distinct], dtype=object)[codes])
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(zip(*texts))

    @functools.cached_property
    def _formats(self) -> list:
        return [_csv_format(c) for c in self.columns]

    def _flush(self) -> None:
        import pyarrow as pa

        if self._buffer:
            frame = pd.concat(self._buffer, ignore_index=True) if len(self._buffer) > 1 else self._buffer[0]
            self._writer.write_table(pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False))
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None


def observables(model, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each network observable (a sum of species) for the cells in ``rows``."""
    summed = model.network.observables
    if not summed:
        return {}
    # the living cells' molecules taken once, only the species some observable sums (13 of the built-in
    # network's 40): copying every species cost a third of a millisecond a row
    used = np.unique(np.concatenate([np.asarray(species, dtype=np.int64) for species in summed.values()]))
    molecules = model.population.molecules[np.ix_(rows, used)]
    return {name: molecules[:, np.searchsorted(used, species)].sum(axis=1) for name, species in summed.items()}


def osteoblast_counts(model) -> dict[str, int | float]:
    """The osteoblast lineage's part of a timeseries row: zeros for an experiment without one."""
    lineage = model.lineages.get("osteoblast")
    return lineage.counts() if lineage is not None else dict.fromkeys(OSTEOBLAST_COUNTS, 0)


class Recorder:
    """Copies the model's arrays into the run's tables (``fmt``: ``csv`` or ``parquet``)."""

    def __init__(self, directory: Path, network, fmt: str = "csv", append: bool = False):
        """``append``: continue the tables a resumed run wrote up to its checkpoint."""
        self.directory, self.format = directory, fmt
        names = registry.network_names(network)
        self.columns = {table: registry.expand(table, *names) for table in registry.TABLES}
        self.timeseries_columns = [c.name for c in self.columns["timeseries"]]
        self.cells_columns = [c.name for c in self.columns["cells"]]
        self.tables: dict[str, TableWriter] = {}
        for table in ("timeseries", "cells", "events"):
            self.tables[table] = TableWriter(directory, table, self.columns[table], fmt, append)
        self._events: list[tuple] = []  # written with each timeseries row, a snapshot and at the end

    def record(self, model) -> None:
        fields = model.fields
        osteoclasts, osteoblasts = model.osteoclasts.counts(), osteoblast_counts(model)
        row = {
            "time_h": model.time_h,
            **osteoclasts,
            **osteoblasts,
            **{column: nM_to_ng_ml(sum(fields.sites[name].mean() / fields.binding_sites.get(name, 1)
                                       for name in species), weight)
               for column, (species, weight) in FIELD_COLUMNS.items()},
            "mcsf_sd_ng_ml": nM_to_ng_ml(fields.sites["mcsf"].std(), MCSF_HOMODIMER_DA),
            "rankl_free_sd_ng_ml": nM_to_ng_ml(fields.sites["rankl"].std(), RANKL_MONOMER_DA),
            "medium_mcsf_ng_ml": nM_to_ng_ml(fields.medium["mcsf"], MCSF_HOMODIMER_DA) if fields.culture else np.nan,
            "medium_rankl_free_ng_ml": (nM_to_ng_ml(fields.medium["rankl"], RANKL_MONOMER_DA) if fields.culture
                                        else np.nan),
            "medium_changes": fields.n_changes,
            **model.bone.metrics(),
            **model.bone.histomorphometry(model.time_h, osteoclasts["n_osteoclasts"], osteoblasts["n_osteoblasts"]),
            "ssa_events_total": model.ssa_events_total,
        }
        row.update({f"{name}_total": int(total) for name, total in zip(model.network.counters,
                                                                       model.counter_totals)})
        for name, values in observables(model, model.population.rows).items():
            row[f"{name}_mean"] = values.mean() if values.size else np.nan
            row[f"{name}_sd"] = values.std() if values.size else np.nan
        self.tables["timeseries"].append_rows([tuple(row[name] for name in self.timeseries_columns)])
        self._write_events()

    def snapshot(self, model) -> None:
        pop = model.population
        rows = pop.rows
        rows = rows[np.argsort(pop.cell_id[rows], kind="stable")]
        spacing = model.experiment.domain.grid_spacing_um
        frame = pd.DataFrame({
            "time_h": np.full(rows.size, model.time_h),
            "cell_id": pop.cell_id[rows],
            "x_um": (pop.x[rows] + 0.5) * spacing,
            "y_um": (pop.y[rows] + 0.5) * spacing,
            **model.osteoclasts.cell_states(rows),
            "generation": pop.generation[rows],
            "born_h": pop.born_h[rows],
            "mcsf_ng_ml": nM_to_ng_ml(model.fields.sites["mcsf"][pop.x[rows], pop.y[rows]], MCSF_HOMODIMER_DA),
            "rankl_free_ng_ml": nM_to_ng_ml(model.fields.sites["rankl"][pop.x[rows], pop.y[rows]],
                                            RANKL_MONOMER_DA),
            **observables(model, rows),
            **{name: pop.counters[rows, i] for i, name in enumerate(model.network.counters)},
        }, columns=self.cells_columns)
        self.tables["cells"].append(frame)
        self._write_events()

    def spatial(self, model) -> None:
        """A spatial snapshot into ``snapshots/`` (``boneabm.snapshots``); it only reads the model."""
        from boneabm.snapshots import frame_of, write_frame

        write_frame(self.directory, frame_of(model))

    def take_events(self, model) -> None:
        """Take the tick's events from the model; they are written with the next timeseries row."""
        self._events.extend(model.events)
        model.events.clear()

    def _write_events(self) -> None:
        # canonical order within a tick: by cell, whatever order the model met the cells in
        self.tables["events"].append_rows(sorted(self._events, key=_EVENT_ORDER))
        self._events.clear()

    def finish(self, model) -> None:
        """The final depth maps (resorbed or formed pixels, long format), one row per osteoclast that formed,
        one per osteoclast and day it lived and one per BMU; then every table is closed."""
        lineage = model.osteoclasts
        for table, frame in (
                ("bone", pd.DataFrame(model.bone.depth_table(), columns=BONE_CSV_COLUMNS)),
                ("osteoclasts", pd.DataFrame(lineage.osteoclast_rows(model.bone), columns=OSTEOCLAST_COLUMNS)),
                ("osteoclast_days", pd.DataFrame(lineage.osteoclast_day_rows(), columns=OSTEOCLAST_DAY_COLUMNS)),
                ("bmus", pd.DataFrame(model.bmus.rows(model.bone) if model.bmus is not None else [],
                                      columns=BMU_COLUMNS))):
            self.tables[table] = TableWriter(self.directory, table, self.columns[table], self.format)
            self.tables[table].append(frame)
        self.close()

    def close(self) -> None:
        """Write the events taken and close every table (parquet files are readable from then on); safe to call
        twice."""
        self._write_events()
        for writer in self.tables.values():
            writer.close()


# ----------------------------------------------------------------------------------------------------------
# Reading


def table_path(run_dir: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``run_dir`` (``.csv`` or ``.parquet``), or None."""
    for fmt in FORMATS:
        if (run_dir / f"{table}.{fmt}").is_file():
            return run_dir / f"{table}.{fmt}"
    return None


def run_network_names(run_dir: Path) -> tuple[dict, dict]:
    """The observables and counters of the network a run used, from its ``network.yaml`` (no compilation)."""
    try:
        observables, counters = _network_names((run_dir / "network.yaml").read_bytes())
    except OSError:
        return {}, {}
    return dict(observables), dict(counters)


@functools.lru_cache(maxsize=16)
def _network_names(text: bytes) -> tuple[dict, dict]:
    """Parsed once per network content: a sweep's runs carry copies of the same file."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}, {}
    data = data if isinstance(data, dict) else {}
    return dict(data.get("observables") or {}), dict(data.get("counters") or {})


def empty_table(columns: list[registry.Column]) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=c.pandas_dtype) for c in columns})


def read_table(path: Path, columns: list[registry.Column], complete: bool = True) -> pd.DataFrame:
    """Read one table (CSV or parquet) with the registry's dtypes. Of an unfinished run (``complete`` False)
    a CSV's last line cut off by a kill is dropped, and a parquet file the run never closed is read as empty
    with a warning."""
    dtypes = {c.name: c.pandas_dtype for c in columns}
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            if complete:
                raise UserError(f"{path}: not a readable parquet file ({exc})") from None
            warnings.warn(f"{path}: unreadable ({exc}); a parquet table can be read once the run closed it (at "
                          "the end, or on a failure or interruption), and this run was killed first: read as "
                          "empty (output.format: csv keeps every row written)", stacklevel=3)
            return empty_table(columns)
        frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    else:
        source: Path | io.BytesIO = path
        if not complete:
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                source = io.BytesIO(data[:data.rfind(b"\n") + 1])
        frame = pd.read_csv(source, dtype=dtypes)
    return frame.astype({name: dtype for name, dtype in dtypes.items() if name in frame.columns})
