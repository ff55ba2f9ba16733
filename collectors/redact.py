"""Keep credentials out of logs and rows: URLs lose their user:password and query string.

Pre-signed S3 URLs carry the signature (and sometimes a session token) in the query string,
and `scheme://user:password@host/` carries a password; neither may reach a log or the dataset.
Every URL counts, not only the first of an argument: ffmpeg takes several in one argument
(`concat:URL|URL`, tee outputs `[f=flv]URL|[f=mp4]URL`), so a URL is taken to run to the next
`scheme://` (and, in free text, to whitespace or a quote); its query string and fragment run to
the next `|` (the concat and tee separator). Over-redacting an odd path is the price of never
keeping a secret: user info is cut up to the last `@` before the first `/`.

The values of ffmpeg options that carry secrets (SECRET_OPTIONS: `-headers`, `-cookies`,
keys, passwords) are dropped whole, also with a stream specifier (`-key:v`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

#: ffmpeg options whose value may hold a secret; the value is replaced, not parsed. HTTP
#: headers and cookies (Authorization...), protocol passwords, the SRT passphrase and the keys of
#: encrypted media (crypto protocol, CENC, Audible), as `ffmpeg -h full` lists them.
SECRET_OPTIONS = frozenset({
    "-headers", "-cookies", "-password", "-passphrase", "-key", "-decryption_key",
    "-encryption_key", "-activation_bytes", "-audible_key", "-auth_key",
})
REDACTED = "<redacted>"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_TEXT_END = re.compile(r"[\s'\"]")
_QUERY = re.compile(r"[?#]")
_AUTHORITY_END = re.compile(r"[/|]")


def _redact(text: str, *, free_text: bool) -> str:
    """Every URL of `text` without user info, query string and fragment. A URL runs to the next
    `scheme://` (in free text also to whitespace or a quote); its query or fragment runs on to
    the next `|` (what follows the `?` is dropped whole, a URL nested in it too)."""
    out: list[str] = []
    pos = 0
    while (m := _SCHEME.search(text, pos)) is not None:
        out.append(text[pos : m.start()])
        limit = len(text)
        if free_text:
            edge = _TEXT_END.search(text, m.end())
            limit = edge.start() if edge else limit
        nxt = _SCHEME.search(text, m.end(), limit)
        stop = nxt.start() if nxt else limit
        slash = _AUTHORITY_END.search(text, m.end(), stop)
        authority_end = slash.start() if slash else stop
        host = text.rfind("@", m.end(), authority_end) + 1 or m.end()
        query = _QUERY.search(text, host, stop)
        if query is None:
            out.append(m.group() + text[host:stop])
            pos = stop
        else:
            bar = text.find("|", query.start(), limit)
            out.append(m.group() + text[host : query.start()])
            pos = bar if bar >= 0 else limit
    out.append(text[pos:])
    return "".join(out)


def redact_urls(text: str) -> str:
    """`text` with every URL's user info, query string and fragment removed.

    >>> redact_urls("s3://b/k.mp4 https://u:pw@h/x?X-Amz-Signature=abc")
    's3://b/k.mp4 https://h/x'
    >>> redact_urls("concat:http://a:pw@h/a.ts|http://bob:SECRET@h/b.ts?token=t")
    'concat:http://h/a.ts|http://h/b.ts'
    """
    return _redact(text, free_text=True)


def redact_arg(arg: str) -> str:
    """One argument with every URL in it cleaned (a URL may hold spaces here: it runs to the
    next URL or the end of the argument)."""
    return _redact(arg, free_text=False)


def is_secret_option(arg: str) -> bool:
    """Whether `arg` is an option whose value is a secret (`-headers`, `-key:v`...)."""
    return arg.split(":", 1)[0] in SECRET_OPTIONS


def redact_argv(argv: Iterable[str]) -> list[str]:
    """Each argument with its URLs cleaned; the values of SECRET_OPTIONS replaced."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        out.append(redact_arg(arg))
        hide_next = is_secret_option(arg)
    return out


def command_line(argv: Iterable[str]) -> str:
    """One shell-quoted line of `argv`, credentials removed (for ffmpegCommands and logs)."""
    return shlex.join(redact_argv(argv))
