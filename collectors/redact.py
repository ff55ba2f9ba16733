"""Keep credentials out of logs and rows: URLs lose their user:password and query string.

Pre-signed S3 URLs carry the signature (and sometimes a session token) in the query string,
and `scheme://user:password@host/` carries a password; neither may reach a log or the dataset.
The values of ffmpeg options that carry secrets (SECRET_OPTIONS: `-headers`, `-cookies`,
keys, passwords) are dropped whole.
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
    "-encryption_key", "-activation_bytes", "-audible_key",
})
REDACTED = "<redacted>"

# scheme://[userinfo@]host[/path][?query][#fragment]. Within one argument a URL runs to the end
# of the argument (a path may hold spaces); in free text it stops at whitespace or a quote.
_URL_IN_ARG = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>.*)", re.DOTALL)
_URL_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>[^\s'\"]*)")


def _clean(match: re.Match[str]) -> str:
    rest = re.split(r"[?#]", match.group("rest"), maxsplit=1)[0]
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    return match.group("scheme") + authority + slash + path


def redact_urls(text: str) -> str:
    """`text` with every URL's user info, query string and fragment removed.

    >>> redact_urls("s3://b/k.mp4 https://u:pw@h/x?X-Amz-Signature=abc")
    's3://b/k.mp4 https://h/x'
    """
    return _URL_IN_TEXT.sub(_clean, text)


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
        out.append(_URL_IN_ARG.sub(_clean, arg))
        hide_next = arg in SECRET_OPTIONS
    return out


def command_line(argv: Iterable[str]) -> str:
    """One shell-quoted line of `argv`, credentials removed (for ffmpegCommands and logs)."""
    return shlex.join(redact_argv(argv))
