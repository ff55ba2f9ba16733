"""The sizing views of `mjplan ddl` (planner.sizing_views), run verbatim in DuckDB for each
engine, their results written as CSV (as Athena writes them) and read by `mjplan size --inputs
FOLDER` (planner.sizing_results): the sizing is the dataset's, and the concurrency that of
planner.throughput.measure_concurrency and of a hand computation."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from polars.testing import assert_frame_equal

from planner import ddl
from planner.cli import main as mjplan
from planner.dataset import default_data_url, open_dataset
from planner.density import measure_levels
from planner.prices import load_prices
from planner.queries import connection_of
from planner.service_times import PER_GROUP, measure_service_samples
from planner.sizing_results import load_results
from planner.sizing_views import PARTS, TICKS_PER_S
from planner.throughput import Concurrency, measure_concurrency, most_common_slots
from tests.planner.engine_views import duckdb_of
from tests.planner.sizing_json import significant, size_json
from tests.rows import T0, attempt, write_rows

EXPORT, THUMB = "create_video_export_v1", "upload_thumb_v1"

#: (instance type, host) -> intervals [start, finish) in seconds after T0, and what the sweep
#: gives by hand per type: hosts, attempt s, busy s, most at once, busy s at each level k.
INTERVALS: dict[tuple[str, str], list[tuple[float, float]]] = {
    # 5 s at 2; the touch at 15 s (one ends as one starts) is no overlap.
    ("c6i.large", "a"): [(0, 10), (5, 15), (15, 20)],
    # 0.5 s at 2 (under planner.slots.MIN_OVERLAP_S: not a level), a 5 s gap at 0.
    ("c6i.large", "b"): [(100, 110), (109.5, 120), (125, 130)],
    ("c7i.large", "c"): [(0, 30), (10, 20), (10, 25)],
    ("m6i.large", "d"): [(0, 10), (10, 20)],
}
BY_HAND = {
    "c6i.large": Concurrency("c6i.large", 2, 25 + 25.5, 20 + 25, 2, (5.0, 15 + 24.5, 5.0)),
    "c7i.large": Concurrency("c7i.large", 1, 55, 30, 3, (0.0, 15.0, 5.0, 10.0)),
    "m6i.large": Concurrency("m6i.large", 1, 20, 20, 1, (0.0, 20.0)),
}


def hand_rows() -> list[dict[str, Any]]:
    rows = [attempt(job_type=EXPORT, start_s=s, wall_s=f - s, hostname=host, instance_type=it,
                    input_s=2.5 * (f - s))
            for (it, host), spans in INTERVALS.items() for s, f in spans]
    # Left out of the concurrency: no time running, no host name.
    rows.append(attempt(job_type=EXPORT, start_s=12, wall_s=0, hostname="a",
                        instance_type="c6i.large", input_s=None))
    rows.append(attempt(job_type=EXPORT, start_s=3, wall_s=40, hostname=None,
                        instance_type="c7i.large", status="failed"))
    # Exports and more thumbnails on one type than a service sample keeps (the views pick the
    # same ones), bursty (arrivals in pairs), and failures (waste); whole milliseconds, as
    # Athena reads them.
    rng = random.Random(15)
    rows += [attempt(job_type=EXPORT, start_s=60 * i + 7, hostname=None,
                     wall_s=rng.randrange(20_000, 90_000) / 1000, instance_type="c5.large",
                     input_s=rng.randrange(30, 300)) for i in range(40)]
    for i in range(PER_GROUP + 300):
        start = (i // 2) * 1.5 + rng.randrange(0, 300) / 1000
        rows.append(attempt(job_type=THUMB, start_s=start, wall_s=rng.randrange(200, 4000) / 1000,
                            hostname=None, instance_type="c5.large", input_s=30.0,
                            status="failed" if i % 50 == 0 else "succeeded", validate=False))
    return rows


def export(con: duckdb.DuckDBPyConnection, engine: ddl.Engine, table: str,
           folder: Path) -> Path:
    """Every sizing view's result as CSV with a header, named after the view, as a team
    downloads them: Athena's and Trino's as Athena writes them (every value quoted, null
    empty, times to the millisecond without a zone), Spark's as DuckDB writes CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    style = ("HEADER, FORCE_QUOTE *, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%g'"
             if engine != "spark" else "HEADER")
    for part in PARTS:
        con.execute(f"COPY (SELECT * FROM {table}_{part}) TO '{folder}/{table}_{part}.csv' "
                    f"({style})")
    return folder


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The hand-made dataset, and each engine's view results over it (one DuckDB session)."""
    root = tmp_path_factory.mktemp("hand")
    data = root / "attempts"
    write_rows(hand_rows(), data)
    con = duckdb.connect()
    out: dict[str, Path] = {}
    for engine in ddl.ENGINES:
        duckdb_of(engine, str(data), table=f"t_{engine}", con=con)
        out[engine] = export(con, engine, f"t_{engine}", root / engine)
    con.close()
    return data, out


@pytest.mark.parametrize("engine", ddl.ENGINES)
def test_hand_made_overlaps_give_the_hand_computed_levels(
        engine: ddl.Engine, hand: tuple[Path, dict[str, Path]]) -> None:
    data, results = hand
    inputs = load_results(results[engine], load_prices())
    got = {t: m.concurrency for t, m in inputs.measurements.items() if m.concurrency.hosts}
    assert got == BY_HAND
    assert measure_concurrency(open_dataset(str(data))) == BY_HAND
    assert inputs.start == T0.replace(minute=0)


@pytest.mark.parametrize("engine", ddl.ENGINES)
def test_hand_made_results_size_as_the_dataset(
        engine: ddl.Engine, hand: tuple[Path, dict[str, Path]],
        capsys: pytest.CaptureFixture[str]) -> None:
    data, results = hand
    inputs = load_results(results[engine], load_prices())
    # The sample keeps PER_GROUP of the thumbnails: the planner's own.
    ds = open_dataset(str(data))
    planner = measure_service_samples(ds)[("c5.large", THUMB)]
    views = inputs.samples[("c5.large", THUMB)]
    assert np.asarray(views.wall_s).size == PER_GROUP
    assert sorted(views.wall_s) == sorted(planner.wall_s)
    assert inputs.burstiness > 1.3  # pairs: the IDC of the planner is checked by the sizing
    from_data = size_json(capsys, "--data", str(data), "--no-cache", "--no-replay")
    assert from_data["recommendation"] is not None
    assert size_json(capsys, "--inputs", str(results[engine]), "--no-replay") == from_data


@pytest.fixture(scope="module")
def embedded_sizing() -> dict[str, Any]:
    """`mjplan size --no-replay --json` on the embedded data, once."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert mjplan(["size", "--json", "--no-cache", "--no-replay"]) == 0
    return _significant_doc(out.getvalue())


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("embedded")
    con = duckdb.connect()
    out: dict[str, Path] = {}
    for engine in ddl.ENGINES:
        duckdb_of(engine, default_data_url(), table=f"t_{engine}", con=con)
        out[engine] = export(con, engine, f"t_{engine}", root / engine)
    con.close()
    return out


def _cut_to_ticks(engine: ddl.Engine) -> duckdb.DuckDBPyConnection:
    """The embedded data's attempts with times cut to the engine's ticks (Athena and Trino
    read timestamps to the millisecond), as a connection measure_concurrency reads."""
    ds = open_dataset(default_data_url())
    table = connection_of(ds).sql(
        "SELECT instance_type, hostname, started_at, finished_at FROM attempts").arrow()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("src", table)
    unit = "millisecond" if TICKS_PER_S[engine] == 1000 else "microsecond"
    con.execute("CREATE VIEW attempts AS SELECT instance_type, hostname, "
                f"date_trunc('{unit}', started_at) AS started_at, "
                f"date_trunc('{unit}', finished_at) AS finished_at FROM src")
    return con


def _significant_doc(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    doc.pop("dataset")
    rounded: dict[str, Any] = significant(doc)
    return rounded


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ddl.ENGINES)
def test_embedded_results_size_as_the_dataset(
        engine: ddl.Engine, embedded: dict[str, Path], embedded_sizing: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    inputs = load_results(embedded[engine], load_prices())
    want = measure_concurrency(_cut_to_ticks(engine), inputs.start)
    got = {t: m.concurrency for t, m in inputs.measurements.items()}
    assert set(got) == set(want)
    for t, c in want.items():
        g = got[t]
        assert (g.hosts, g.max_concurrency) == (c.hosts, c.max_concurrency), t
        assert _close(g.attempt_seconds, c.attempt_seconds), t
        assert _close(g.busy_seconds, c.busy_seconds), t
        assert len(g.level_seconds) == len(c.level_seconds), t
        assert all(map(_close, g.level_seconds, c.level_seconds)), t
    # The packing densities (--slots best) are the planner's sums.
    levels = measure_levels(open_dataset(default_data_url()), since=inputs.start)
    assert inputs.density_levels is not None and levels.height > 0
    assert_frame_equal(inputs.density_levels, levels, rel_tol=1e-12)
    from_data = copy.deepcopy(embedded_sizing)
    from_views = size_json(capsys, "--inputs", str(embedded[engine]), "--no-replay")
    if TICKS_PER_S[engine] == 1_000_000:
        assert from_views == from_data
        assert (size_json(capsys, "--inputs", str(embedded[engine]), "--no-replay",
                          "--slots", "best")
                == size_json(capsys, "--no-cache", "--no-replay", "--slots", "best"))
        return
    # Milliseconds: the busy seconds (so the mean concurrency in the throughput table) move
    # in the 8th digit; every instance count, cost and wait is the dataset's.
    for doc in (from_data, from_views):
        for row in doc.pop("throughput"):
            for key in ("mean_concurrency", "jobs_per_hour", "media_s_per_s"):
                if row[key] is not None:
                    row[key] = float(f"{row[key]:.6g}")
    assert from_views == from_data


@pytest.fixture
def broken(hand: tuple[Path, dict[str, Path]], tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    shutil.copytree(hand[1]["athena"], folder)
    return folder


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "t_athena_sizing_concurrency.csv").unlink(),
     "no result of the view <table>_sizing_concurrency"),
    (lambda f: (f / "t_athena_sizing_window.csv").write_text(
        "first_start,last_start,start_at,end_at\n2026-11-02 10:00:00,,,\n"),
     "t_athena_sizing_window.csv: no column window_hours"),
    (lambda f: (f / "t_athena_sizing_outcomes.csv").write_text(
        (f / "t_athena_sizing_outcomes.csv").read_text().replace(
            '"succeeded","', '"succeeded","x', 1)),
     "is not a whole number"),
    (lambda f: (f / "t_athena_sizing_demand.csv").write_text(
        "job_type,hour,jobs,media_jobs,media_seconds\nx,yesterday,1,1,1\n"),
     "hour 'yesterday' is not a time"),
    (lambda f: shutil.copy(f / "t_athena_sizing_samples.csv", f / "sizing_samples.csv"),
     "two results of the view <table>_sizing_samples"),
])
def test_bad_results_say_so_in_one_line(broken: Path, damage: Any, message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    damage(broken)
    assert mjplan(["size", "--inputs", str(broken), "--no-replay"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_results_as_parquet_and_spark_part_folders(
        hand: tuple[Path, dict[str, Path]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Parquet results, and a view's result as a folder of part files (Spark's write.csv),
    size as the CSV files do; the JSON `--save-inputs` writes sizes the same again."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    src = hand[1]["spark"]
    for part in PARTS:
        table = pacsv.read_csv(src / f"t_spark_{part}.csv")
        if part == "sizing_samples":
            (tmp_path / part).mkdir()
            half = table.num_rows // 2
            pacsv.write_csv(table.slice(0, half), tmp_path / part / "part-00000.csv")
            pacsv.write_csv(table.slice(half), tmp_path / part / "part-00001.csv")
            (tmp_path / part / "_SUCCESS").touch()
        else:
            pq.write_table(table, tmp_path / f"{part}.parquet")
    saved = tmp_path / "inputs.json"
    want = size_json(capsys, "--inputs", str(src), "--no-replay")
    assert size_json(capsys, "--inputs", str(tmp_path), "--no-replay",
                     "--save-inputs", str(saved)) == want
    assert json.loads(saved.read_text())["arrivals"] is None
    assert size_json(capsys, "--inputs", str(saved), "--no-replay") == want


def test_window_of_the_views_is_the_planners(tmp_path: Path) -> None:
    """A window shorter than the data: the views' bounds are planner.demand's (whole hours
    back from the hour of the last start)."""
    from planner.demand import load_hourly_arrivals

    write_rows([attempt(job_type=EXPORT, start_s=h * 3600, wall_s=60) for h in (0, 40, 50.5)],
               tmp_path)
    con, target = duckdb_of("athena", str(tmp_path), window_hours=30)
    row = con.execute(f"SELECT start_at, end_at, window_hours FROM {target.name()}_sizing_window"
                      ).fetchone()
    bounds = load_hourly_arrivals(open_dataset(str(tmp_path))).bounds(dt.timedelta(hours=30))
    assert bounds == (T0 + dt.timedelta(hours=20), T0 + dt.timedelta(hours=50))
    assert row == (*bounds, 30)


def test_worker_slots_are_the_most_common_value_the_larger_on_a_tie() -> None:
    """The rule the planner and the engines' counts share (DuckDB's mode() was arbitrary on a
    tie)."""
    rows = [("c5.large", 2, 5), ("c5.large", 3, 5), ("c5.large", 1, 4), ("m6i.large", 4, 1)]
    assert most_common_slots(rows) == {"c5.large": 3, "m6i.large": 4}
    assert most_common_slots(reversed(rows)) == {"c5.large": 3, "m6i.large": 4}
