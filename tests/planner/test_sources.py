"""Where each instance type's numbers come from (issue 13 item 4): production, bench,
synthetic or estimated, as a column of the summary and of the sizing result."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import cli
from planner.dataset import open_dataset
from planner.prices import parse_prices
from planner.sizing import SizingOptions, load_sizing_inputs, size_fleet
from planner.stats import rtf_summary
from tests.rows import attempt, write_rows

EXPORT = "create_video_export_v1"
PRICES = parse_prices(
    "instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band\n"
    "c7i.large,2,4,0.09,0.04,<5%\n"
    "c7i.xlarge,4,8,0.18,0.08,<5%\n"
    "m6i.large,2,8,0.10,0.05,<5%\n"
    "c5.large,2,4,0.085,0.035,<5%\n"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    rows = []
    for i in range(40):
        start = i * 90.0
        rows.append(attempt(job_type=EXPORT, start_s=start, wall_s=30.0, instance_type="c7i.large",
                            hostname="bench-1") | {"synthetic": False, "source": "bench"})
        rows.append(attempt(job_type=EXPORT, start_s=start, wall_s=40.0, instance_type="m6i.large",
                            hostname="prod-1") | {"synthetic": False, "source": "production"})
        # A version-1 style synthetic row: no source, the synthetic flag says it.
        rows.append(attempt(job_type=EXPORT, start_s=start, wall_s=50.0, instance_type="c5.large",
                            hostname="syn-1") | {"source": None})
        if i % 2:  # production on the bench type too
            rows.append(attempt(job_type=EXPORT, start_s=start + 40, wall_s=30.0,
                                instance_type="c7i.large", hostname="prod-2")
                        | {"synthetic": False, "source": "production"})
    write_rows(rows, root)
    return root


def test_summary_and_sizing_say_where_numbers_come_from(data: Path) -> None:
    ds = open_dataset(str(data))
    try:
        summary = {r["instance_type"]: r["source"] for r in rtf_summary(ds).to_dicts()}
        result = size_fleet(load_sizing_inputs(ds, prices=PRICES),
                            SizingOptions(utilisation=0.7, wait=None))
    finally:
        ds.close()
    assert summary == {"c7i.large": "bench+production", "m6i.large": "production",
                       "c5.large": "synthetic"}
    sized = {t.instance_type: t for t in result.types}
    assert sized["c7i.large"].source == "bench+production"
    assert sized["m6i.large"].source == "production"
    assert sized["c5.large"].source == "synthetic"
    # Priced, never run, same family as a measured type: estimated, and says from which.
    assert sized["c7i.xlarge"].source == "estimated"
    assert sized["c7i.xlarge"].from_label == "est. c7i.large"
    assert result.to_frame().filter(
        result.to_frame()["instance_type"] == "c7i.xlarge")["source"].to_list() == ["estimated"]


def test_mjplan_size_prints_the_source(data: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES_TEXT)
    # --wide: every column (at 80 columns the table keeps the essentials; the * still marks
    # estimated types there).
    assert cli.main(["size", "--data", str(data), "--prices", str(prices), "--wait", "none",
                     "--window", "30d", "--wide"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines()
             if line[:1].isdigit() and len(line.split()) > 5}
    assert "bench+production" in lines["c7i.large"] and "est. c7i.large" in lines["c7i.xlarge*"]


PRICES_TEXT = (
    "instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band\n"
    "c7i.large,2,4,0.09,0.04,<5%\nc7i.xlarge,4,8,0.18,0.08,<5%\n"
    "m6i.large,2,8,0.10,0.05,<5%\nc5.large,2,4,0.085,0.035,<5%\n"
)
