"""Both notebooks run top to bottom on the embedded data, in a kernel of this very interpreter.

The kernel: the `python3` spec that ipykernel's wheel installs into the venv starts plain
`python` from PATH, which on a fresh CI machine may be the system interpreter without the
project. So the test writes its own kernel spec (argv = sys.executable) into a temporary folder
and hands nbclient a kernel manager that looks only there.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import polars as pl
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from planner import notebook
from planner.answer import answer_of

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "mediajobs-test"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "mediajobs test kernel",
                "language": "python",
            }
        )
    )
    return root


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """`nbformat.read` as version 4; nbformat's read/write carry no annotations."""
    nb: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """`nbformat.write`, the untyped call kept here (see read_notebook)."""
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]


def execute(path: Path, kernel_dir: Path) -> nbformat.NotebookNode:
    nb = read_notebook(path)
    ksm = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    client = NotebookClient(
        nb,
        km=km,
        timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def _outputs(nb: nbformat.NotebookNode) -> list[dict[str, object]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(nb: nbformat.NotebookNode) -> str:
    parts: list[str] = []
    for o in _outputs(nb):
        if o.get("output_type") == "stream":
            parts.append(str(o.get("text", "")))
        data = o.get("data") or {}
        assert isinstance(data, dict)
        for mime in ("text/plain", "text/html"):
            if mime in data:
                parts.append(str(data[mime]))
    return "\n".join(parts)


def _shown(nb: nbformat.NotebookNode) -> str:
    """What the notebook shows as text and tables (its figures' data left out)."""
    parts: list[str] = []
    for o in _outputs(nb):
        if o.get("output_type") == "stream":
            parts.append(str(o.get("text", "")))
        data = o.get("data") or {}
        assert isinstance(data, dict)
        if "application/vnd.plotly.v1+json" in data:
            continue
        # Not the scripts: plotly.js itself, inlined once by the notebook renderer.
        parts += [str(data[m]) for m in ("text/plain", "text/html")
                  if m in data and "<script" not in str(data[m])]
    return "\n".join(parts)


def _plain(nb: nbformat.NotebookNode) -> list[str]:
    """The text/plain outputs (cell results) of the notebook."""
    out = []
    for o in _outputs(nb):
        data = o.get("data") or {}
        assert isinstance(data, dict)
        if "text/plain" in data:
            out.append(str(data["text/plain"]))
    return out


def _chart_names(nb: nbformat.NotebookNode) -> set[str]:
    names: set[str] = set()
    for o in _outputs(nb):
        data = o.get("data") or {}
        assert isinstance(data, dict)
        fig = data.get("application/vnd.plotly.v1+json")
        if isinstance(fig, dict):
            meta = fig.get("layout", {}).get("meta") or {}
            if "chart" in meta:
                names.add(meta["chart"])
    return names


@pytest.mark.parametrize("name", ["capacity_planning.ipynb", "rtf_analysis.ipynb"])
def test_notebook_is_stored_without_outputs(name: str) -> None:
    nb = read_notebook(NOTEBOOKS / name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    # Notebooks call the library; they define no logic of their own.
    assert not any(
        line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines()
    )


@pytest.fixture(scope="module")
def capacity_planning(kernel_dir: Path) -> nbformat.NotebookNode:
    return execute(NOTEBOOKS / "capacity_planning.ipynb", kernel_dir)


@pytest.fixture(scope="module")
def rtf_analysis(kernel_dir: Path) -> nbformat.NotebookNode:
    return execute(NOTEBOOKS / "rtf_analysis.ipynb", kernel_dir)


@pytest.mark.slow
def test_capacity_planning_runs_on_the_embedded_data(
    capacity_planning: nbformat.NotebookNode,
) -> None:
    from planner.dataset import open_dataset
    from planner.sizing import SizingOptions, load_sizing_inputs, size_fleet
    from planner.stats import rtf_summary

    assert _chart_names(capacity_planning) == {
        "rtf-distribution", "rtf-vs-input", "resources", "throughput-cost", "fleet-vs-demand"
    }  # fmt: skip
    text = _text(capacity_planning)
    assert "data/attempts:" in text
    # The summary is planner.stats' own figures in formatted tables: the aggregate RTF of
    # exports on c5.large with two decimals, in its row.
    summary = rtf_summary(open_dataset(), by="instance")
    row = summary.filter(
        (summary["job_type"] == "create_video_export_v1")
        & (summary["instance_type"] == "c5.large")).row(0, named=True)
    assert re.search(rf"<td>c5\.large</td><td class=\"num\">{row['attempts']:,}</td>"
                     rf"<td class=\"num\">[\d.]+</td><td class=\"num\">{row['rtf']:.2f}</td>",
                     text)
    # No raw floats (1052.611269) in what the notebook shows as text or tables.
    shown = _shown(capacity_planning)
    assert not re.search(r"\d\.\d{5,}", shown), re.search(r".{40}\d\.\d{5,}.{10}", shown)
    # The recommendation in words, as mjplan size says it; the request is the same fleet.
    result = size_fleet(load_sizing_inputs(open_dataset()), SizingOptions())
    assert result.recommendation is not None
    answer = answer_of(result)
    assert answer is not None and answer.sentence() in shown
    assert "FleetRecommendation(" not in shown
    assert f"'TotalTargetCapacity': {result.recommendation.total_target_capacity}," in text
    assert f"'InstanceType': '{result.recommendation.members[0].instance_type}'" in text


@pytest.mark.slow
def test_rtf_analysis_runs_on_the_embedded_data(rtf_analysis: nbformat.NotebookNode) -> None:
    from planner.dataset import open_dataset
    from planner.stats import rtf_summary

    names = _chart_names(rtf_analysis)
    assert names == {"rtf-distribution", "rtf-vs-input", "resources"}
    # The input-class table is planner.stats' own, cell for cell (same polars repr).
    by_class = rtf_summary(open_dataset(), by="class", job_type="create_video_export_v1")
    shown = by_class.select(
        "instance_type", "input_class", "attempts", "rtf", "rtf_ci_low", "rtf_ci_high",
        "low_sample",
    )  # fmt: skip
    with pl.Config(**notebook.POLARS_CONFIG):  # as the notebook sets it
        assert str(shown) in _plain(rtf_analysis)
    # The concurrency chart: RTF against attempts running at once, coloured per instance type.
    figs = [
        o["data"]["application/vnd.plotly.v1+json"]
        for c in rtf_analysis.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    concurrency = [
        f
        for f in figs
        if f["layout"]["xaxis"].get("title", {}).get("text", "").startswith("attempts")
    ]
    assert len(concurrency) == 1
    assert {t["name"] for t in concurrency[0]["data"]} >= {"c5.large", "c7i.large"}


@pytest.mark.slow
def test_capacity_planning_opens_the_url_it_is_given(kernel_dir: Path, tmp_path: Path) -> None:
    """The `parameters` cell (papermill's convention) points the notebook at another dataset."""
    from tests.rows import exports_and_thumbs, write

    data_dir = tmp_path / "attempts"
    write(data_dir, exports_and_thumbs(24, hosts=True), name="part")
    nb = read_notebook(NOTEBOOKS / "capacity_planning.ipynb")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    params[0].source = f"DATA_URL = {str(data_dir)!r}"
    copy = tmp_path / "capacity_planning.ipynb"
    write_notebook(nb, copy)
    done = execute(copy, kernel_dir)
    text = _text(done)
    assert f"{data_dir}: 2 files, 0 duplicated attempt ids" in text
    assert "'InstanceType': 'c7i.large'" in text  # the only measured type is recommended


def test_exported_html_keeps_every_chart(
    capacity_planning: nbformat.NotebookNode, rtf_analysis: nbformat.NotebookNode
) -> None:
    """`jupyter nbconvert --to html` of both notebooks draws their charts: each figure is a
    plotly div with its Plotly.newPlot call, and plotly.js is in the page (offline)."""
    from nbconvert import HTMLExporter

    for nb in (capacity_planning, rtf_analysis):
        page, _ = HTMLExporter().from_notebook_node(nb)  # type: ignore[no-untyped-call]
        bundles = [o.get("data") for o in _outputs(nb)]
        figures = [d for d in bundles
                   if isinstance(d, dict) and "application/vnd.plotly.v1+json" in d]
        assert figures
        # Each figure also stored as HTML, so viewers without plotly's renderer draw it.
        assert all("text/html" in d for d in figures)
        assert page.count("Plotly.newPlot(") == len(figures)
        assert "plotly.js v" in page  # the library itself, inlined once
        assert not re.search(r"<script[^>]*src=[^>]*plotly", page)
        for name in _chart_names(nb):
            assert f'"chart":"{name}"' in page.replace(": ", ":")
