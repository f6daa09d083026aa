"""`axiswatch web` in a real browser: headless Chromium driven through the DevTools protocol.

Opens the dashboard and clicks a point, opens an article (a hostile one: nothing may execute),
searches in Korean, labels three passages with the keyboard, reloads and finds the labels, exports
them. Screenshots go to the test's directory, and to $AXISWATCH_WEB_SCREENSHOTS when set (docs/).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from flows.settings import Settings
from tests.test_report_browser import CHROMIUM_FLAGS, assert_non_blank_png, chromium  # noqa: F401
from tests.web_site import WebWarehouse, web_server_fixture, web_warehouse_fixture  # noqa: F401

KEYS = {
    "1": ("Digit1", 49),
    "2": ("Digit2", 50),
    "3": ("Digit3", 51),
    "4": ("Digit4", 52),
    "s": ("KeyS", 83),
    "Enter": ("Enter", 13),
    "Escape": ("Escape", 27),
}


class Browser:
    """A tiny DevTools-protocol client for one page."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a protocol method and wait for its result (events in between are dropped)."""
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == ident:
                assert "error" not in message, message
                return dict(message.get("result", {}))

    def eval(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its value."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 15.0) -> Any:
        """Wait until an expression is truthy in a fully loaded page; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(f"document.readyState === 'complete' && ({expression})")
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(
            f"timed out waiting for {expression}; at {self.eval('location.href')}: "
            f"{self.eval('document.body.innerText.slice(0, 300)')}"
        )

    def goto(self, url: str) -> None:
        """Navigate and wait for the load."""
        self.send("Page.navigate", url=url)
        self.wait(f"location.href === {json.dumps(url)}")

    def key(self, key: str) -> None:
        """Press and release one key."""
        code, vk = KEYS[key]
        text = {"Enter": "\r"}.get(key, key if len(key) == 1 else "")
        self.send(
            "Input.dispatchKeyEvent", type="keyDown", key=key, code=code, windowsVirtualKeyCode=vk, text=text
        )
        self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk)

    def type(self, selector: str, text: str) -> None:
        """Focus a field, clear it and type text into it."""
        self.eval(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.focus(); e.value = ''; })()"
        )
        self.send("Input.insertText", text=text)

    def mouse(self, kind: str, x: float, y: float) -> None:
        """One mouse event at (x, y)."""
        extra = {"button": "left", "clickCount": 1} if kind != "mouseMoved" else {}
        self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)

    def shot(self, name: str, out: list[Path]) -> None:
        """Save a PNG screenshot of the viewport in every output directory."""
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        assert_non_blank_png(data, min_side=300)
        for directory in out:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / f"web-{name}.png").write_bytes(data)


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Browser]:  # noqa: F811
    """Headless Chromium with remote debugging on loopback, one page attached."""
    command = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        "--window-size=1200,820",
        "about:blank",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = _devtools_port(proc)
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        target = next(p for p in pages if p["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            yield Browser(ws)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _devtools_port(proc: subprocess.Popen[str]) -> int:
    """Read the DevTools port from Chromium's stderr."""
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            return int(found.group(1))
    raise AssertionError("chromium did not report its DevTools port")


def test_workbench_in_chromium(
    browser: Browser,
    web_server: tuple[str, Settings],
    web_warehouse: WebWarehouse,
    tmp_path: Path,
) -> None:
    base, settings = web_server
    out = [tmp_path / "shots"] + (
        [Path(os.environ["AXISWATCH_WEB_SCREENSHOTS"])] if os.environ.get("AXISWATCH_WEB_SCREENSHOTS") else []
    )
    browser.goto(base + "/")
    rect = browser.wait(
        "(() => { const c = document.querySelector('circle.point:not(.hollow)')"
        " || document.querySelector('circle.point'); if (!c) return null;"
        " const r = c.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    browser.mouse("mouseMoved", *rect)
    tip = browser.wait("!document.getElementById('tip').hidden && document.getElementById('tip').textContent")
    assert re.search(r"n=\d+\s+(95% \[|no interval \(too few articles\))", tip)  # the report's rule
    browser.shot("dashboard", out)
    browser.mouse("mousePressed", *rect)
    browser.mouse("mouseReleased", *rect)
    browser.wait("location.pathname === '/week' && document.querySelectorAll('a.article-link').length > 0")

    browser.eval("document.querySelector('a.article-link').click()")
    browser.wait(
        "location.pathname.startsWith('/article/') && document.querySelectorAll('section.passage').length > 0"
    )
    browser.shot("article", out)

    browser.goto(base + "/search")
    browser.type("#q", web_warehouse.korean_word)
    browser.key("Enter")
    count = browser.wait(
        "location.pathname === '/search' && document.querySelectorAll('a.result-link').length"
    )
    assert count >= 1
    browser.eval("document.querySelector('a.result-link').click()")
    text = browser.wait(
        "location.pathname.startsWith('/article/') && document.getElementById('passages').textContent"
    )
    assert web_warehouse.korean_word in text

    _hostile_article_runs_nothing(browser, base, web_warehouse)
    labelled = _label_three_with_the_keyboard(browser, base, out)

    browser.goto(base + "/labels")
    browser.send("Page.reload")
    rows = browser.wait(
        "document.querySelectorAll('#labels tr').length > 1 && "
        "[...document.querySelectorAll('#labels tr')].slice(1)"
        ".map(r => r.cells[1].textContent + ':' + r.cells[2].textContent)"
    )
    assert sorted(rows) == sorted(f"Analyst Park:{lab}" for lab in labelled)
    exported = tmp_path / "labels.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "labels",
            "export",
            "--db",
            str(settings.warehouse_path),
            "--out",
            str(exported),
            "--quiet",
        ],
        check=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["label"] for r in lines) == sorted(labelled) and {r["analyst"] for r in lines} == {
        "Analyst Park"
    }


def _hostile_article_runs_nothing(browser: Browser, base: str, web_warehouse: WebWarehouse) -> None:
    """The article whose title, author and text carry script, handlers and javascript: links."""
    browser.goto(base + "/search?q=drills")
    links = browser.wait("[...document.querySelectorAll('a.result-link')].map(a => [a.textContent, a.href])")
    hostile = next(href for text, href in links if "window.__xss=1" in text)
    for url in (base + "/search?q=drills", hostile, base + "/", base + "/sources"):
        browser.goto(url)
        assert browser.eval("typeof window.__xss") == "undefined", url
    browser.goto(hostile)
    assert "<script>window.__xss=1</script>" in browser.eval(
        "document.getElementById('article-title').textContent"
    )
    assert browser.eval("document.querySelectorAll('main script, main img, main svg[onload]').length") == 0
    assert (
        browser.eval(
            "[...document.querySelectorAll('a')].filter(a => a.href.startsWith('javascript:')).length"
        )
        == 0
    )


def _label_three_with_the_keyboard(browser: Browser, base: str, out: list[Path]) -> list[str]:
    """Name the analyst, then label three passages with 1, s (skip), 2 and 3."""
    browser.goto(base + "/queue")
    browser.wait("!!document.getElementById('queue-passage')")
    browser.shot("queue", out)
    browser.type("#analyst", "Analyst Park")
    browser.key("Escape")
    labelled = []
    for key in ("1", "s", "2", "3"):
        before = browser.eval("document.getElementById('queue-passage').dataset.key")
        browser.key(key)
        browser.wait(
            f"document.getElementById('queue-passage') && "
            f"document.getElementById('queue-passage').dataset.key !== {json.dumps(before)}"
        )
        if key != "s":
            labelled.append({"1": "washington", "2": "hedge", "3": "beijing"}[key])
            assert browser.eval("document.getElementById('flash').textContent").startswith("Label stored")
    assert browser.eval("document.getElementById('analyst').value") == "Analyst Park"
    return labelled
