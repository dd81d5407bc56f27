"""The live Gram heatmap in Chromium: frames while dragging, release to exact K, bytes, error.

    python benchmarks/live_gamma.py            # everything (a few minutes)
    python benchmarks/live_gamma.py --quick    # fewer repeats
    python benchmarks/live_gamma.py --no-browser   # only (c) payload bytes and (d) errors

(a) Frames per second while the gamma slider is dragged (mouse held down, moved
    in small steps faster than the screen refreshes), at N = 400, 2,000, 4,000:
    the browser's own draw timestamps (performance.now() at each redraw of the
    heatmap and histogram), median and range over repeats. Chromium runs headless,
    so requestAnimationFrame paces at most at 60 Hz.
(b) Release to exact heatmap at N = 4,000: from the pointerup event to the moment
    the canvas shows the exact pooled K from core (data-shown="exact"): network,
    fragment rerun on the server and drawing included. Median and range.
(c) Bytes: the two payloads the component receives (built by the page's own
    functions, so N = 8,000, above the sidebar's cap, is measured too): the
    distances, once per data, and the exact K, once per release; plus the bytes
    the browser's websocket received per release at N = 400 and 4,000 (every
    message of the fragment rerun, not only the payload).
(d) Preview error against the exact pooled K at N = 4,000 and 8,000: the app's
    default data (blobs, seed 0, ordered by label), the per-cell rules exactly as
    the browser decodes them from the payload (`core.scale.summary`), for every live
    kernel (Laplacian on L1 distances) over 11 gammas from 1/100 to 1,000 times the
    median heuristic (L1: 1 / (2 median L1 distance)); and, as a baseline, the
    6 float16 block quantiles sent before (`core.scale.quantile_summary`). Also the
    largest error `cell_summary` measured on its own grid, and the once-per-data
    time of `cell_summary` against `block_quantiles` (median and range of 3).
(e) The server's share of a release at N = 4,000, without Streamlit: the exact
    payload the fragment builds from the shared distances, as the page does it now
    (`pooled_rbf_from_sqdist`, no N × N K) and as it did before (exp into a full K,
    then `pool_mean`); median and range over repeats after a warm-up.

The load average (1, 5, 15 min) is recorded before and after. Writes
benchmarks/results/live_gamma_<UTC timestamp>.md and .json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from core.data import load_dataset  # noqa: E402
from core.dense.methods import rbf_from_sqdist, sqdist_for  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.kernels.profiles import DISTANCE_PROFILES, pairwise_l1  # noqa: E402
from core.scale.pooling import pool_factor, pool_mean  # noqa: E402
from core.scale.quantile_summary import (QUANTILES_PER_CELL, block_quantiles,  # noqa: E402
                                         preview_from_quantiles)
from core.scale.summary import cell_summary, preview_from_rules  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TARGET_FPS, TARGET_RELEASE_MS, TARGET_BYTES = 20, 300, 1.5e6


def payload_sizes(n: int, errors: bool = True) -> dict:
    """(c) payload bytes, and (d) the preview's error, for the default data at N = n."""
    from ui.components.live_heatmap import decode_distances, distances_payload, exact_payload

    X, y = load_dataset("blobs", n=n, seed=0)
    order = np.argsort(y, kind="stable")
    D = sqdist_for("auto", X)[np.ix_(order, order)]
    dist = distances_payload(D, order, "sqeuclidean", 0)
    g0 = median_heuristic_gamma(X)
    K = rbf_from_sqdist(D, g0)
    exact = exact_payload(K, g0, 1.0, 0, [], 0)
    out = {"n": n, "distances_bytes": len(dist), "exact_bytes": len(exact)}
    if decode_distances(dist)["m"] and errors:
        out["errors"] = preview_errors(X, order)
        out["seconds"] = summary_seconds(D)
    return out


def preview_errors(X: np.ndarray, order: np.ndarray) -> dict:
    """(d) |preview − exact pooled K| per live kernel, the rules as sent and the quantiles."""
    from ui.components.live_heatmap import decode_distances, distances_payload

    n = X.shape[0]
    out = {}
    for distance in ("sqeuclidean", "l1"):
        D = (sqdist_for("auto", X) if distance == "sqeuclidean" else pairwise_l1(X))[np.ix_(order, order)]
        sent = decode_distances(distances_payload(D, order, distance, 0))
        side, f = sent["side"], sent["factor"]
        r, c = np.triu_indices(side)
        nodes, weights = np.zeros((side, side, 4), np.float32), np.zeros((side, side, 4))
        nodes[r, c], nodes[c, r] = sent["nodes"], sent["nodes"]
        weights[r, c], weights[c, r] = sent["weights"], sent["weights"]
        # The quantiles as they were sent: float16 of s / max(quantiles).
        Q = block_quantiles(D, f, QUANTILES_PER_CELL)
        scale = np.float32(np.nanmax(Q))
        Q = np.nan_to_num((Q / scale).astype(np.float16)).astype(np.float32) * scale
        g0 = median_heuristic_gamma(X) if distance == "sqeuclidean" else 1 / (2 * float(np.median(D)))
        grid_error = cell_summary(D, f).grid_error.max()
        for kernel, profile in DISTANCE_PROFILES.items():
            if profile.distance != distance:
                continue
            errs = {"rules": [], "quantiles": []}
            for gamma in g0 * np.logspace(-2, 3, 11):
                K = profile.fn(D.astype(np.float64), gamma, {"alpha": 0.5})
                exact_pooled = pool_mean(K)[0][r, c]
                del K
                errs["rules"].append(np.abs(preview_from_rules(nodes, weights, n, f, profile.fn, gamma,
                                                               {"alpha": 0.5})[r, c] - exact_pooled))
                errs["quantiles"].append(np.abs(preview_from_quantiles(Q, n, f, profile.fn, gamma,
                                                                       {"alpha": 0.5})[r, c] - exact_pooled))
            out[kernel] = {way: _error_stats(np.concatenate(e)) for way, e in errs.items()}
            out[kernel]["grid_error"] = float(grid_error)
    return out


def _error_stats(e: np.ndarray) -> dict:
    return {"max": float(e.max()), "p99": float(np.quantile(e, 0.99)), "mean": float(e.mean()),
            "share_within_002": float(np.mean(e <= 0.02))}


def summary_seconds(D: np.ndarray, repeats: int = 3) -> dict:
    """Once-per-data seconds of the summary now (`cell_summary`) and before (quantiles)."""
    import time

    f = pool_factor(D.shape[0])
    out = {}
    for name, fn in (("cell_summary", lambda: cell_summary(D, f)),
                     ("block_quantiles", lambda: block_quantiles(D, f, QUANTILES_PER_CELL))):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out[name] = times
    return out


def server_release_ms(n: int, repeats: int) -> dict:
    """(e) milliseconds to build the per-release exact payload at N = n, now and before."""
    import time

    from core.scale.pooling import pooled_rbf_from_sqdist
    from ui.components.live_heatmap import pooled_exact_payload

    X, y = load_dataset("blobs", n=n, seed=0)
    order = np.argsort(y, kind="stable")
    D = np.ascontiguousarray(sqdist_for("auto", X)[np.ix_(order, order)])
    g0 = median_heuristic_gamma(X)
    ways = {
        "streamed (pooled_rbf_from_sqdist)": lambda g: pooled_exact_payload(
            *pooled_rbf_from_sqdist(D, g), n, g, 1.0, 0, [], 0),
        "full K, then pool_mean": lambda g: exact_payload_full(rbf_from_sqdist(D, g), g),
    }
    out = {}
    for name, way in ways.items():
        way(g0)  # warm-up
        times = []
        for k in range(repeats):
            t = time.perf_counter()
            way(g0 * (1.1 + 0.1 * k))
            times.append(1e3 * (time.perf_counter() - t))
        out[name] = times
    return out


def exact_payload_full(K: np.ndarray, gamma: float) -> bytes:
    from ui.components.live_heatmap import exact_payload
    return exact_payload(K, gamma, 1.0, 0, [], 0)


def browser_measures(sizes: list[int], repeats: int) -> dict:
    """(a) fps while dragging, (b) release to exact, (c) websocket bytes per release."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.app_page import AppPage
    from tests.e2e.server import run_server

    out: dict = {"fps": {}, "release_ms": [], "ws_bytes_per_release": {}}
    with run_server() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("VMAP_CHROMIUM", "/usr/bin/chromium"))
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
        AppPage(ctx.new_page(), server.url).open()  # warm-up: JAX compilation, page registry
        for n in sizes:
            page = ctx.new_page()
            received = [0]
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda data: received.__setitem__(0, received[0] + len(data))))
            app = AppPage(page, server.url).open_page("gram.py", f"n={n}", timeout_ms=300_000)
            canvas, slider = page.locator("canvas.heatmap"), page.get_by_role("slider", name=re.compile("gamma"))
            expect(canvas).to_have_attribute("data-shown", "exact", timeout=300_000)
            box = slider.bounding_box()
            y, x0 = box["y"] + box["height"] / 2, box["x"] + box["width"] * 0.35
            canvas.evaluate("""c => { window.__t0 = 0; window.__t1 = 0;
                new MutationObserver(() => { if (c.dataset.shown === 'exact' && window.__t0 && !window.__t1)
                    window.__t1 = performance.now(); }).observe(c, {attributes: true}); }""")
            slider.evaluate("s => s.addEventListener('pointerup', () => { window.__t0 = performance.now(); "
                            "window.__t1 = 0; }, {capture: true})")
            fps, releases, ws = [], [], []
            for rep in range(repeats):
                page.mouse.move(x0, y)
                page.mouse.down()
                start = page.evaluate("() => performance.now()")
                for k in range(120):  # back and forth over ~2.5 decades of gamma
                    page.mouse.move(x0 + 90 * np.sin(k / 12.0), y)
                stop = page.evaluate("() => performance.now()")
                times = page.evaluate("([a, b]) => window.__vmapLiveGram.view.drawTimes.filter(t => t >= a && t <= b)",
                                      [start, stop])
                if len(times) > 1:
                    fps.append((len(times) - 1) / (times[-1] - times[0]) * 1000)
                received[0] = 0
                page.mouse.move(x0 + 20 * (rep % 3) + 5, y)
                page.mouse.up()
                page.wait_for_function("() => window.__t1 > 0", timeout=120_000)
                releases.append(page.evaluate("() => window.__t1 - window.__t0"))
                app.wait_idle(120_000)
                ws.append(received[0])
            out["fps"][n] = fps
            out["ws_bytes_per_release"][n] = ws
            if n == 4000:
                out["release_ms"] = releases
            page.close()
        browser.close()
    return out


def spread(values: list[float], fmt: str = "{:.2g}") -> str:
    if not values:
        return "–"
    v = np.asarray(values, float)
    return f"{fmt.format(np.median(v))} ({fmt.format(v.min())}–{fmt.format(v.max())}, {v.size} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-browser", action="store_true", help="only (c) payload bytes and (d) errors")
    args = parser.parse_args()
    load_before = os.getloadavg()
    sizes = [payload_sizes(n) for n in (400, 4000, 8000)]
    server, measures = {}, {"fps": {}, "release_ms": [], "ws_bytes_per_release": {}}
    if not args.no_browser:
        server = server_release_ms(4000, repeats=5 if args.quick else 15)
        measures = browser_measures([400, 2000, 4000], repeats=3 if args.quick else 7)
    load_after = os.getloadavg()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = [f"# Live gamma benchmark {stamp}", "",
             f"Load average (1, 5, 15 min): before {tuple(round(x, 2) for x in load_before)}, "
             f"after {tuple(round(x, 2) for x in load_after)}; {os.cpu_count()} CPUs.", "",
             "| measure | result | target |", "|---|---|---|"]
    for n, f in measures["fps"].items():
        lines.append(f"| frames per second while dragging, N = {n:,} | {spread(f)} | ≥ {TARGET_FPS} |")
    if measures["release_ms"]:
        lines.append(f"| release → exact heatmap, N = 4,000 (ms) | {spread(measures['release_ms'])} "
                     f"| ≤ {TARGET_RELEASE_MS} |")
    for name, times in server.items():
        lines.append(f"| server: exact payload per release, N = 4,000, {name} (ms) | {spread(times)} | |")
    for s in sizes:
        lines.append(f"| distances payload (once per data), N = {s['n']:,} | {s['distances_bytes'] / 1e6:.3g} MB | ≤ 1.5 MB |")
        lines.append(f"| exact K payload (per release), N = {s['n']:,} | {s['exact_bytes'] / 1e6:.3g} MB | ≤ 1.5 MB |")
    for n, b in measures["ws_bytes_per_release"].items():
        lines.append(f"| websocket bytes per release (whole fragment), N = {n:,} | "
                     f"{spread([x / 1e6 for x in b])} MB | ≤ 1.5 MB |")
    for s in sizes:
        for name, times in s.get("seconds", {}).items():
            lines.append(f"| once per data, N = {s['n']:,}: {name} (s) | {spread(times)} | |")
    for s in sizes:
        for kernel, e in s.get("errors", {}).items():
            for way, label in (("rules", "4-point rules (now)"), ("quantiles", "6 quantiles (before)")):
                v = e[way]
                lines.append(f"| preview error vs exact pooled K, N = {s['n']:,}, {kernel}, {label} | "
                             f"max {v['max']:.4f}, 99th pct {v['p99']:.4f}, mean {v['mean']:.5f}; "
                             f"{100 * v['share_within_002']:.1f} % of cells ≤ 0.02 | aim ≤ 0.02 |")
            lines.append(f"| largest error on cell_summary's grid of t, N = {s['n']:,}, {kernel}'s distances | "
                         f"{e['grid_error']:.4f} | |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"live_gamma_{stamp}.md").write_text(text)
    (RESULTS / f"live_gamma_{stamp}.json").write_text(json.dumps(
        {"load_before": load_before, "load_after": load_after, "sizes": sizes, "server_ms": server,
         **measures}, indent=1))


if __name__ == "__main__":
    main()
