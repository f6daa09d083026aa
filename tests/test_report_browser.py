"""The report's HTML as a browser shows it: headless Chromium loads it and its charts are real images."""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flows.report.weekly import ReportResult, build_report
from tests.test_report import NOW, WEEK, fresh, seed_report

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
INSTALL_TIMEOUT = 900
SCREENSHOT_WIDTH = 900
BROWSER_TIMEOUT = 60

# Loads report.html in a same-origin frame and writes what Chromium made of each image into this
# page, so --dump-dom shows whether the browser decoded every chart (naturalWidth > 0).
PROBE_PAGE = """<!DOCTYPE html><html><body><pre id="out">pending</pre>
<iframe id="f" src="report.html" width="1200" height="800"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var imgs = this.contentDocument.querySelectorAll("img");
  var lines = ["images " + imgs.length];
  imgs.forEach(function (img) {
    lines.push("img " + img.complete + " " + img.naturalWidth + "x" + img.naturalHeight);
  });
  document.getElementById("out").textContent = lines.join("\\n");
});
</script></body></html>
"""


def _install_chromium() -> str | None:
    """Install Debian's chromium with apt-get (root only); the reason it could not, or None."""
    if os.geteuid() != 0:
        return "chromium is not installed and the tests do not run as root (apt-get install -y chromium)"
    if shutil.which("apt-get") is None:
        return "chromium is not installed and apt-get is not available on this system"
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    try:
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        if done.returncode != 0:  # stale package lists: refresh once and retry
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=INSTALL_TIMEOUT)
            done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"apt-get install chromium did not finish within {INSTALL_TIMEOUT}s"
    if done.returncode != 0:
        return f"apt-get install chromium failed: {done.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium, installed from Debian's package if missing."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        reason = _install_chromium()
        found = shutil.which("chromium")
        if reason or not found:
            pytest.skip(reason or "chromium installed but not on PATH")
    return str(found)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """The seeded 2026-W48 report, plus the probe page next to it."""
    base = tmp_path_factory.mktemp("browser")
    con = fresh(base / "w.duckdb")
    seed_report(con)
    con.execute("UPDATE sources SET name = '조선일보 사설' WHERE source_id = 'kr_a'")
    con.execute("UPDATE sources SET name = '环球时报' WHERE source_id = 'cn_a'")
    con.execute(
        "UPDATE passages SET text = '萨德系统部署损害中国安全利益，韩国不应盲目追随美国。'"
        " WHERE article_id = 'w48_cn_a0'"
    )
    con.execute("UPDATE articles SET title = '한미 동맹, 사드가 다시 쟁점' WHERE article_id = 'w48_kr_a0'")
    result = build_report(con, WEEK, out_dir=base / "out", now=NOW)
    con.close()
    (result.directory / "probe.html").write_text(PROBE_PAGE, encoding="utf-8")
    (result.directory / "check.html").write_text(CHECK_PAGE, encoding="utf-8")
    return result


@pytest.fixture(scope="module")
def served(report: ReportResult) -> Iterator[str]:
    """Base URL of a loopback HTTP server (127.0.0.1, random port) serving the report directory."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(report.directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run headless Chromium with a fresh profile; fail with its stderr when it fails."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, timeout=BROWSER_TIMEOUT)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


class ImageSources(HTMLParser):
    """Collects the src of every <img> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def assert_non_blank_png(data: bytes, min_side: int = 100) -> None:
    """A decodable PNG, not tiny, with more than one colour and real pixel variance."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert min(pixels.shape[:2]) >= min_side, pixels.shape
    assert pixels.std() > 5.0
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10


def test_chromium_renders_every_chart(
    chromium: str, served: str, report: ReportResult, tmp_path: Path
) -> None:
    dom = run_chromium(chromium, tmp_path / "p1", "--dump-dom", f"{served}/report.html").stdout.decode()
    parser = ImageSources()
    parser.feed(dom)
    assert len(parser.sources) == len(report.chart_paths) == 5
    prefix = "data:image/png;base64,"
    for src in parser.sources:
        assert src.startswith(prefix)
        assert_non_blank_png(base64.b64decode(src[len(prefix) :], validate=True))

    probe = run_chromium(
        chromium, tmp_path / "p2", "--virtual-time-budget=5000", "--dump-dom", f"{served}/probe.html"
    ).stdout.decode()
    lines = probe.split('<pre id="out">', 1)[1].split("</pre>", 1)[0].splitlines()
    assert lines[0] == f"images {len(report.chart_paths)}"
    for line in lines[1:]:
        _, complete, size = line.split()
        width, height = (int(v) for v in size.split("x"))
        assert complete == "true" and width >= 600 and height >= 150, line


# Loads report.html at 1280 px in a same-origin frame and reports what an analyst would see: the
# headline, the summary, every chart decoded, the league table, horizontal overflow, resources
# fetched from anywhere but this origin, and whether Korean/Chinese glyphs differ from tofu (a
# character no font has) when drawn with the page's own font stack on a canvas.
CHECK_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><pre id="out">pending</pre>
<iframe id="f" src="report.html" width="1280" height="900" style="border:0"></iframe>
<script>
function ink(ctx, font, text) {
  ctx.clearRect(0, 0, 200, 60); ctx.font = font; ctx.fillText(text, 5, 40);
  return Array.prototype.join.call(ctx.getImageData(0, 0, 200, 60).data, ",");
}
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument, w = this.contentWindow, out = [];
  var heads = Array.prototype.map.call(d.querySelectorAll("h2"), function (h) { return h.textContent; });
  out.push("h2 " + JSON.stringify(heads));
  out.push("headline " + (d.querySelector("h2 + p strong, h2 + p") ? "yes" : "no"));
  var imgs = d.querySelectorAll("img"), ok = 0;
  imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 300) ok++; });
  out.push("images " + imgs.length + " decoded " + ok);
  var tables = Array.prototype.filter.call(d.querySelectorAll("h2"), function (h) {
    for (var n = h.nextElementSibling; n && n.tagName !== "H2"; n = n.nextElementSibling) {
      if (n.tagName === "TABLE" || n.querySelector("table")) return true;
    }
    return false; }).map(function (h) { return h.textContent; });
  out.push("tables " + JSON.stringify(tables));
  out.push("overflow " + (d.documentElement.scrollWidth - d.documentElement.clientWidth));
  var foreign = performance.getEntriesByType("resource").concat(w.performance.getEntriesByType("resource"))
    .map(function (e) { return e.name; }).filter(function (n) { return n.indexOf(location.origin) !== 0; });
  out.push("foreign " + JSON.stringify(foreign));
  var family = w.getComputedStyle(d.body).fontFamily, ctx = document.createElement("canvas").getContext("2d");
  ctx.canvas.width = 200; ctx.canvas.height = 60;
  var font = "32px " + family, tofu = ink(ctx, font, "\\u0378"), blank = ink(ctx, font, "");
  ["사드가", "萨德系统", "한국어", "环球时报"].forEach(function (t) {
    var bad = t.split("").filter(function (c) {
      var g = ink(ctx, font, c); return g === tofu || g === blank;
    });
    out.push("glyphs " + t + " " + (bad.length ? "tofu:" + bad.join("") : "rendered"));
  });
  document.getElementById("out").textContent = out.join("\\n");
});
</script></body></html>
"""
BLOCK_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def check_lines(chromium: str, served: str, profile: Path) -> dict[str, str]:
    """Run CHECK_PAGE in Chromium (no name resolves but 127.0.0.1) and return its lines by key."""
    dom = run_chromium(
        chromium,
        profile,
        BLOCK_NETWORK,
        "--window-size=1300,1000",
        "--virtual-time-budget=8000",
        "--dump-dom",
        f"{served}/check.html",
    ).stdout.decode()
    text = html.unescape(dom.split('<pre id="out">', 1)[1].split("</pre>", 1)[0])
    lines: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        lines[key] = value if key not in lines else lines[key] + "\n" + value
    return lines


def test_analyst_sees_every_part_in_korean_and_chinese_without_overflow_or_network(
    chromium: str, served: str, report: ReportResult, tmp_path: Path
) -> None:
    got = check_lines(chromium, served, tmp_path / "p3")
    heads = json.loads(got["h2"])
    for head in (
        "Headline",
        "This week",
        "Stance index over time",
        "Outlets this week",
        "Evidence worth quoting",
    ):
        assert head in heads, heads
    assert got["headline"] == "yes"
    assert got["images"] == f"{len(report.chart_paths)} decoded {len(report.chart_paths)}"
    assert {"This week", "Outlets this week"} <= set(json.loads(got["tables"]))
    assert int(got["overflow"]) <= 0, "horizontal scroll at 1280 px"
    assert json.loads(got["foreign"]) == []
    assert got["glyphs"].splitlines() == [
        f"{t} rendered" for t in ("사드가", "萨德系统", "한국어", "环球时报")
    ]


def serve_directory(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    """A started loopback HTTP server (127.0.0.1, random port) for ``directory`` and its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def small_png(shot: Path, out: Path, width: int = SCREENSHOT_WIDTH) -> Path:
    """The top of a screenshot, scaled to ``width`` px and palette-quantised (small enough for a README)."""
    with Image.open(shot) as image:
        top = image.convert("RGB").crop((0, 0, image.width, min(image.height, int(image.width * 1.4))))
        scaled = top.resize((width, round(top.height * width / top.width)), Image.Resampling.LANCZOS)
        out.parent.mkdir(parents=True, exist_ok=True)
        scaled.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    return out


def test_screenshot_of_the_report_is_not_blank(chromium: str, served: str, report: ReportResult) -> None:
    """A 1280 px screenshot; with AXISWATCH_SCREENSHOT_OF=<report.html> (e.g. the demo's) and
    AXISWATCH_SCREENSHOT_TO=docs/report.png it also writes the small PNG the README embeds."""
    source = os.environ.get("AXISWATCH_SCREENSHOT_OF")
    server, base = serve_directory(Path(source).parent) if source else (None, served)
    shot = report.directory / "screenshot.png"
    try:
        run_chromium(
            chromium,
            report.directory.parent / "profile",
            BLOCK_NETWORK,
            f"--screenshot={shot}",
            "--window-size=1280,1800",
            f"{base}/{Path(source).name if source else 'report.html'}",
        )
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    assert_non_blank_png(shot.read_bytes(), min_side=1000)
    target = os.environ.get("AXISWATCH_SCREENSHOT_TO")
    if target:
        assert_non_blank_png(small_png(shot, Path(target)).read_bytes(), min_side=400)
