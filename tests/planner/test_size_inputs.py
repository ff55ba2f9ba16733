"""`mjplan size --save-inputs FILE` / `--inputs FILE`: the aggregates sizing reads, saved and
read back, give the sizing of the dataset; their demand is what the `mjplan ddl` view of the
hourly demand computes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from planner.cli import main as mjplan
from planner.dataset import default_data_url
from tests.planner.engine_views import duckdb_of
from tests.planner.sizing_json import significant, size_json


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The embedded data's inputs saved once (gzip), and the sizing printed meanwhile."""
    import contextlib
    import io

    path = tmp_path_factory.mktemp("inputs") / "inputs.json.gz"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert mjplan(["size", "--json", "--no-cache", "--save-inputs", str(path)]) == 0
    return path, out.getvalue()


@pytest.mark.slow
def test_saved_inputs_size_as_the_dataset(saved: tuple[Path, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path, printed = saved
    from_data = significant(json.loads(printed))
    from_data.pop("dataset")
    assert path.stat().st_size < 2_000_000
    assert size_json(capsys, "--inputs", str(path)) == from_data
    assert from_data["recommendation"] is not None
    # The packing densities travel too (--slots best sizes at the best one).
    assert (size_json(capsys, "--inputs", str(path), "--slots", "best")
            == size_json(capsys, "--no-cache", "--slots", "best"))


@pytest.mark.slow
def test_inputs_without_arrivals_size_the_same_analytically(
        saved: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file made elsewhere (from the views of `mjplan ddl`) has no attempts one by one."""
    import gzip

    doc = json.loads(gzip.decompress(saved[0].read_bytes()))
    assert doc["arrivals"] is not None
    doc["arrivals"] = None
    lean = tmp_path / "lean.json"
    lean.write_text(json.dumps(doc))
    assert (size_json(capsys, "--inputs", str(lean), "--no-replay")
            == size_json(capsys, "--no-replay", "--no-cache"))
    replayed = size_json(capsys, "--inputs", str(lean))  # arrivals drawn per hour: it sizes
    assert replayed["recommendation"] is not None


def test_saved_demand_is_the_views_hourly_demand(saved: tuple[Path, str]) -> None:
    """The demand histories in the file are the hourly demand view of `mjplan ddl` (run in
    DuckDB on the same files) over the file's window, zero hours included."""
    import gzip

    doc = json.loads(gzip.decompress(saved[0].read_bytes()))
    start = dt.datetime.fromisoformat(doc["start"])
    hours = int(doc["window_hours"])
    con, _ = duckdb_of("athena", default_data_url())
    for h in doc["demand"]:
        rows = dict(con.execute(
            "SELECT hour, jobs FROM t_hourly_demand WHERE job_type = ? AND hour >= ? "
            "AND hour < ?", [h["job_type"], start, start + dt.timedelta(hours=hours)]
        ).fetchall())
        view = [float(rows.get(start + dt.timedelta(hours=k), 0)) for k in range(hours)]
        assert h["jobs"] == view, h["job_type"]


@pytest.mark.parametrize("content, message", [
    (None, "no sizing inputs file"),
    ("not json", "cannot read sizing inputs"),
    ('{"format": "other"}', "not a sizing inputs file"),
    ('{"format": "mediajobs-sizing-inputs", "version": 9}', "version 9"),
    ('{"format": "mediajobs-sizing-inputs", "version": 1, "measurements": [{}]}',
     "bad or missing measurements"),
])
def test_bad_inputs_file_one_line(tmp_path: Path, content: str | None, message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    assert mjplan(["size", "--inputs", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_inputs_and_data_together_refused(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert mjplan(["size", "--inputs", str(tmp_path / "x"), "--data", str(tmp_path)]) == 2
    assert "--inputs and --data" in capsys.readouterr().err
