"""The run's tables: dtypes from the column registry whatever the values, events with one meaning per column,
the data dictionary, parquet output, and loading unfinished runs."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import boneabm
from boneabm import columns as registry
from boneabm.cli import main
from boneabm.errors import UserError
from boneabm.output import float_text
from boneabm.runner import RunFailed
from boneabm.signaling import load_network

TABLES = registry.TABLES
RANK = registry.network_names(load_network("rank"))


def documented(table):
    return {c.name: str(c.pandas_dtype) for c in registry.expand(table, *RANK)}


def dtypes(frame):
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_floats_are_written_with_ten_digits_and_always_read_back_as_floats():
    assert [float_text(v) for v in (0.0, 1.0, 24.0, -3.0, 0.1 + 0.2, 1 / 3, 1e12, 1.5e-7, 123456789012.0)] == [
        "0.0", "1.0", "24.0", "-3.0", "0.3", "0.3333333333", "1e+12", "1.5e-07", "1.23456789e+11"]
    assert all(isinstance(pd.read_csv(pd.io.common.StringIO(f"x\n{float_text(v)}\n"))["x"][0], np.floating)
               for v in (0.0, 7.0, 1e15))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rows_are_written_exactly_as_the_same_rows_given_as_a_frame(tmp_path, fmt):
    """A recording's few rows skip pandas (``append_rows``); the file must be byte for byte what the frame path
    writes, for every dtype: floats of any size, whole-number floats, NaN, ints, a missing nullable int, each
    category."""
    from boneabm.output import TableWriter

    columns = registry.expand("events")
    rows = [(0.25, "division", 7, 12, 1, 0, float("nan"), "osteoclast"),
            (1e-7, "death", 3, None, 4, 2, 1234567.891234, "osteoblast"),
            (48.0, "fusion", 9, 10, 2, 1, np.nan, "osteoclast"), (1 / 3, "death", 11, pd.NA, 1, 3, 0.0, "osteoclast")]
    (tmp_path / "frame").mkdir(), (tmp_path / "rows").mkdir()
    by_frame = TableWriter(tmp_path / "frame", "events", columns, fmt)
    by_rows = TableWriter(tmp_path / "rows", "events", columns, fmt)
    for part in (rows[:1], rows[1:]):
        by_frame.append(pd.DataFrame(part, columns=[c.name for c in columns]))
        by_rows.append_rows(part)
    by_frame.close(), by_rows.close()
    written = (tmp_path / "rows" / f"events.{fmt}").read_bytes()
    assert written == (tmp_path / "frame" / f"events.{fmt}").read_bytes()
    if fmt == "csv":
        assert written.decode().splitlines()[2] == "1e-07,death,3,,4,2,1234567.891,osteoblast"
        with pytest.raises(ValueError, match="not among the registry's categories"):
            by_rows.append_rows([(1.0, "explosion", 1, None, 1, 0, np.nan, "osteoclast")])


def test_a_frame_is_written_byte_for_byte_as_pandas_writes_it(tmp_path):
    """The frame path formats each column's distinct values once; the file must be what pandas' ``to_csv`` with
    ``float_text`` writes of the same typed frame, for every dtype and the values that trip a lookup of
    distinct values: 0.0 beside -0.0 (equal, written apart), NaN, repeats, a missing nullable int and category."""
    from boneabm.output import FLOAT_FORMAT, TableWriter, _typed

    rng = np.random.default_rng(5)
    columns = registry.expand("events")
    n = 400
    frame = pd.DataFrame({
        "time_h": rng.choice([0.0, -0.0, 0.1 + 0.2, 1e-7, 48.0, np.nan, 1234567.891234], n),
        "event": rng.choice(["division", "death", "fusion"], n),
        "cell_id": rng.integers(0, 50, n),
        "partner_id": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
        "nuclei": rng.integers(1, 4, n), "generation": rng.integers(0, 3, n),
        "age_h": np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1e3, n)),
        "lineage": rng.choice(["osteoclast", "osteoblast"], n)})
    writer = TableWriter(tmp_path, "events", columns)
    for part in (frame[:150], frame[150:]):
        writer.append(part)
    writer.close()
    expected = ",".join(c.name for c in columns) + "\n" + _typed(frame, columns).to_csv(
        header=False, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    written = (tmp_path / "events.csv").read_text()
    assert written == expected
    assert "-0.0," in written and "\n0.0," in written


@pytest.fixture(scope="module")
def assay(tmp_path_factory):
    """A small culture with RANKL and fast fusion, long enough for osteoclasts to form, and no OPG or antibody
    (their columns are all zero): written as CSV and as parquet from the same seed."""
    from conftest import SMALL, merged
    from boneabm.config import load_experiment

    folder = tmp_path_factory.mktemp("assay")
    config = merged(SMALL, {"time": {"duration_h": 72}, "medium": {"rankl_ng_ml": 100},
                            "osteoclasts": {"fusion_rate_per_h": 6}})
    runs = {}
    for fmt in ("csv", "parquet"):
        experiment = load_experiment(data=merged(config, {"output": {"format": fmt}}))
        runs[fmt] = boneabm.run(experiment, seed=3, out=folder / fmt)
    return folder, runs


def test_column_types_do_not_depend_on_values(assay):
    """time_h is whole hours, OPG and antibody are all zero: the files still read as floats with plain pandas,
    and load_run gives every table exactly the registry's dtypes."""
    folder, runs = assay
    plain = pd.read_csv(folder / "csv" / "timeseries.csv")
    assert (plain["time_h"] == plain["time_h"].round()).all() and (plain["opg_free_ng_ml"] == 0).all()
    assert dtypes(plain) == {k: v for k, v in documented("timeseries").items()}
    for table in TABLES:
        frame = getattr(runs["csv"], table)
        assert len(frame) > 0 or table == "bmus", table  # a culture activates no BMU: tests/test_bmus.py reads one
        assert list(frame.columns) == registry.names(table, *RANK), table
        assert dtypes(frame) == documented(table), table
    assert list(runs["csv"].cells["state"].cat.categories) == list(registry.STATES)


def test_a_death_has_no_partner_and_an_empty_cell_not_a_zero(assay):
    folder, runs = assay
    lines = (folder / "csv" / "events.csv").read_text().splitlines()
    assert lines[0] == "time_h,event,cell_id,partner_id,nuclei,generation,age_h,lineage"
    deaths = [line.split(",") for line in lines[1:] if line.split(",")[1] == "death"]
    assert deaths and all(fields[3] == "" for fields in deaths)
    events = runs["csv"].events
    assert events.loc[events.event == "death", "partner_id"].isna().all()
    assert events.loc[events.event != "death", "partner_id"].notna().all()


def test_each_event_column_means_one_thing_for_every_kind_of_event(assay):
    _, runs = assay
    run = runs["csv"]
    events, cells = run.events, run.cells
    assert set(events.event) == {"division", "death", "fusion"}
    born = cells.groupby("cell_id").born_h.first()
    # death: age_h is the time since the dying cell was born; empty for the other kinds
    deaths = events[events.event == "death"]
    seen = deaths[deaths.cell_id.isin(born.index)]
    assert len(seen) > 3
    np.testing.assert_allclose(seen.age_h, seen.time_h - born[seen.cell_id].to_numpy(), atol=1e-9)
    assert events.loc[events.event != "death", "age_h"].isna().all()
    # division: both cells have the mother's new generation; a daughter that never divided keeps it
    divisions = events[events.event == "division"]
    assert (divisions.nuclei == 1).all()
    for mother, rows in divisions.groupby("cell_id"):
        assert list(rows.generation) == list(range(rows.generation.iloc[0], rows.generation.iloc[0] + len(rows)))
    generation = cells.groupby("cell_id").generation.last()
    idle = divisions[~divisions.partner_id.isin(divisions.cell_id) & divisions.partner_id.isin(generation.index)]
    assert len(idle) > 3
    assert (generation[idle.partner_id.astype(int)].to_numpy() == idle.generation.to_numpy()).all()
    # fusion: nuclei after the fusion; an osteoclast's most nuclei is its last fusion's
    fusions = events[events.event == "fusion"]
    assert (fusions.nuclei >= 2).all()
    last = fusions.groupby("cell_id").nuclei.max()
    osteoclasts = run.osteoclasts.set_index("osteoclast_id")
    assert len(osteoclasts) > 0
    assert (osteoclasts.max_nuclei == last[osteoclasts.index]).all()


def test_every_run_directory_carries_its_data_dictionary(assay):
    folder, _ = assay
    for fmt in ("csv", "parquet"):
        dictionary = pd.read_csv(folder / fmt / "columns.csv", keep_default_na=False)
        assert list(dictionary.columns) == ["table", "column", "dtype", "unit", "meaning"]
        pd.testing.assert_frame_equal(dictionary, registry.dictionary(*RANK), check_dtype=False)
        for table in TABLES:  # exactly the columns of the files, in their order
            assert dictionary[dictionary.table == table].column.tolist() == registry.names(table, *RANK)
    header = (folder / "csv" / "cells.csv").read_text().splitlines()[0].split(",")
    assert header == dictionary[dictionary.table == "cells"].column.tolist()
    row = dictionary[(dictionary.table == "timeseries") & (dictionary.column == "cfos_mean")].iloc[0]
    assert (row["dtype"], row["unit"]) == ("float64", "molecules") and "cFos" in row["meaning"]


def test_parquet_holds_the_same_tables_with_categories_dictionary_encoded(assay):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder, runs = assay
    assert {p.name for p in (folder / "parquet").glob("*.csv")} == {"columns.csv"}
    for table in TABLES:
        assert (folder / "parquet" / f"{table}.parquet").is_file()
        parquet, csv = getattr(runs["parquet"], table), getattr(runs["csv"], table)
        assert dtypes(parquet) == documented(table), table
        pd.testing.assert_frame_equal(parquet, csv, rtol=1e-9)  # CSV keeps 10 significant digits
    schema = pq.read_schema(folder / "parquet" / "cells.parquet")
    assert pa.types.is_dictionary(schema.field("state").type)
    assert pa.types.is_dictionary(schema.field("resorption_mode").type)
    assert pa.types.is_dictionary(pq.read_schema(folder / "parquet" / "events.parquet").field("event").type)


def test_parquet_output_is_byte_identical_for_the_same_seed_whatever_the_threads_and_plots(tmp_path, small_yaml,
                                                                                          assay):
    import os
    import subprocess
    import sys

    config = str(small_yaml(output={"format": "parquet"}, medium={"rankl_ng_ml": 50}, time={"duration_h": 24}))
    assert main(["run", config, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    subprocess.run([sys.executable, "-m", "boneabm", "run", config, "--out", str(tmp_path / "b"), "--quiet"],
                   env=dict(os.environ, NUMBA_NUM_THREADS="1"), check=True, capture_output=True)
    assert json.loads((tmp_path / "b" / "metadata.json").read_text())["numba_threads"] == 1
    for table in TABLES:
        assert (tmp_path / "a" / f"{table}.parquet").read_bytes() == (tmp_path / "b" / f"{table}.parquet").read_bytes()
    assert main(["run", config, "--out", str(tmp_path / "c"), "--quiet", "--seed", "8"]) == 0
    assert (tmp_path / "a" / "cells.parquet").read_bytes() != (tmp_path / "c" / "cells.parquet").read_bytes()
    folder, _ = assay
    assert main(["plot", str(folder / "parquet")]) == 0
    assert (folder / "parquet" / "figures" / "bone.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("value", ["xlsx", "CSV", 3])
def test_an_unknown_output_format_is_bad_input_naming_the_key(tmp_path, small_yaml, capsys, value):
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "r"), "--set", f"output.format={value}"]) == 2
    err = capsys.readouterr().err
    assert "output.format" in err and "'csv' or 'parquet'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.partial").exists()


# ----------------------------------------------------------------------------------------------------------
# Unfinished runs


def _fail_at_step(monkeypatch, step):
    from boneabm.model import BoneModel

    original = BoneModel.step

    def broken(self):
        if self.steps == step:
            raise RuntimeError("simulated bug")
        original(self)

    monkeypatch.setattr(BoneModel, "step", broken)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_load_run_loads_what_an_interrupted_run_wrote(tmp_path, small, monkeypatch, fmt):
    """A run that fails at 24.5 h of 48 stays DIR.partial: its time series and snapshots so far load, the tables
    written only at the end come back empty with their documented columns and dtypes, and the Run says it
    failed."""
    _fail_at_step(monkeypatch, 246)
    with pytest.raises(RunFailed):
        boneabm.run(small(output={"format": fmt}), seed=3, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()
    with pytest.raises(UserError, match="unfinished run is at"):
        boneabm.load_run(tmp_path / "r")
    run = boneabm.load_run(tmp_path / "r.partial")
    assert run.status == "failed" and not run.complete
    assert run.timeseries.time_h.tolist() == [float(h) for h in range(25)]
    assert sorted(run.cells.time_h.unique()) == [0.0, 12.0, 24.0]
    # events are taken every tick: those to 24 h are what the last row counted, and more came before the bug
    upto = run.events[run.events.time_h <= 24.0 + 1e-9].event.value_counts()
    last = run.timeseries.iloc[-1]
    assert (upto.get("division", 0), upto.get("death", 0)) == (last.divisions_total, last.deaths_total) != (0, 0)
    assert run.events.time_h.max() <= 24.5 + 1e-9
    for table in ("osteoclasts", "osteoclast_days", "bone"):
        frame = getattr(run, table)
        assert frame.empty and dtypes(frame) == documented(table), table
    assert (tmp_path / "r.partial" / "columns.csv").is_file()
    for table in TABLES:
        assert list(getattr(run, table).columns) == registry.names(table, *RANK)


def test_a_complete_run_loads_as_complete_and_a_missing_table_is_an_error(assay, tmp_path):
    import shutil

    folder, runs = assay
    assert runs["csv"].status == "complete" and runs["csv"].complete
    copy = tmp_path / "copy"
    shutil.copytree(folder / "csv", copy)
    (copy / "bone.csv").unlink()
    with pytest.raises(UserError, match="bone.csv or bone.parquet is missing"):
        boneabm.load_run(copy)
    (copy / "bone.csv").write_bytes((folder / "csv" / "bone.csv").read_bytes())
    (copy / "osteoclast_days.csv").unlink()
    with pytest.raises(UserError, match="osteoclast_days.csv or osteoclast_days.parquet is missing"):
        boneabm.load_run(copy)
    # a run of schema version 2 had no osteoclast_days table: it loads, with the table empty
    metadata = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps({**metadata, "schema_version": 2}))
    old = boneabm.load_run(copy)
    assert old.osteoclast_days.empty and dtypes(old.osteoclast_days) == documented("osteoclast_days")
    pd.testing.assert_frame_equal(old.osteoclasts, runs["csv"].osteoclasts)


def test_a_killed_runs_cut_off_csv_line_is_dropped_and_its_unclosed_parquet_read_as_empty(assay, tmp_path):
    """SIGKILL can stop a CSV mid-line and always leaves parquet tables without their footer."""
    import shutil

    folder, runs = assay
    for fmt in ("csv", "parquet"):
        killed = tmp_path / f"{fmt}.partial"
        shutil.copytree(folder / fmt, killed)
        metadata = json.loads((killed / "metadata.json").read_text())
        (killed / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))
        for table in ("osteoclasts", "osteoclast_days", "bone"):
            (killed / f"{table}.{fmt}").unlink()
        cells = (killed / f"cells.{fmt}").read_bytes()
        (killed / f"cells.{fmt}").write_bytes(cells[:-25])
        if fmt == "csv":
            run = boneabm.load_run(killed)
            pd.testing.assert_frame_equal(run.cells, runs["csv"].cells.iloc[:-1])
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run = boneabm.load_run(killed)
            assert any("cells.parquet: unreadable" in str(w.message) for w in caught)
            assert run.cells.empty and dtypes(run.cells) == documented("cells")
        assert run.status == "running" and not run.complete
        pd.testing.assert_frame_equal(run.timeseries, runs[fmt].timeseries)
        assert run.osteoclasts.empty and run.bone.empty
