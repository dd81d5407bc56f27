"""Which Chromium the e2e tests and the browser benchmarks launch, and with which flags.

Playwright's own browser download is blocked here, so they launch the system Chromium
(`VMAP_CHROMIUM`, default Debian's /usr/bin/chromium).
"""

from __future__ import annotations

import os

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "why_unavailable"]

CHROMIUM = os.environ.get("VMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in a container
    "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def why_unavailable() -> str | None:
    """Why no browser test can run here (the playwright package or Chromium missing), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"the playwright package is not installed ({err}); pip install playwright"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"Chromium not found at {CHROMIUM} (apt-get install chromium, or point "
                "VMAP_CHROMIUM at a Chromium binary)")
    return None
