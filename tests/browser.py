"""Open a local HTML page in headless Chromium and report what a user's browser would see.

Driven through the DevTools protocol over `--remote-debugging-pipe` (NUL-separated JSON on
file descriptors 3 and 4), so no client library is needed. Every request the page makes is
recorded; one that is neither file:// nor data: is failed before it leaves the machine.

    page = render_page(Path("dvc_plots/index.html"))
    page.external_requests   # [] when the page is self-contained
    page.charts              # one Chart per vega-embed container, canvas, svg and <img>
    page.console_errors      # console.error calls, uncaught exceptions, failed loads

`chromium()` is None where no Chromium is installed (`apt-get install chromium`); tests skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

# Per drawing element: how many marks it drew. Vega's svg (class `marks`): its data marks
# (`role-mark` groups hold one element per drawn mark; axes, legends and titles have other
# roles); another svg: its shapes;
# canvas: pixels neither transparent nor white; img: 1 if it decoded (naturalWidth > 0).
CHARTS_JS = """
(() => {
  const owner = (el) => { const d = el.closest('[id]'); return d ? d.id : ''; };
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    // nested svgs belong to their outer one; vega-embed's "..." menu icon is no chart
    if (svg.parentElement.closest('svg, summary, .vega-actions')) continue;
    const marks = svg.classList.contains('marks')
      ? svg.querySelectorAll(['path', 'rect', 'line', 'circle', 'text', 'g'].map(
          (t) => 'g.role-mark > ' + t).join(', '))
      : svg.querySelectorAll('path, rect, line, circle, ellipse, polyline, polygon, text, use');
    out.push({kind: 'svg', id: owner(svg), marks: marks.length});
  }
  for (const c of document.querySelectorAll('canvas')) {
    let marks = 0;
    try {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && !(d[i] > 250 && d[i + 1] > 250 && d[i + 2] > 250)) marks++;
      }
    } catch (e) { marks = -1; }
    out.push({kind: 'canvas', id: owner(c), marks: marks});
  }
  for (const img of document.querySelectorAll('img')) {
    out.push({kind: 'img', id: owner(img), marks: img.complete && img.naturalWidth > 0 ? 1 : 0});
  }
  for (const v of document.querySelectorAll('.vega-embed')) {
    if (!v.querySelector('svg, canvas')) out.push({kind: 'empty-embed', id: owner(v), marks: 0});
  }
  return JSON.stringify(out);
})()
"""


@dataclass
class Chart:
    kind: str  # svg, canvas, img, or empty-embed (vega-embed ran but drew nothing)
    id: str  # the id of the nearest element with one (DVC: the plot's name)
    marks: int


@dataclass
class Page:
    requests: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


def chromium() -> str | None:
    """The path of an installed Chromium or Chrome, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


class _Pipe:
    """A DevTools session over the browser's fds 3 (commands in) and 4 (messages out)."""

    def __init__(self, browser: str, user_dir: str) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._msg_r, msg_w = os.pipe()

        def child_fds() -> None:
            os.dup2(cmd_r, 3)
            os.dup2(msg_w, 4)

        self.proc = subprocess.Popen(
            [
                browser,
                "--headless",
                "--no-sandbox",  # root in containers
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing leaves
                f"--user-data-dir={user_dir}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,
            pass_fds=(3, 4),
        )
        os.close(cmd_r)
        os.close(msg_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._replies: dict[int, dict[str, Any]] = {}
        self._reply_ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def post(self, method: str, session: str | None = None, **params: Any) -> int:
        """Send a command without waiting for its reply; its id."""
        with self._lock:
            self._next_id += 1
            msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
            if session:
                msg["sessionId"] = session
            os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
            return self._next_id

    def _read(self) -> None:
        buf = b""
        with os.fdopen(self._msg_r, "rb", buffering=0) as f:
            while chunk := f.read(65536):
                buf += chunk
                *messages, buf = buf.split(b"\0")
                for raw in messages:
                    msg = json.loads(raw)
                    if "id" in msg:
                        with self._reply_ready:
                            self._replies[msg["id"]] = msg
                            self._reply_ready.notify_all()
                    else:
                        if msg.get("method") == "Fetch.requestPaused":
                            self._decide(msg)  # here: the page waits for it, send() may too
                        self.events.put(msg)

    def _decide(self, msg: dict[str, Any]) -> None:
        """Let a local request through; fail any other before it is sent."""
        params, session = msg["params"], msg.get("sessionId")
        if params["request"]["url"].startswith(LOCAL_SCHEMES):
            self.post("Fetch.continueRequest", session, requestId=params["requestId"])
        else:
            reason = "BlockedByClient"
            self.post(
                "Fetch.failRequest", session, requestId=params["requestId"], errorReason=reason
            )

    def send(
        self, method: str, session: str | None = None, timeout: float = 30, **params: Any
    ) -> dict[str, Any]:
        sent = self.post(method, session, **params)
        with self._reply_ready:
            if not self._reply_ready.wait_for(lambda: sent in self._replies, timeout):
                raise TimeoutError(f"no DevTools reply to {method} in {timeout} s")
            reply = self._replies.pop(sent)
        if "error" in reply:
            raise RuntimeError(f"DevTools {method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close", timeout=5)
        os.close(self._cmd_w)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def render_page(html: Path, settle_s: float = 1.0, timeout_s: float = 60) -> Page:
    """Load `html` (a local file), wait until nothing new was drawn or requested for
    `settle_s` after the load event, and return its requests, charts and console errors."""
    browser = chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium or Chrome on PATH")
    page = Page()
    with tempfile.TemporaryDirectory(prefix="mlplab-chromium-") as user_dir:
        cdp = _Pipe(browser, user_dir)
        try:
            target = cdp.send("Target.createTarget", url="about:blank")["targetId"]
            session = cdp.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.send(f"{domain}.enable", session)
            # Every request pauses here first: local ones continue, others fail unsent.
            cdp.send("Fetch.enable", session, patterns=[{"urlPattern": "*"}])
            cdp.send("Page.navigate", session, url=html.resolve().as_uri())
            deadline = time.monotonic() + timeout_s
            loaded, quiet_since, last_charts = False, time.monotonic(), ""
            while time.monotonic() < deadline:
                try:
                    event = cdp.events.get(timeout=0.1)
                except queue.Empty:
                    event = None
                if event is not None:
                    loaded |= _record(event, page)
                    if event.get("method") == "Fetch.requestPaused":
                        quiet_since = time.monotonic()
                    continue
                if not loaded:
                    continue
                charts = cdp.send(
                    "Runtime.evaluate", session, expression=CHARTS_JS, returnByValue=True
                )["result"]["value"]
                if charts != last_charts:
                    last_charts, quiet_since = charts, time.monotonic()
                elif time.monotonic() - quiet_since >= settle_s:
                    break
            else:
                raise TimeoutError(f"{html} did not settle in {timeout_s} s")
            while not cdp.events.empty():  # messages that arrived with the last evaluation
                _record(cdp.events.get(), page)
            page.charts = [Chart(**c) for c in json.loads(last_charts)]
        finally:
            cdp.close()
    return page


def _record(event: dict[str, Any], page: Page) -> bool:
    """Note one DevTools event in `page`; True for the page's load event."""
    method, params = event.get("method"), event.get("params", {})
    if method in ("Fetch.requestPaused", "Network.requestWillBeSent"):
        url = params["request"]["url"]
        if url not in page.requests:
            page.requests.append(url)
    elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        page.console_errors.append(
            " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        )
    elif method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        page.console_errors.append(
            details.get("exception", {}).get("description") or details.get("text", "")
        )
    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
        entry = params["entry"]
        page.console_errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())
    return method == "Page.loadEventFired"
