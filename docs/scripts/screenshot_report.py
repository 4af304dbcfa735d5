"""Render a ``qenc-bench report --html`` page to PNG in headless Chromium, the way a reader's
browser shows it.

    python docs/scripts/screenshot_report.py leaderboard.html leaderboard.png [--width 1280 --height 2400]

Needs Debian's ``chromium`` (``apt-get install -y chromium``). The browser runs with a fresh
profile, no sandbox (root in a container), no GPU and no background networking, so a page
that asked for anything outside the file would show it as missing. ``--max-kb`` re-encodes
the PNG with a palette (Pillow, installed with matplotlib) until it is small enough for docs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no chromium found; install it with: apt-get update && apt-get install -y chromium")


def screenshot(html: Path, out: Path, width: int = 1280, height: int = 2400, chromium: str | None = None,
               timeout: float = 120.0) -> Path:
    """Write the PNG of ``html`` as a ``width`` x ``height`` window shows it; return ``out``."""
    html, out = html.resolve(), out.resolve()
    if not html.is_file():
        raise SystemExit(f"{html} does not exist")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="qenc-chromium-") as profile:
        command = [chromium or find_chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}",
                   f"--window-size={width},{height}", html.as_uri()]
        log = Path(profile) / "chromium.log"
        with log.open("w") as sink:
            # its own process group, output to a file: a browser helper left running can neither
            # hold a pipe open nor outlive the timeout
            browser = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                code = browser.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                try:
                    os.killpg(browser.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                browser.wait()
        messages = log.read_text(errors="replace")[-2000:]
    if code is None:
        raise SystemExit(f"chromium did not finish within {timeout:g} s:\n{messages}")
    if code != 0 or not out.is_file():
        raise SystemExit(f"chromium failed (exit {code}):\n{messages}")
    return out


def shrink(png: Path, max_kb: int) -> Path:
    """Re-encode with an adaptive palette of fewer and fewer colours until under ``max_kb``."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    for colors in (256, 128, 64, 32):
        if png.stat().st_size <= max_kb * 1024:
            break
        image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--chromium", default=None, help="path of the browser (default: found on PATH)")
    parser.add_argument("--max-kb", type=int, default=None, help="re-encode the PNG until it is this small")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before the browser is stopped")
    args = parser.parse_args(argv)
    out = screenshot(args.html, args.out, args.width, args.height, args.chromium, args.timeout)
    if args.max_kb:
        shrink(out, args.max_kb)
    print(f"{out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
