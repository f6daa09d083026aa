"""The report's HTML as a browser shows it: headless Chromium loads it and its charts are real images."""

from __future__ import annotations

import base64
import functools
import io
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
    result = build_report(con, WEEK, out_dir=base / "out", now=NOW)
    con.close()
    (result.directory / "probe.html").write_text(PROBE_PAGE, encoding="utf-8")
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
    assert len(parser.sources) == len(report.chart_paths) == 4
    prefix = "data:image/png;base64,"
    for src in parser.sources:
        assert src.startswith(prefix)
        assert_non_blank_png(base64.b64decode(src[len(prefix) :], validate=True))

    probe = run_chromium(
        chromium, tmp_path / "p2", "--virtual-time-budget=5000", "--dump-dom", f"{served}/probe.html"
    ).stdout.decode()
    lines = probe.split('<pre id="out">', 1)[1].split("</pre>", 1)[0].splitlines()
    assert lines[0] == "images 4"
    for line in lines[1:]:
        _, complete, size = line.split()
        width, height = (int(v) for v in size.split("x"))
        assert complete == "true" and width >= 600 and height >= 150, line


def test_screenshot_of_the_report_is_not_blank(chromium: str, served: str, report: ReportResult) -> None:
    shot = report.directory / "screenshot.png"
    run_chromium(
        chromium,
        report.directory.parent / "profile",
        f"--screenshot={shot}",
        "--window-size=1200,1800",
        f"{served}/report.html",
    )
    assert_non_blank_png(shot.read_bytes(), min_side=1000)
