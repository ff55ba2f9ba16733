"""The sampler against real child processes: one that burns a core, one that holds 200 MB."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import pytest

from collectors import config
from collectors.sampler import (
    Sample,
    SampleSummary,
    TreeSampler,
    children_sampler,
    summarize,
    tree_sampler,
)

# Spins until it has used {s} CPU seconds: on a loaded machine it gets less than a core, so
# the assertions are on the CPU seconds seen (load-independent) more than on percentages.
SPIN = "import time\nwhile time.process_time() < {s}: pass\n"
# bytes * n writes every page, so the 200 MB are resident (not lazily zero-mapped).
HOLD = "import time\nb = b'x' * 200_000_000\ntime.sleep({s})\n"
# A parent that starts a spinning grandchild: the tree, not only the root, must be sampled.
PARENT = (
    "import subprocess, sys\n"
    "subprocess.run([sys.executable, '-c', {spin!r}])\n"
)


def sample_one_child(script: str, interval: float) -> SampleSummary:
    """What `children_sampler` reports around one Python child run to completion."""
    sampler = children_sampler(interval=interval)
    sampler.start()
    subprocess.run([sys.executable, "-c", script], check=True)
    return sampler.stop()


def test_summarize_is_time_weighted_and_ignores_short_samples_for_the_max() -> None:
    samples = [
        Sample(cpu_s=1.0, wall_s=1.0, rss_bytes=10_000_000, processes=1),  # 100 %
        Sample(cpu_s=0.5, wall_s=1.0, rss_bytes=30_000_000, processes=2),  # 50 %
        Sample(cpu_s=0.02, wall_s=0.01, rss_bytes=0, processes=1),  # 200 % over 10 ms: noise
    ]
    s = summarize(samples, sampler_cpu_s=0.01, wall_s=2.01)
    assert s.cpu_pct_avg == pytest.approx(100 * 1.52 / 2.01, abs=0.01)
    assert s.cpu_pct_max == 100.0
    assert s.mem_rss_mb_max == 30.0
    assert s.sample_count == 3
    assert (s.sampler_cpu_s, s.wall_s) == (0.01, 2.01)


def test_max_is_never_below_the_mean() -> None:
    samples = [
        Sample(cpu_s=0.05, wall_s=0.2, rss_bytes=50_000_000, processes=1),  # 25 %
        Sample(cpu_s=0.04, wall_s=0.05, rss_bytes=0, processes=1),  # short, 80 %: a zombie
    ]
    s = summarize(samples)
    assert s.cpu_pct_avg == 36.0
    assert s.cpu_pct_max == 36.0  # the short sample is noise, but the mean bounds the max
    assert s.mem_rss_mb_max == 50.0


def test_summarize_without_samples_gives_no_figures() -> None:
    s = summarize([])
    assert (s.cpu_pct_avg, s.cpu_pct_max, s.mem_rss_mb_max, s.sample_count) == (None, None, None, 0)


def test_a_job_only_known_from_the_kernel_account_keeps_its_cpu() -> None:
    # Started and reaped between two samples: never seen alive, but getrusage saw 0.3 CPU s.
    s = summarize([Sample(cpu_s=0.0, wall_s=0.5, rss_bytes=0, processes=0)], reaped_cpu_s=0.3)
    assert (s.cpu_pct_avg, s.cpu_pct_max, s.mem_rss_mb_max, s.cpu_s) == (60.0, 60.0, None, 0.3)


def test_a_short_child_reaped_inside_the_block_is_counted() -> None:
    # subprocess.run reaps the child before any sample may see it exit.
    s = sample_one_child(SPIN.format(s=0.3), interval=600)
    assert s.cpu_s >= 0.3
    assert s.cpu_pct_avg is not None and s.cpu_pct_avg > 0


def test_a_lone_short_sample_still_gives_a_max() -> None:
    s = summarize([Sample(cpu_s=0.05, wall_s=0.05, rss_bytes=1_000_000, processes=1)])
    assert s.cpu_pct_max == 100.0
    assert s.mem_rss_mb_max == 1.0


def test_children_sampler_sees_a_child_burning_one_core() -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = sample_one_child(SPIN.format(s=1.0), interval=0.2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # What the kernel says the child used: 1.0 CPU s of spinning plus interpreter start-up,
    # which grows on a loaded machine; the sampler may miss only what came after its last look.
    child_cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert s.sample_count >= 5
    assert 0.8 <= s.cpu_s <= child_cpu_s + 0.05
    assert s.cpu_pct_avg is not None and s.cpu_pct_avg == pytest.approx(
        100 * s.cpu_s / s.wall_s, rel=0.05)
    assert s.cpu_pct_max is not None and s.cpu_pct_avg <= s.cpu_pct_max <= 110
    assert s.mem_rss_mb_max is not None and 2 < s.mem_rss_mb_max < 100
    assert 0 < s.sampler_cpu_s < s.wall_s


def test_children_sampler_sees_a_child_holding_200_mb() -> None:
    s = sample_one_child(HOLD.format(s=1.0), interval=0.2)
    assert s.mem_rss_mb_max is not None and 180 <= s.mem_rss_mb_max <= 260


def test_children_running_before_start_are_not_counted() -> None:
    before = subprocess.Popen([sys.executable, "-c", SPIN.format(s=1.0)])
    try:
        time.sleep(0.2)
        sampler = children_sampler(interval=0.2)
        sampler.start()
        time.sleep(0.8)
        s = sampler.stop()
    finally:
        before.kill()
        before.wait()
    assert s.sample_count >= 3
    # Nothing of ours was seen: unknown, not 0 %.
    assert (s.cpu_pct_avg, s.cpu_pct_max, s.mem_rss_mb_max) == (None, None, None)


def test_an_adopted_child_counts_from_its_birth_and_nothing_after_its_end() -> None:
    # `mjcollect run` starts the job, then the sampler: adopted, the child is the job's from
    # its birth; hold(its exit) leaves out the time the caller took after it.
    import os

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", SPIN.format(s=0.6)])
    time.sleep(0.3)  # part of its CPU is spent before the sampler starts
    sampler = children_sampler(interval=0.2)
    sampler.adopt(child.pid, t0)
    sampler.start()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    ended = time.perf_counter()
    sampler.hold(ended)  # as `mjcollect run`'s thread noting the exit does
    time.sleep(0.5)  # the caller still busy with its own work: sampled meanwhile, not counted
    sampler.sample_now(ended)
    child.wait()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = sampler.stop_at(ended)
    child_cpu_s = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    assert s.mem_rss_mb_max is not None and s.mem_rss_mb_max > 2  # seen alive
    assert s.cpu_s == pytest.approx(child_cpu_s, abs=0.03)
    assert s.wall_s == pytest.approx(ended - t0, abs=0.001)
    assert s.cpu_pct_avg == pytest.approx(100 * child_cpu_s / (ended - t0), rel=0.1)


def test_tree_sampler_counts_grandchildren_and_the_exited_root() -> None:
    proc = subprocess.Popen([sys.executable, "-c", PARENT.format(spin=SPIN.format(s=1.0))])
    sampler = tree_sampler(proc.pid, interval=0.1)
    sampler.start()
    proc.wait()
    s = sampler.stop()
    # The grandchild did the spinning (1.0 CPU s, seen while it ran, but for the part after
    # the last sample before it exited: at most one interval of one core); the root only waited.
    assert 0.8 <= s.cpu_s <= 1.5
    assert s.mem_rss_mb_max is not None and s.mem_rss_mb_max > 10  # two interpreters at once


def test_stop_returns_at_once_even_with_a_long_interval() -> None:
    sampler = children_sampler(interval=600)
    sampler.start()
    assert sampler.running
    s = sampler.stop(timeout=5)
    # Without the Event, the thread would still sleep out its 600 s interval after the join.
    assert not sampler.running
    assert s.sample_count == 1  # the final partial sample
    assert sampler.stop() is s


def test_interval_from_environment_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.MEDIAJOB_SAMPLE_INTERVAL, "0.5")
    assert TreeSampler().interval_s == 0.5
    monkeypatch.setenv(config.MEDIAJOB_SAMPLE_INTERVAL, "fast")
    assert TreeSampler().interval_s == config.DEFAULT_SAMPLE_INTERVAL_S
    assert TreeSampler(interval=0.3).interval_s == 0.3
    with pytest.raises(ValueError):
        TreeSampler(interval=0)


def test_a_vanished_root_gives_an_empty_summary() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    sampler = tree_sampler(proc.pid, interval=0.1)
    sampler.start()
    s = sampler.stop()
    assert (s.cpu_pct_max, s.mem_rss_mb_max) == (None, None)
