"""CPU and memory sampling of a job's process tree, with psutil.

A daemon thread wakes every `interval` seconds (MEDIAJOB_SAMPLE_INTERVAL, default 2 s; the
first few samples come sooner, WARMUP_WAITS_S, so that short jobs are seen alive), lists the
tree (the root and all its descendants, so children started since the last sample are picked
up) and records, per sample:

- CPU: the tree's CPU seconds spent since the previous sample / wall seconds since it, in percent
  of ONE core (200 = two cores busy). This is `psutil.Process.cpu_percent(interval=None)`'s
  meaning ("since the last call"), computed from `cpu_times()` deltas so that a child born
  between two samples counts from its birth; a process already running when sampling starts is
  primed at `start()` (its CPU before that is not the job's).
- memory: the sum of the tree's RSS at that instant, MB (1e6 bytes).

`stop()` sets an Event, so the thread wakes at once, takes a last (partial) sample and exits.
Processes that vanish between listing and reading are simply skipped.

Two uses:
- `TreeSampler(pid)`: the process `pid` and its descendants (`mjcollect run` samples the command
  it started; `run` keeps the exited command unreaped while the last sample is taken, so no CPU
  is lost at the end).
- `TreeSampler()`: the children of the current process started after `start()` and their
  descendants (the Python attempt API: processes started inside the `with` block). Children
  started and reaped between two samples are never seen alive, so this also reads the
  kernel's account of reaped children (getrusage RUSAGE_CHILDREN) at start and stop: their
  CPU seconds count in the mean (and so bound the max from below); their memory is only known
  from samples taken while they ran. That account is process-wide: a process running several
  attempts at once in threads should pass its own samplers (or none). A child started before
  `start()` is left out, unless `adopt(pid, since)` names it as the job's (`mjcollect run`
  starts the job before its sampler): then it counts from its birth, is sampled at once at
  `start()`, and `hold(its exit)` keeps the time after its end out of the figures.

Bytes read and written (psutil `io_counters`), taken at `start()` and `stop()` only, so they
cost nothing per sample. What counts is what passed through read and write system calls: on
Linux psutil's read_chars/write_chars (/proc/PID/io rchar/wchar), files, pipes and sockets alike,
page-cache hits included (a download counts as read from its socket and written to its file);
elsewhere read_bytes/write_bytes. Without io counters (macOS) the figures are None. When Linux
reaps a child it adds the child's counters to its parent's, so:
- `TreeSampler()`: the current process's own delta over the attempt (which holds every child the
  job started and reaped, and the job's own Python I/O), plus the live descendants' counters at
  `stop()`, minus the sampler's own reads of /proc (its threads' counters, /proc/thread-self/io).
  Process-wide, like the CPU account: a process running several attempts at once in threads
  should pass its own samplers (or none).
- `TreeSampler(pid)`: the root's counters (which hold its reaped descendants) plus its live
  descendants', at `stop()` (the root's last seen if it is gone), minus theirs at `start()`.
A process that cannot be read (AccessDenied) makes the figures None: a partial sum would
under-state them.

The sampler measures its own cost (`sampler_cpu_s`): CPU seconds of its thread, plus those of
`start()` and `sample_now()` in the caller's thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import psutil

from collectors import config

log = logging.getLogger("collectors.sampler")

#: Waits before the first samples, seconds (then every `interval`): short jobs are common
#: (a thumbnail takes a fraction of a second), and a job that ends before the first sample is
#: never seen alive. A handful of extra samples costs a few ms of CPU per attempt.
WARMUP_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)

#: A final partial sample shorter than this (seconds) is too coarse for a CPU percentage
#: (CPU times tick every 10 ms), so it counts for the average but not for the maximum,
#: unless it is the only sample.
MIN_MAX_SAMPLE_S = 0.1

_MB = 1e6
_Key = tuple[int, float]  # (pid, create_time): pids are reused, this pair is not.


@dataclass(frozen=True)
class SampleSummary:
    """What the sampler saw. CPU in % of one core; memory in MB (1e6 bytes).

    The CPU/memory figures are None when no sample was taken.
    """

    cpu_pct_avg: float | None
    cpu_pct_max: float | None
    mem_rss_mb_max: float | None
    sample_count: int
    #: CPU seconds the sampling thread itself used (its cost).
    sampler_cpu_s: float = 0.0
    #: Wall seconds between start() and stop().
    wall_s: float = 0.0
    #: CPU seconds of the tree seen over the sampled intervals (= mean % x sampled wall / 100).
    cpu_s: float = 0.0
    #: Bytes the tree read / wrote through system calls between start() and stop() (see the
    #: module docstring); None where io counters are not available.
    bytes_read: int | None = None
    bytes_written: int | None = None


@dataclass(frozen=True)
class Sample:
    """One observation of the tree: CPU over the interval since the previous one, RSS now."""

    cpu_s: float  # CPU seconds of the tree during the interval
    wall_s: float  # the interval's length, seconds
    rss_bytes: int  # sum of RSS at the end of the interval
    processes: int  # processes seen

    @property
    def cpu_pct(self) -> float:
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def summarize(samples: list[Sample], *, sampler_cpu_s: float = 0.0, wall_s: float = 0.0,
              min_max_sample_s: float = MIN_MAX_SAMPLE_S,
              reaped_cpu_s: float = 0.0) -> SampleSummary:
    """Aggregate samples: time-weighted mean CPU, max CPU, max RSS (pure).

    The mean is total CPU seconds / total wall seconds over the sampled intervals, so a short
    last interval weighs what it lasted. Samples shorter than `min_max_sample_s` are left out
    of the maximum unless no other sample exists; the maximum is never below the mean (the
    mean over a span bounds its busiest sample from below). `reaped_cpu_s`: the kernel's
    total CPU of the children reaped meanwhile (getrusage); the CPU seen is at least that, so
    a job that ended between two samples still counts.

    Memory comes from live samples only. The kernel's peak RSS of reaped children
    (ru_maxrss) is no substitute: Linux carries the parent's RSS at fork into the child's
    peak across exec, so it would report the worker's own size.
    """
    if not samples:
        return SampleSummary(None, None, None, 0, sampler_cpu_s, wall_s)
    total_wall = sum(s.wall_s for s in samples)
    total_cpu = max(sum(s.cpu_s for s in samples), reaped_cpu_s)
    avg = 100.0 * total_cpu / total_wall if total_wall > 0 else 0.0
    long_enough = [s.cpu_pct for s in samples if s.wall_s >= min_max_sample_s]
    cpu_max = max(long_enough) if long_enough else max(s.cpu_pct for s in samples)
    cpu_max = max(cpu_max, avg)
    mem_max = max(s.rss_bytes for s in samples) / _MB
    if mem_max == 0 and not any(s.processes for s in samples):
        # No process of the job was seen alive: its memory is unknown, not zero.
        mem = None
        if total_cpu == 0:  # nor any CPU: nothing to report
            return SampleSummary(None, None, None, len(samples), sampler_cpu_s, wall_s)
        return SampleSummary(round(avg, 2), round(cpu_max, 2), mem, len(samples),
                             sampler_cpu_s, wall_s, round(total_cpu, 3))
    return SampleSummary(round(avg, 2), round(cpu_max, 2), round(mem_max, 3), len(samples),
                         sampler_cpu_s, wall_s, round(total_cpu, 3))


@dataclass(frozen=True)
class IoCounts:
    """Bytes read and written (cumulative counters, or a difference of two)."""

    read: int = 0
    written: int = 0

    def __add__(self, other: IoCounts) -> IoCounts:
        return IoCounts(self.read + other.read, self.written + other.written)

    def __sub__(self, other: IoCounts) -> IoCounts:
        return IoCounts(self.read - other.read, self.written - other.written)


class IoUnavailable(Exception):
    """The platform or the process does not let us read io counters."""


def process_io(proc: psutil.Process) -> IoCounts:
    """The process's cumulative bytes through read/write calls (Linux rchar/wchar, which hold
    its reaped children's too), else storage bytes. IoUnavailable without io counters or
    access; psutil.NoSuchProcess when it is gone."""
    counters = getattr(proc, "io_counters", None)
    if counters is None:  # macOS: psutil has no io_counters there
        raise IoUnavailable("no io counters on this platform")
    try:
        io = counters()
    except psutil.AccessDenied as exc:
        raise IoUnavailable(f"io counters of process {proc.pid}: access denied") from exc
    read = getattr(io, "read_chars", None)
    written = getattr(io, "write_chars", None)
    if read is None or written is None:
        return IoCounts(int(io.read_bytes), int(io.write_bytes))
    return IoCounts(int(read), int(written))


def thread_io() -> IoCounts:
    """The calling thread's own bytes through read/write calls (Linux /proc/thread-self/io);
    zero where it cannot be read (then the sampler's own reads stay in the figures)."""
    try:
        with open("/proc/thread-self/io", "rb") as f:
            text = f.read()
    except OSError:
        return IoCounts()
    fields = dict(line.split(b": ", 1) for line in text.splitlines() if b": " in line)
    try:
        return IoCounts(int(fields[b"rchar"]), int(fields[b"wchar"]))
    except (KeyError, ValueError):
        return IoCounts()


def _cpu_total(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    # user + system only: children_* are reaped children, whom we track (or lose) directly.
    return float(times.user + times.system)


@dataclass
class _Tracked:
    proc: psutil.Process
    cpu_s: float  # cumulative CPU seconds at the last look


@dataclass
class TreeSampler:
    """Samples a process tree in a daemon thread; `start()` then `stop() -> SampleSummary`.

    `root_pid`: sample that process and its descendants. None: sample the descendants of the
    current process that are not yet running at `start()` (the process itself excluded).
    `interval`: seconds between samples; None reads MEDIAJOB_SAMPLE_INTERVAL (default 2 s).
    """

    root_pid: int | None = None
    interval: float | None = None
    _interval_s: float = field(init=False, default=config.DEFAULT_SAMPLE_INTERVAL_S)
    _tracked: dict[_Key, _Tracked] = field(init=False, default_factory=dict)
    _excluded: set[_Key] = field(init=False, default_factory=set)
    _samples: list[Sample] = field(init=False, default_factory=list)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _thread: threading.Thread | None = field(init=False, default=None)
    _root: psutil.Process | None = field(init=False, default=None)
    _last: float = field(init=False, default=0.0)
    _started: float = field(init=False, default=0.0)
    _thread_cpu_s: float = field(init=False, default=0.0)  # the sampling thread's CPU
    _caller_cpu_s: float = field(init=False, default=0.0)  # start() and sample_now() CPU
    _summary: SampleSummary | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _rusage0: resource.struct_rusage | None = field(init=False, default=None)
    #: io counters: the tree's at start(), the root's last seen (root mode), the sampler's own
    #: reads (subtracted), and why they cannot be had (None: they can).
    _io0: IoCounts = field(init=False, default_factory=IoCounts)
    _root_io: IoCounts | None = field(init=False, default=None)
    _own_io: IoCounts = field(init=False, default_factory=IoCounts)
    _io_unavailable: str | None = field(init=False, default=None)
    _excluded_cpu_s: float = field(init=False, default=0.0)  # reaped in `excluding()` blocks
    #: Children started before `start()` that are the job's (`adopt`), and when the first did.
    _adopted: set[int] = field(init=False, default_factory=set)
    _since: float | None = field(init=False, default=None)
    #: When the sampled work ended or paused (`hold`, `stop(at=...)`): no interval runs past
    #: it until `resume`.
    _end: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._interval_s = config.positive_arg(
            "interval", self.interval, config.MEDIAJOB_SAMPLE_INTERVAL,
            config.DEFAULT_SAMPLE_INTERVAL_S,
        )

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @property
    def running(self) -> bool:
        """True while the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def adopt(self, pid: int, since: float) -> None:
        """Count child `pid`, started before `start()` at `since` (time.perf_counter()
        seconds), as the job's from its birth (`TreeSampler()` only): `start()` does not leave
        it and its descendants out, and the first interval begins at `since`. `mjcollect run`
        starts the job's command first and its own set-up, this sampler's included, while it
        runs."""
        self._adopted.add(pid)
        self._since = since if self._since is None else min(self._since, since)

    def start(self) -> None:
        """Prime the processes already there and start the sampling thread."""
        if self._thread is not None:
            raise RuntimeError("sampler already started")
        t0 = time.thread_time()
        try:
            if self.root_pid is None:
                self._root = psutil.Process(os.getpid())
                # Children already running are not the block's work, unless adopted.
                self._excluded = {_key(p) for p in _descendants(self._root)
                                  if not self._adopted & _lineage(p, self._root.pid)}
                self._rusage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            else:
                self._root = psutil.Process(self.root_pid)
                self._look(prime=True)  # CPU before start() is not the job's
        except psutil.Error as exc:
            log.warning("sampler: cannot watch process %s: %s", self.root_pid, exc)
            self._root = None
        io0 = thread_io()
        self._io0 = self._tree_io_or_zero()  # last, so the priming's own reads are not in it
        self._own_io += thread_io() - io0  # but the listing after our own counters' read is
        self._started = self._last = (
            time.perf_counter() if self._since is None else self._since)
        if self._adopted and self._root is not None:
            # The job runs already, perhaps not for long: seen alive now, not in 50 ms.
            self._sample()
        self._caller_cpu_s += time.thread_time() - t0
        self._thread = threading.Thread(target=self._loop, name="mediajobs-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0, *, at: float | None = None) -> SampleSummary:
        """Take a last sample, stop the thread (waiting at most `timeout` seconds for it) and
        return the summary (idempotent). `at`: when the sampled work ended
        (time.perf_counter() seconds, e.g. the last command's exit, already sampled by
        `sample_now(at=...)`), so the time since then does not dilute the figures."""
        if self._summary is not None:
            return self._summary
        if self._thread is None:
            self._summary = summarize([])
            return self._summary
        if at is not None:
            with self._lock:
                self._end = at
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("sampler thread did not stop within %s s", timeout)
        wall = (time.perf_counter() if at is None else max(at, self._started)) - self._started
        reaped_cpu = 0.0
        if self._rusage0 is not None:
            # Children reaped during the block (subprocess.run reaps before we can look):
            # the kernel kept their CPU.
            r0, r1 = self._rusage0, resource.getrusage(resource.RUSAGE_CHILDREN)
            reaped_cpu = ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
                          - self._excluded_cpu_s)
        io = self._io_since_start()
        self._summary = replace(
            summarize(list(self._samples),
                      sampler_cpu_s=self._thread_cpu_s + self._caller_cpu_s,
                      wall_s=wall, reaped_cpu_s=reaped_cpu),
            bytes_read=io.read if io else None, bytes_written=io.written if io else None)
        return self._summary

    def hold(self, at: float) -> None:
        """The job's processes ended at `at` (time.perf_counter() seconds), perhaps before
        the caller could look: no sampled interval runs past it until `resume`. Any thread."""
        with self._lock:
            self._end = at if self._end is None else min(self._end, at)

    def resume(self, at: float) -> None:
        """The job goes on at `at` (its next command starts): the time since `hold` is not
        sampled (the collector's, not the job's)."""
        with self._lock:
            if self._end is not None:
                self._last = max(self._last, at)
                self._end = None

    def stop_at(self, at: float) -> SampleSummary:
        """`stop(at=at)`: the sampled work ended at `at` (time.perf_counter() seconds)."""
        return self.stop(at=at)

    @contextlib.contextmanager
    def excluding(self) -> Iterator[None]:
        """Leave out of the figures the children this block starts and reaps, and its own
        I/O: the collector's own work inside an attempt (a deferred probe). Only for
        `TreeSampler()`, whose figures hold the current process's; a no-op otherwise."""
        if self.root_pid is not None or self._root is None:
            yield
            return
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            io0: IoCounts | None = process_io(self._root)
        except (IoUnavailable, psutil.Error):
            io0 = None
        own0 = self._own_io
        try:
            yield
        finally:
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if self._rusage0 is not None:
                # Moving the baseline forward leaves the block's reaped children out.
                cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
                self._excluded_cpu_s += cpu
            if io0 is not None:
                with contextlib.suppress(IoUnavailable, psutil.Error), self._lock:
                    # The process's delta holds the sampling thread's reads meanwhile, which
                    # its samples added to _own_io already: counted once.
                    self._own_io = own0 + (process_io(self._root) - io0)

    @property
    def io_unavailable(self) -> str | None:
        """Why the io figures are None (after stop()), else None."""
        return self._io_unavailable

    def _tree_io(self) -> IoCounts:
        """The tree's cumulative io now (see the module docstring). IoUnavailable when a
        counter cannot be read.

        The live descendants are those of the last look (at stop(), the final sample just
        taken; at start(), the priming), so no extra listing of every process is paid here.
        """
        if self._root is None:
            raise IoUnavailable("no process to watch")
        if self.root_pid is None:
            # Our own counters first: a child reaped after this read and before its own is
            # lost rather than counted twice.
            total = process_io(self._root)
        else:
            try:
                total = self._root_io = process_io(self._root)
            except psutil.NoSuchProcess:
                total = self._root_io or IoCounts()  # gone: its last seen counters
        with self._lock:
            tracked = [t.proc for t in self._tracked.values()]
        for proc in tracked:
            if proc.pid == self._root.pid:
                continue
            try:
                total += process_io(proc)
            except psutil.NoSuchProcess:
                continue  # reaped meanwhile: its counters went to its parent
        return total

    def _tree_io_or_zero(self) -> IoCounts:
        try:
            return self._tree_io()
        except (IoUnavailable, psutil.Error) as exc:
            self._io_unavailable = str(exc)
            return IoCounts()

    def _io_since_start(self) -> IoCounts | None:
        if self._io_unavailable is not None:
            return None
        try:
            io = self._tree_io() - self._io0
        except (IoUnavailable, psutil.Error) as exc:
            self._io_unavailable = str(exc)
            return None
        if self.root_pid is None:
            io -= self._own_io  # our own process's counters hold the sampler's /proc reads
        return IoCounts(max(io.read, 0), max(io.written, 0))

    def sample_now(self, at: float | None = None) -> None:
        """Take a sample from the caller's thread (its CPU counts as the sampler's cost).

        `mjcollect run` calls this when a command has exited but is not yet reaped, so the CPU
        of its last partial interval is not lost. `at`: the time the sample stands for
        (time.perf_counter() seconds; default now), the command's exit when it was noted
        earlier: an exited command's counters no longer move.
        """
        if self._thread is None or self._summary is not None:
            return
        t0 = time.thread_time()
        try:
            self._sample(at)
        except Exception:  # never fail the job for its metrics
            log.exception("sampler: sample_now failed")
        self._caller_cpu_s += time.thread_time() - t0

    def _loop(self) -> None:
        t0 = time.thread_time()
        waits = [w for w in WARMUP_WAITS_S if w < self._interval_s]
        try:
            while not self._stop.wait(waits.pop(0) if waits else self._interval_s):
                self._sample()
            self._sample()  # the last, partial interval
        except Exception:  # the job must never fail because of its metrics
            log.exception("sampler thread failed; figures so far are kept")
        finally:
            self._thread_cpu_s += time.thread_time() - t0

    def _sample(self, at: float | None = None) -> None:
        with self._lock:  # the thread and sample_now() may meet
            io0 = thread_io()  # our reads of /proc count in our own process's io counters
            now = time.perf_counter() if at is None else at
            if self._end is not None:
                now = min(now, self._end)
            wall = now - self._last
            if wall <= 0:
                return
            cpu_s, rss, n = self._look()
            self._last = now
            self._samples.append(Sample(cpu_s=cpu_s, wall_s=wall, rss_bytes=rss, processes=n))
            self._own_io += thread_io() - io0

    def _look(self, *, prime: bool = False) -> tuple[float, int, int]:
        """One pass over the tree: CPU seconds since the last look, RSS sum, process count.

        `prime`: only record where each process's CPU counter stands.
        """
        if self._root is None:
            return 0.0, 0, 0
        procs = _descendants(self._root)
        if self.root_pid is not None:
            procs.insert(0, self._root)
        cpu_delta = 0.0
        rss = 0
        seen = 0
        alive: dict[_Key, _Tracked] = {}
        for proc in procs:
            try:
                with proc.oneshot():
                    key = _key(proc)
                    if key in self._excluded:
                        continue
                    cpu_now = _cpu_total(proc)
                    mem = proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # vanished (or not ours) between listing and reading
            prev = self._tracked.get(key)
            # A process first seen now was born during this interval (or is the primed root):
            # all its CPU since birth belongs to the interval.
            cpu_delta += cpu_now - (prev.cpu_s if prev else 0.0)
            alive[key] = prev or _Tracked(proc, cpu_now)
            alive[key].cpu_s = cpu_now
            rss += mem
            seen += 1
        self._tracked = alive
        if self.root_pid is not None and self._io_unavailable is None:
            # The root's counters hold its reaped descendants': kept in case it is gone at stop.
            with contextlib.suppress(IoUnavailable, psutil.Error):
                self._root_io = process_io(self._root)
        if prime:
            return 0.0, rss, seen
        return max(cpu_delta, 0.0), rss, seen


def _key(proc: psutil.Process) -> _Key:
    return (proc.pid, proc.create_time())


def _lineage(proc: psutil.Process, stop_pid: int) -> set[int]:
    """The pids from `proc` up to (not including) its ancestor `stop_pid`."""
    pids: set[int] = set()
    current: psutil.Process | None = proc
    with contextlib.suppress(psutil.Error):
        while current is not None and current.pid != stop_pid and current.pid not in pids:
            pids.add(current.pid)
            current = current.parent()
    return pids


def _descendants(root: psutil.Process) -> list[psutil.Process]:
    try:
        return root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def tree_sampler(pid: int, interval: float | None = None) -> TreeSampler:
    """A sampler of process `pid` and its descendants."""
    return TreeSampler(root_pid=pid, interval=interval)


def children_sampler(interval: float | None = None) -> TreeSampler:
    """A sampler of the current process's children started after `start()` (attempt API)."""
    return TreeSampler(root_pid=None, interval=interval)
