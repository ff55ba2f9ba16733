"""Credentials never reach a row or a log: every URL of an argument, query secrets, -headers."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.redact import command_line, redact_argv, redact_urls

# Characters a URL may carry in user info (RFC 3986 unreserved, sub-delims, ':' and '%')
# and in a query value (also '/', '?', '@': an X-Amz-Credential holds slashes).
_USERINFO = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:%"
_QUERY = _USERINFO + "/?@"
_HOST = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
_PATH = st.text(string.ascii_lowercase + string.digits + "/._-", max_size=20)
_SCHEMES = ("http", "https", "rtmp", "rtmps", "ftp", "srt", "s3", "tcp")
_SECRET_KEYS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "token",
                "sig", "password", "key")


def _secret(alphabet: str) -> st.SearchStrategy[str]:
    # Upper-case marker: hosts and paths are lower case, so it cannot appear by chance.
    return st.text(alphabet, min_size=1, max_size=24).map(lambda s: f"SECRETQ{s}")


@st.composite
def url_with_secret(draw: st.DrawFn) -> tuple[str, str]:
    scheme = draw(st.sampled_from(_SCHEMES))
    host, path = draw(_HOST), draw(_PATH)
    if draw(st.booleans()):
        secret = draw(_secret(_USERINFO))
        user = draw(st.text(string.ascii_lowercase, max_size=8))
        return f"{scheme}://{user}:{secret}@{host}/{path}", secret
    secret = draw(_secret(_QUERY))
    key = draw(st.sampled_from(_SECRET_KEYS))
    other = draw(st.sampled_from(("", "a=1&", "X-Amz-Date=20261207T000000Z&")))
    mark = draw(st.sampled_from(("?", "#")))
    return f"{scheme}://{host}/{path}{mark}{other}{key}={secret}", secret


@st.composite
def argument_with_secrets(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """An ffmpeg argument list holding secrets in one of the shapes ffmpeg takes."""
    urls = draw(st.lists(url_with_secret(), min_size=1, max_size=4))
    secrets = [s for _, s in urls]
    links = [u for u, _ in urls]
    shape = draw(st.sampled_from(("plain", "concat", "tee", "spaced", "headers")))
    if shape == "concat":
        arg = "concat:" + "|".join(links)
    elif shape == "tee":
        fmts = draw(st.lists(st.sampled_from(("f=flv", "f=mp4:onfail=ignore", "select=a")),
                             min_size=len(links), max_size=len(links)))
        arg = "|".join(f"[{f}]{u}" for f, u in zip(fmts, links, strict=True))
    elif shape == "spaced":
        arg = draw(st.sampled_from((" ", ", ", ";"))).join(links)
    elif shape == "headers":
        token = draw(_secret(string.ascii_letters + string.digits + "+/=-_."))
        secrets.append(token)
        return ["ffmpeg", "-headers", f"Authorization: Bearer {token}\r\n", "-i", links[0],
                "out.mp4"], secrets
    else:
        arg = links[0]
        secrets = secrets[:1]
    return ["ffmpeg", "-i", arg, "-c", "copy", "out.mp4"], secrets


@settings(max_examples=300, deadline=None)
@given(argument_with_secrets())
def test_no_secret_survives_in_any_argument_shape(case: tuple[list[str], list[str]]) -> None:
    argv, secrets = case
    line = command_line(argv)
    cleaned = redact_argv(argv)
    for secret in secrets:
        assert secret not in line
        assert all(secret not in a for a in cleaned)


@settings(max_examples=200, deadline=None)
@given(st.lists(url_with_secret(), min_size=1, max_size=4),
       st.sampled_from((" ", "|", " and ", "\n")))
def test_no_secret_survives_in_free_text(urls: list[tuple[str, str]], sep: str) -> None:
    # Free text (an error message): the secrets here hold no quote or space, which end a URL.
    text = "Error opening " + sep.join(u for u, _ in urls) + " refused"
    out = redact_urls(text)
    for _, secret in urls:
        if "'" not in secret:
            assert secret not in out
    assert out.startswith("Error opening ") and out.endswith(" refused")


def test_the_issue_examples_keep_hosts_and_paths() -> None:
    assert command_line(["ffmpeg", "-i", "concat:http://a:pw@h/a.ts|http://bob:SECRET@h/b.ts"]) \
        == "ffmpeg -i 'concat:http://h/a.ts|http://h/b.ts'"
    tee = "[f=flv]rtmp://u:SECRET@h/app|[f=mp4]https://h2/o.mp4?X-Amz-Signature=S&token=T"
    assert redact_argv(["-f", "tee", tee]) == [
        "-f", "tee", "[f=flv]rtmp://h/app|[f=mp4]https://h2/o.mp4"]
    assert redact_argv(["-key:v", "0011", "-i", "in.mp4"]) == [
        "-key:v", "<redacted>", "-i", "in.mp4"]
    assert redact_urls("open 'https://u:p@h/x?sig=1' failed") == "open 'https://h/x' failed"
