"""Reading the HTML report back in tests: its tables by title and its <pre> blocks."""

from __future__ import annotations

from html.parser import HTMLParser


class ReportTables(HTMLParser):
    """The report's tables: {h3 title: [row cells...]} (header row included), plus <pre>s."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.pres: list[str] = []
        self._title: str | None = None
        self._in: str | None = None
        self._text = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h3", "td", "th", "pre"):
            self._in, self._text = tag, ""
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self._in == "h3":
            self._title = self._text
            self.tables[self._title] = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(self._text)
        elif tag == "tr" and self._row is not None and self._title is not None:
            self.tables[self._title].append(self._row)
            self._row = None
        elif tag == "pre":
            self.pres.append(self._text)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data
