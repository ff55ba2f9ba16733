"""Where an attempt's wall time goes: the time under each named phase (pure; clock passed in).

A worker names the parts of an attempt (`with a.phase("download"): ...`); this module keeps
the books. The well-known phases are `schema.PHASES` (download, probe, transcode, upload,
other), one dataset column each. A phase of another name counts as "other", and so does time
under no phase at all, so for phases run one after another the figures add up to the attempt's
wall time. Phases may overlap (a download streamed into a transcode): each phase then gets the
whole time it was open, and the figures add up to more than the wall time, which says that they
overlapped. A phase opened twice at once (nested, or in two threads) counts its time once.

Time the collector spends inside the attempt (a probe deferred until a download phase has
fetched the input, sizing a downloaded file) is taken out with `skip`, from the phases and the
wall time alike.
"""

from __future__ import annotations

from collections import Counter
from threading import Lock

from collectors.schema import PHASE_OTHER, PHASES


def phase_key(name: str) -> str:
    """The well-known phase `name` counts under: itself, else "other"."""
    return name if name in PHASES else PHASE_OTHER


class PhaseClock:
    """Seconds under each well-known phase between `begin(now)` and `totals(now)`.

    Times are seconds of one monotonic clock (time.perf_counter), passed in so that the maths
    can be tested without sleeping. Thread-safe: phases may be opened from the job's threads.
    """

    def __init__(self, now: float) -> None:
        self._lock = Lock()
        self._last = now
        self._open: Counter[str] = Counter()
        self._seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.skipped_s = 0.0

    def _advance(self, now: float) -> None:
        elapsed = max(now - self._last, 0.0)
        keys = [k for k, n in self._open.items() if n > 0] or [PHASE_OTHER]
        for key in keys:
            self._seconds[key] += elapsed
        self._last = max(now, self._last)

    def start(self, name: str, now: float) -> None:
        """Open phase `name` at `now`."""
        with self._lock:
            self._advance(now)
            self._open[phase_key(name)] += 1

    def end(self, name: str, now: float) -> None:
        """Close phase `name` at `now`; ValueError when it is not open."""
        key = phase_key(name)
        with self._lock:
            if self._open[key] <= 0:
                raise ValueError(f"phase {name!r} ended but not started")
            self._advance(now)
            self._open[key] -= 1

    def skip(self, start: float, end: float) -> None:
        """Leave the span start..end (the collector's own work) out of every phase."""
        with self._lock:
            self._advance(start)
            self._last = max(end, self._last)
            self.skipped_s += max(end - start, 0.0)

    @property
    def last(self) -> float:
        """The latest time the clock has been given (a phase's start or end, a skip's end)."""
        with self._lock:
            return self._last

    def open_phases(self) -> list[str]:
        """The well-known phases open now."""
        with self._lock:
            return [k for k, n in self._open.items() if n > 0]

    def totals(self, now: float) -> dict[str, float]:
        """Seconds per well-known phase up to `now` (phases still open count until then)."""
        with self._lock:
            self._advance(now)
            return dict(self._seconds)
