"""What the primary input is: `probe_media_info(path)` runs ffprobe and returns a `MediaInfo`.

Two halves, as everywhere in the collectors: `parse_ffprobe_json(text, size_bytes)` is a pure
function (no subprocess, tested on canned JSON), `probe_media_info` is the I/O around it.

Safety. ffmpeg reads its input argument as an option when it starts with '-' and as a protocol
when it starts with `name:` (`concat:`, `http://`, `pipe:`, `subfile,,...:`). Such paths are
refused unless the caller passes `allow_protocols=True`. A local file is probed as
`file:<absolute path>` with `-protocol_whitelist file`, so nothing the file contains can make
ffprobe open a URL, and with `-format_whitelist` limited to demuxers that read one media file
(no `hls`, `concat`, `image2`...), so a crafted playlist cannot make it read another local file
either.

Caching: one probe per job and path. A `ProbeCache` holds results keyed by
(real path, mtime, size); the attempt (collectors.attempt) opens one per attempt and makes it
the current cache, so a job calling `probe_media_info` on its primary input inside its attempt
runs no second ffprobe. Outside an attempt nothing is cached unless a cache is passed.

Threads. The current cache is a context variable, which a new thread (a ThreadPoolExecutor's
worker, a `threading.Thread`) does not inherit. So `enter_cache_scope` also registers the cache
as open in the process until it is closed, and a thread in which no scope was ever entered uses
the open cache when there is exactly one: the usual worker, one attempt at a time, whose job
probes in a pool. With two or more attempts open at once (attempts in parallel threads) such a
thread cannot tell whose it is and caches nothing (pass `cache=a.probe_cache`). Sharing is safe
either way: a result is keyed by the file's real path, mtime and size, so a cache hit is the
answer a new ffprobe would give; at worst an unrelated thread of the process reuses it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import re
import signal
import subprocess
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Final, Literal

from collectors import config
from collectors.redact import redact_urls

log = logging.getLogger("collectors.probe")

#: The ffprobe executable (a name looked up on PATH, or a path). Tests point it at wrappers.
FFPROBE = "ffprobe"

#: Demuxers that read exactly one local media file. Everything else (hls, dash, concat, image2
#: patterns, ffmetadata...) could pull in other files, so it is not offered to ffprobe.
#: Names as ffmpeg lists them (`ffprobe -demuxers`); "mov" covers mp4/m4a/3gp/mj2.
SAFE_DEMUXERS: Final[tuple[str, ...]] = (
    "mov", "matroska", "webm", "mpegts", "mpeg", "avi", "flv", "asf", "mxf", "gxf", "dv",
    "nut", "ivf", "yuv4mpegpipe", "h264", "hevc", "m4v", "mpegvideo", "av1", "obu",
    "mp3", "aac", "ac3", "eac3", "dts", "flac", "ogg", "wav", "w64", "aiff", "caf", "amr",
    "amrnb", "amrwb", "loas", "truehd", "wv", "ape", "tta",
    "gif", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
)

ProbeErrorKind = Literal[
    "refused", "missing", "not_media", "corrupt", "no_ffprobe", "timeout", "failed"
]


class ProbeError(Exception):
    """ffprobe could not describe the file. `kind` says why; the message says it for people.

    Kinds: refused (path looks like an option or a protocol), missing (no such file), not_media
    (ffprobe found no media in it), corrupt (media, but unreadable: truncated, damaged),
    no_ffprobe (not installed), timeout, failed (anything else ffprobe reported).
    """

    def __init__(self, kind: ProbeErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ProbeErrorKind = kind


@dataclass(frozen=True)
class MediaInfo:
    """The input characteristics of an attempt row (its input_* columns), from one ffprobe run.

    Video fields are None for audio-only input (cover art does not count as video), audio_codec
    is None for video-only input.
    """

    duration_seconds: float | None  #: seconds; None when the container does not say
    #: Pixels as displayed: a 90/270 degree rotation swaps width and height. The sample aspect
    #: ratio is deliberately not applied (an anamorphic 720x576 stays 720x576): the cost of a
    #: job follows the pixels ffmpeg decodes, which is what the planner's pixel rate models.
    width: int | None
    height: int | None  #: pixels as displayed
    video_codec: str | None  #: ffprobe codec_name of the first video stream ("h264", "hevc")
    audio_codec: str | None  #: ffprobe codec_name of the first audio stream ("aac", "opus")
    bitrate_kbps: float | None  #: container bit rate, kbit/s (1000), else size*8/duration
    fps: float | None  #: average frames per second of the video stream
    size_bytes: int | None  #: bytes of the file (None for URLs)
    format_name: str | None  #: ffprobe format_name ("mov,mp4,m4a,3gp,3g2,mj2")


# --- parsing (pure) -------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    """A finite float from ffprobe's strings ("2.000000", "N/A" -> None)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _rate(value: Any) -> float | None:
    """A frame rate from ffprobe's "30000/1001"; None for "0/0" and other nonsense."""
    if not isinstance(value, str) or "/" not in value:
        return None
    num, _, den = value.partition("/")
    n, d = _number(num), _number(den)
    if n is None or d is None or n <= 0 or d <= 0:
        return None
    return round(n / d, 3)


def _rotation(stream: Mapping[str, Any]) -> float:
    """Degrees of rotation: the Display Matrix side data, else the legacy `rotate` tag."""
    for side in stream.get("side_data_list") or ():
        if isinstance(side, Mapping) and _number(side.get("rotation")) is not None:
            return _number(side.get("rotation")) or 0.0
    tags = stream.get("tags")
    if isinstance(tags, Mapping):
        return _number(tags.get("rotate")) or 0.0
    return 0.0


def _is_cover_art(stream: Mapping[str, Any]) -> bool:
    disposition = stream.get("disposition")
    return isinstance(disposition, Mapping) and bool(disposition.get("attached_pic"))


def _first(streams: list[Mapping[str, Any]], codec_type: str) -> Mapping[str, Any] | None:
    for s in streams:
        if s.get("codec_type") == codec_type and not _is_cover_art(s):
            return s
    return None


def _positive_int(value: Any) -> int | None:
    n = _number(value)
    return int(n) if n is not None and n > 0 else None


def parse_ffprobe_json(text: str, size_bytes: int | None) -> MediaInfo:
    """MediaInfo from the output of `ffprobe -show_format -show_streams -of json`.

    `size_bytes` is the file's size (None for a URL); it backs the bit rate when the container
    gives none. Raises ProbeError(kind="not_media") when the JSON holds no audio or video stream.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ProbeError("failed", f"ffprobe printed no JSON ({exc})") from exc
    if not isinstance(doc, Mapping):
        raise ProbeError("failed", "ffprobe printed no JSON object")
    raw_fmt = doc.get("format")
    fmt: Mapping[str, Any] = raw_fmt if isinstance(raw_fmt, Mapping) else {}
    streams = [s for s in doc.get("streams") or () if isinstance(s, Mapping)]
    video = _first(streams, "video")
    audio = _first(streams, "audio")
    if video is None and audio is None:
        raise ProbeError("not_media", "no audio or video stream")

    duration = _number(fmt.get("duration"))
    if duration is None or duration <= 0:
        # Some containers only carry per-stream durations.
        durations = [d for s in streams if (d := _number(s.get("duration"))) and d > 0]
        duration = max(durations) if durations else None

    if size_bytes is None:
        size_bytes = _positive_int(fmt.get("size"))
    bit_rate = _number(fmt.get("bit_rate"))
    if bit_rate is not None and bit_rate > 0:
        bitrate_kbps: float | None = round(bit_rate / 1000.0, 1)
    elif size_bytes and duration:
        bitrate_kbps = round(size_bytes * 8 / duration / 1000.0, 1)
    else:
        bitrate_kbps = None

    width = height = None
    fps = None
    if video is not None:
        width, height = _positive_int(video.get("width")), _positive_int(video.get("height"))
        if round(abs(_rotation(video))) % 180 == 90:
            width, height = height, width
        fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))

    format_name = fmt.get("format_name")
    return MediaInfo(
        duration_seconds=round(duration, 6) if duration is not None else None,
        width=width,
        height=height,
        video_codec=str(video["codec_name"]) if video and video.get("codec_name") else None,
        audio_codec=str(audio["codec_name"]) if audio and audio.get("codec_name") else None,
        bitrate_kbps=bitrate_kbps,
        fps=fps,
        size_bytes=size_bytes,
        format_name=str(format_name) if format_name else None,
    )


# --- paths ----------------------------------------------------------------------------------

# ffmpeg's own test (libavformat/avio.c url_find_protocol): scheme characters then ':', or the
# 'subfile,' form. One letter followed by ':' would be a DOS drive, not relevant on workers.
_PROTOCOL = re.compile(r"^(?:[A-Za-z0-9+.-]{2,}:|subfile,)")


def refusal(path: str) -> str | None:
    """Why `path` may not be handed to ffprobe as a local file, or None when it may."""
    if not path:
        return "empty path"
    if "\x00" in path:
        return "path contains a NUL byte"
    if path.startswith("-"):
        return f"path looks like an ffmpeg option: {path!r}"
    if _PROTOCOL.match(path):
        return f"path looks like an ffmpeg protocol or URL: {redact_urls(path)!r}"
    return None


# --- the cache ------------------------------------------------------------------------------

_CacheKey = tuple[str, int, int]


class ProbeCache:
    """Probe results of one job (one attempt), keyed by (real path, mtime ns, size).

    A changed file (new mtime or size) is probed again. Thread-safe. `runs` counts the
    ffprobe processes started through this cache.
    """

    def __init__(self) -> None:
        self._items: dict[_CacheKey | tuple[str], MediaInfo] = {}
        self._lock = threading.Lock()
        self.runs = 0
        #: Set when its job ended: a closed cache is never the current one any more, even in
        #: a context whose scope could not be reset (finish() called from another thread).
        self.closed = False

    def close(self) -> None:
        """End the cache's job scope (the results stay readable); no longer open to threads."""
        self.closed = True
        _forget(self)

    def get(self, key: _CacheKey | tuple[str]) -> MediaInfo | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: _CacheKey | tuple[str], info: MediaInfo) -> None:
        with self._lock:
            self._items[key] = info

    def count_run(self) -> None:
        with self._lock:
            self.runs += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


# No default: "no scope entered in this context" (LookupError) differs from an explicit None.
_current_cache: contextvars.ContextVar[ProbeCache | None] = contextvars.ContextVar(
    "collectors_probe_cache"
)
#: Caches of the attempts open in the process (weak: a dropped, never-closed one goes too).
_open_caches: weakref.WeakSet[ProbeCache] = weakref.WeakSet()
_open_lock = threading.Lock()


def _forget(cache: ProbeCache) -> None:
    with _open_lock:
        _open_caches.discard(cache)


@contextmanager
def cache_scope(cache: ProbeCache) -> Iterator[ProbeCache]:
    """Make `cache` the default of `probe_media_info` in this context (thread / task)."""
    token = _current_cache.set(cache)
    try:
        yield cache
    finally:
        _current_cache.reset(token)


def enter_cache_scope(cache: ProbeCache | None) -> contextvars.Token[ProbeCache | None]:
    """Make `cache` current until `exit_cache_scope(token)` (for start/finish style APIs), and
    register it as open in the process until `cache.close()`: threads without a scope of their
    own use it while it is the only open one (see the module doc)."""
    if cache is not None and not cache.closed:
        with _open_lock:
            _open_caches.add(cache)
    return _current_cache.set(cache)


def exit_cache_scope(token: contextvars.Token[ProbeCache | None]) -> None:
    """Undo `enter_cache_scope`. Raises ValueError when called in another context (thread)."""
    _current_cache.reset(token)


def current_cache() -> ProbeCache | None:
    """The cache of the enclosing `cache_scope` (the running attempt), if any and not closed;
    in a context where no scope was entered (a thread the job started), the process's only
    open attempt cache, if exactly one is open."""
    try:
        cache = _current_cache.get()
    except LookupError:
        with _open_lock:
            open_now = [c for c in _open_caches if not c.closed]
        cache = open_now[0] if len(open_now) == 1 else None
    return cache if cache is not None and not cache.closed else None


class _Default:
    def __repr__(self) -> str:
        return "CURRENT"


#: `cache=CURRENT` (the default) means the cache of the running attempt, or none.
CURRENT: Final = _Default()


# --- running ffprobe ------------------------------------------------------------------------

def _ffprobe_argv(target: str, *, restricted: bool) -> list[str]:
    argv = [FFPROBE, "-v", "error", "-hide_banner"]
    if restricted:
        argv += ["-protocol_whitelist", "file", "-format_whitelist", ",".join(SAFE_DEMUXERS)]
    argv += ["-show_format", "-show_streams", "-of", "json", target]
    return argv


def _classify(stderr: str, label: str, target: str) -> ProbeError:
    """ProbeError from ffprobe's message (its last line names the cause).

    `label` is the path as the caller gave it, `target` what ffprobe was given (its messages
    start with it, which the detail drops).
    """
    stderr = redact_urls(stderr)
    label = redact_urls(label)
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    detail = lines[-1] if lines else "no message"
    prefix = redact_urls(target) + ": "
    if detail.startswith(prefix):
        detail = detail[len(prefix):]
    low = stderr.lower()
    if "no such file" in low:
        return ProbeError("missing", f"no such file: {label}")
    refused = re.search(r"\[(\w+) @ [^]]*\] Format not on whitelist", stderr)
    if refused:
        return ProbeError(
            "not_media",
            f"not a media file: {label} (ffprobe reads it as {refused.group(1)!r}, "
            "not a single-file media container)",
        )
    if any(s in low for s in ("moov atom not found", "truncat", "invalid nal", "corrupt",
                              "error reading header", "end of file")):
        return ProbeError("corrupt", f"corrupt or truncated media: {label} ({detail})")
    if "invalid data found" in low:
        return ProbeError("not_media", f"not a media file ffprobe can read: {label} ({detail})")
    return ProbeError("failed", f"ffprobe failed on {label}: {detail}")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _start(argv: list[str], label: str) -> subprocess.Popen[bytes]:
    """ffprobe started (not waited for); ProbeError on a missing binary."""
    try:
        # A new session so that a timeout kills ffprobe and anything it started, at once.
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError as exc:
        raise ProbeError("no_ffprobe", f"ffprobe not found ({argv[0]!r}): install ffmpeg") \
            from exc
    except OSError as exc:
        raise ProbeError("no_ffprobe", f"cannot run ffprobe ({argv[0]!r}): {exc}") from exc


def _output(proc: subprocess.Popen[bytes], argv: list[str], timeout: float, label: str) -> str:
    """stdout of a started ffprobe; ProbeError on a timeout or a non-zero exit."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        raise ProbeError(
            "timeout", f"ffprobe took longer than {timeout:g} s on {redact_urls(label)}"
        ) from exc
    except BaseException:  # e.g. KeyboardInterrupt: leave no ffprobe behind, then go on
        _kill(proc)
        raise
    if proc.returncode != 0:
        raise _classify(err.decode("utf-8", "replace"), label, argv[-1])
    return out.decode("utf-8", "replace")


class PendingProbe:
    """A probe under way (`start_probe`): `result()` waits for it (once). Holds the cached
    answer, the error found before ffprobe was needed, or the ffprobe process started."""

    def __init__(self, *, info: MediaInfo | None = None, error: ProbeError | None = None,
                 run: tuple[subprocess.Popen[bytes], list[str], float, str] | None = None,
                 key: _CacheKey | tuple[str] | None = None, size: int | None = None,
                 shown: str = "", store: ProbeCache | None = None) -> None:
        self._info, self._error, self._run = info, error, run
        self._key, self._size, self._shown, self._store = key, size, shown, store

    def result(self) -> MediaInfo:
        """The MediaInfo; raises ProbeError (see probe_media_info)."""
        if self._error is not None:
            raise self._error
        if self._info is not None:
            return self._info
        assert self._run is not None and self._key is not None
        proc, argv, limit, label = self._run
        self._run = None
        out = _output(proc, argv, limit, label)
        try:
            info = parse_ffprobe_json(out, self._size)
        except ProbeError as exc:
            raise ProbeError(exc.kind, f"{exc}: {self._shown}") from exc
        if self._store is not None:
            self._store.put(self._key, info)
        self._info = info
        return info


def start_probe(
    path: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    allow_protocols: bool = False,
    cache: ProbeCache | _Default | None = CURRENT,
) -> PendingProbe:
    """`probe_media_info`, started: ffprobe runs while the caller does other work, and
    `.result()` gives what probe_media_info would return or raise. ValueError for a bad
    explicit timeout (at once)."""
    limit = config.positive_arg("timeout", timeout, config.MEDIAJOB_PROBE_TIMEOUT,
                                config.DEFAULT_PROBE_TIMEOUT_S)
    text = os.fspath(path)
    store = current_cache() if isinstance(cache, _Default) else cache
    try:
        if text.startswith("-"):
            raise ProbeError("refused",
                             f"path looks like an ffmpeg option: {redact_urls(text)!r}")
        if allow_protocols and _PROTOCOL.match(text):
            return _start_url(text, limit, store)
        why = refusal(text)
        if why is not None:
            raise ProbeError("refused", why + " (pass allow_protocols=True to probe it)")
        real = os.path.realpath(text)
        try:
            st = os.stat(real)
        except FileNotFoundError as exc:
            raise ProbeError("missing", f"no such file: {text}") from exc
        except OSError as exc:
            raise ProbeError("missing", f"cannot stat {text}: {exc.strerror}") from exc
        if not os.path.isfile(real):
            raise ProbeError("not_media", f"not a regular file: {text}")
        key: _CacheKey = (real, st.st_mtime_ns, st.st_size)
        if store is not None and (hit := store.get(key)) is not None:
            return PendingProbe(info=hit)
        if store is not None:
            store.count_run()
        argv = _ffprobe_argv("file:" + real, restricted=True)
        return PendingProbe(run=(_start(argv, text), argv, limit, text), key=key,
                            size=st.st_size, shown=text, store=store)
    except ProbeError as exc:
        return PendingProbe(error=exc)


def probe_media_info(
    path: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    allow_protocols: bool = False,
    cache: ProbeCache | _Default | None = CURRENT,
) -> MediaInfo:
    """Describe the media at `path` with one ffprobe run (or none, when cached).

    timeout: seconds before ffprobe is killed (default MEDIAJOB_PROBE_TIMEOUT, else 30).
    allow_protocols: a path that looks like a protocol or URL (`https://...`, `concat:...`) is
    passed to ffprobe as given, with no protocol or demuxer restriction; only for inputs the
    caller trusts. Plain local paths are always probed restricted; `-x` is always refused.
    cache: a ProbeCache, None for no caching, or CURRENT (default): the running attempt's.

    Raises ProbeError (see its kinds); ValueError for a bad explicit timeout.
    """
    return start_probe(path, timeout=timeout, allow_protocols=allow_protocols,
                       cache=cache).result()


def _start_url(url: str, limit: float, store: ProbeCache | None) -> PendingProbe:
    key = (url,)
    if store is not None and (hit := store.get(key)) is not None:
        return PendingProbe(info=hit)
    if store is not None:
        store.count_run()
    argv = _ffprobe_argv(url, restricted=False)
    return PendingProbe(run=(_start(argv, url), argv, limit, url), key=key, size=None,
                        shown=redact_urls(url), store=store)
