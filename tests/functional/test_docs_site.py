"""The docs site of a multi-target project, rendered by headless Chromium: a federated model's
page names its inputs on both targets, and every node says where DVT writes and runs it."""

from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

CHROMIUM = shutil.which("chromium")

FILES = {
    "dbt_project.yml": dbt_project_yml("docsite", "seeds:\n  docsite:\n    +target: duck\n"),
    "seeds/countries.csv": "code,country\nNZ,New Zealand\nFR,France\n",
    "models/sources.yml": """\
        sources:
          - name: crm
            schema: crm
            config: {connection: pg}
            tables: [{name: customers}]
        """,
    "models/customer_countries.sql": """\
        {{ config(materialized='table') }}
        select c.id, c.name, k.country
        from {{ source('crm', 'customers') }} c
        join {{ ref('countries') }} k on k.code = c.country_code
        """,
}


@pytest.fixture
def site(postgres: PostgresServer, tmp_path: Path) -> Path:
    """The project built and documented: its `target/` folder, ready to serve."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: install Debian's `chromium` (scripts/setup.sh)")
        pytest.skip("chromium is not installed (bash scripts/setup.sh dev installs it)")
    database = f"docs_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema crm; create table crm.customers (id int, name text, country_code text);"
        "insert into crm.customers values (1, 'Ann', 'NZ'), (2, 'Bob', 'FR');",
        database,
    )
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "pg",
    )
    built = project.dvt("build")
    assert built.success, built.exception
    documented = project.dvt("docs", "generate")
    assert documented.success, documented.exception
    return project.root / "target"


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    """`target/` over HTTP on 127.0.0.1, as `dvt docs serve` would serve it."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium that can reach nothing but 127.0.0.1; return its stdout."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_colours(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct colours of an 8-bit RGB(A) PNG, decoded with the stdlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    size = 3 if colour_type == 2 else 4
    stride = width * size
    raw = zlib.decompress(b"".join(chunks))
    previous, colours = bytearray(stride), set()
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        unfilter(raw[start], line, previous, size)
        colours.update(bytes(line[i : i + size]) for i in range(0, stride, size))
        previous = line
    return width, height, colours


def unfilter(kind: int, line: bytearray, previous: bytearray, size: int) -> None:
    """Undo one scanline's PNG filter in place (PNG spec, section 9)."""
    for i in range(len(line)):
        left = line[i - size] if i >= size else 0
        up, corner = previous[i], previous[i - size] if i >= size else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 2:
            line[i] = (line[i] + up) & 255
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 255
        elif kind == 4:
            guess = left + up - corner
            nearest = min(
                (abs(guess - left), 0, left),
                (abs(guess - up), 1, up),
                (abs(guess - corner), 2, corner),
            )
            line[i] = (line[i] + nearest[2]) & 255


class Page(html.parser.HTMLParser):
    """A rendered page: its visible words (no script or style) and its detail label/values."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.words: list[str] = []
        self.details: dict[str, str] = {}
        self._hidden = 0
        self._detail: list[str] | None = None
        self._label: str | None = None
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")
        if tag in ("dt", "dd"):
            self._detail = []

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style")
        if tag in ("dt", "dd") and self._detail is not None:
            text, self._detail = " ".join(self._detail), None
            if tag == "dt":
                self._label = text
            elif self._label is not None:
                self.details.setdefault(self._label, text)

    def handle_data(self, data: str) -> None:
        if self._hidden or not data.strip():
            return
        self.words.append(data.strip())
        if self._detail is not None:
            self._detail.append(data.strip())

    def section(self, title: str, end: str) -> list[str]:
        """The words of the page's last `title` section, up to the next `end` heading."""
        start = len(self.words) - self.words[::-1].index(title)
        return self.words[start : self.words.index(end, start)]


def test_docs_site_shows_lineage_across_targets(served: str, site: Path, tmp_path: Path) -> None:
    def page(route: str) -> Page:
        return Page(chromium(tmp_path / "chromium", "--dump-dom", f"{served}#!/{route}"))

    model = page("model/model.docsite.customer_countries")
    assert "customer_countries" in model.words
    # Its inputs: a DuckDB seed, listed, and a PostgreSQL source, under its own type's tab
    # (the docs site names the source type "Nodes").
    depends_on = model.section("Depends On", "Code")
    assert "countries" in depends_on and {"Seeds", "Nodes"} <= set(depends_on), depends_on
    assert model.details["DVT target"] == "pg"
    assert model.details["DVT path"] == "federation"
    assert model.details["DVT reads"] == "duck, pg"

    seed = page("seed/seed.docsite.countries")
    assert seed.section("Referenced By", "Depends On") == ["Models", "customer_countries"]
    assert (seed.details["DVT target"], seed.details["DVT path"]) == ("duck", "pushdown:duck")

    source = page("source/source.docsite.crm.customers")
    assert "customer_countries" in source.section("Referenced By", "Code")
    assert source.details["DVT target"] == "pg"

    # The catalog the site loaded says where every node and source lives.
    catalog = json.loads((site / "catalog.json").read_text())
    where = {
        uid: {k: s["value"] for k, s in entry["stats"].items() if k.startswith("dvt_")}
        for part in ("nodes", "sources")
        for uid, entry in catalog[part].items()
    }
    assert where == {
        "model.docsite.customer_countries": {
            "dvt_target": "pg",
            "dvt_path": "federation",
            "dvt_reads": "duck, pg",
        },
        "seed.docsite.countries": {
            "dvt_target": "duck",
            "dvt_path": "pushdown:duck",
            "dvt_reads": "-",
        },
        "source.docsite.crm.customers": {"dvt_target": "pg"},
    }

    screenshot = tmp_path / "model.png"
    chromium(
        tmp_path / "chromium",
        f"--screenshot={screenshot}",
        "--window-size=1000,700",
        f"{served}#!/model/model.docsite.customer_countries",
    )
    width, height, colours = png_colours(screenshot.read_bytes())
    assert (width, height) == (1000, 700)
    assert len(colours) > 16, "the screenshot is blank"
