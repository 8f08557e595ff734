# SPDX-License-Identifier: GPL-3.0-or-later
"""A small client of the Chrome DevTools protocol: headless Chromium from Debian's package.

Enough to load a page at a given viewport, evaluate JavaScript in it, wait for
its load event and take a screenshot. Chromium runs with a fresh profile, no
sandbox (tests run as root), and nothing that talks to the network by itself.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--hide-scrollbars", "--mute-audio")


def find_chromium():
    """Path of a Chromium binary, or None."""
    for name in (os.environ.get("ROULETTE_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class DevToolsError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium and one page of it."""

    def __init__(self, binary, width=1280, height=900, timeout=60):
        import websocket  # websocket-client, from requirements.txt

        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="roulette-chromium-")
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.ids = itertools.count(1)
        self.events = []
        try:
            port = self._port()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as answer:
                targets = json.load(answer)
            page = next(target for target in targets if target.get("type") == "page")
            self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
        except Exception:
            self.close()
            raise
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.viewport(width, height)

    def _port(self):
        """The debugging port Chromium chose, from the file it writes into its profile."""
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DevToolsError(f"chromium exited with {self.proc.returncode}: {self.log_text()}")
            try:
                with open(path, encoding="ascii") as handle:
                    first = handle.readline().strip()
                if first:
                    return int(first)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise DevToolsError(f"chromium did not open its debugging port in {self.timeout} s: {self.log_text()}")

    def log_text(self):
        self.log.flush()
        with open(self.log.name, "rb") as handle:
            return handle.read()[-2000:].decode("utf-8", "replace")

    def call(self, method, **params):
        """Send a command and return its result; events that arrive meanwhile are kept."""
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, name):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for index, event in enumerate(self.events):
                if event["method"] == name:
                    return self.events.pop(index)
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
        raise DevToolsError(f"no {name} in {self.timeout} s")

    def viewport(self, width, height):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def load(self, url):
        """Open url and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        """The JSON-serialisable value of a JavaScript expression (awaited when it is a promise)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise DevToolsError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path, full_page=False):
        """Write a PNG of the viewport, or of the whole page."""
        params = {"format": "png"}
        if full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))
        return path

    def close(self):
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                self.call("Browser.close")
            except Exception:  # noqa: BLE001 - it may be gone already
                pass
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
