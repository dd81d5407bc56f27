"""The app's server for the e2e tests: `streamlit run app.py` on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `streamlit run app.py`: its base URL, process and log."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(self.url + "/_stcore/health", timeout=5) as r:
                return r.read().decode().strip() == "ok"
        except OSError:
            return False

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@contextlib.contextmanager
def run_server(*extra_args: str, timeout_s: float = 120,
               env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start the app on a free loopback port, wait until healthy, stop it afterwards.

    `env`: variables set for the server on top of this process's (e.g. VMAP_WARMUP)."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="vmap-e2e-streamlit-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           # Hides the "Deploy" button in the screenshots; the app is not changed.
           "--client.toolbarMode", "viewer", *extra_args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout_s
        while not server.alive():
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {timeout_s:.0f} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        stop_process_group(proc)
        with contextlib.suppress(OSError):
            log.unlink()


def stop_process_group(proc: subprocess.Popen) -> None:
    """End a server started with `start_new_session=True` and everything it started
    (its workbench workers too): SIGTERM to the group, SIGKILL after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def assert_server_goes_idle(proc, what: str, within_s: float = 15) -> None:
    """The server process (psutil) drops below 10% CPU within `within_s` seconds:
    closing a tab must stop its work, long before that work could have finished."""
    deadline, samples = time.monotonic() + within_s, []
    while time.monotonic() < deadline:
        samples.append(proc.cpu_percent(interval=1.5))
        if samples[-1] < 10:
            break
    assert samples[-1] < 10, f"the server kept working on {what} after the tab closed: CPU % {samples}"
