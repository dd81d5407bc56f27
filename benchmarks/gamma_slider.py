"""How light is a gamma change on the Gram explorer?

    python benchmarks/gamma_slider.py            # N = 4000 timing, sizes at 500/4000/8000
    python benchmarks/gamma_slider.py --quick    # N = 1000 timing, fewer reruns

(a) Server-side time, with Streamlit's AppTest on the real app: a COLD run of the
    Gram explorer (every `st.cache_data` cache cleared just before it) against a
    RERUN after the gamma slider moved, at N = 4000. AppTest reruns the whole page
    script on a widget change: in a browser only the fragment around the heatmap
    reruns, so the AppTest rerun is an upper bound on the live one. The first cold
    run of the process (JAX compilation included) is reported apart.
(b) What it costs: the steps a gamma change runs (the same functions the page
    calls), timed alone at the same N.
(c) The heatmap message: the serialized size of the `PlotlyChart` element that
    Streamlit sends (`plotly.io.to_json` into the proto, as `st.plotly_chart` does),
    read from the element AppTest received. At N = 500 and 4000 from the page; at
    N = 8000 (above the sidebar's cap, ui.state.settings.N_MAX) from a one-chart app that
    builds the page's heatmap with the same `ui.charts.shared.matrix_heatmap`.

(d) With --browser: the live app (`streamlit run app.py`) in Chromium (Playwright,
    /usr/bin/chromium or VMAP_CHROMIUM), N = 4000: the time from pressing an arrow
    key on the focused gamma slider until the heatmap shows the new gamma. This is
    the fragment rerun a user sees, network and drawing included.

Writes benchmarks/results/gamma_slider_<UTC timestamp>.md and .json and
benchmarks/results/gamma_slider_latest.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest resolves app_pages/ relative to app.py; the page imports core and ui

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.bench.timing import environment_info  # noqa: E402

PAGE = "app_pages/gram.py"
TIMEOUT_S = 600
TARGET_RATIO = 0.3
TARGET_BYTES = 1.5e6
RESULTS = ROOT / "benchmarks" / "results"


def _widget(at: AppTest, key: str):
    for w in at.select_slider:
        if w.key == key:
            return w
    raise KeyError(key)


def _charts(at: AppTest) -> dict[str, int]:
    """Serialized bytes of each Plotly element on screen, by widget key."""
    out = {}
    for i, chart in enumerate(at.get("plotly_chart")):
        key = chart.proto.id.rsplit("-", 1)[-1] if chart.proto.id else str(i)
        out[key] = chart.proto.ByteSize()
    return out


def _check(at: AppTest) -> None:
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])


def open_explorer(query: dict[str, str], clear_before_page: bool) -> tuple[AppTest, float]:
    """Run app.py, then the Gram explorer; the seconds the explorer's run took."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    _check(at)
    at.switch_page(PAGE)
    if clear_before_page:
        st.cache_data.clear()  # cold: no data, distances or K cached
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    _check(at)
    return at, elapsed


class Counters:
    """Counts, while active, JAX compilations and calls of `ui.state.cache.sqdist_for`."""

    def __init__(self) -> None:
        import jax.monitoring

        import ui.state.cache

        self.compiles = self.distances = 0
        self.active = False
        self._cache, self._original = ui.state.cache, ui.state.cache.sqdist_for

        def on_event(event: str, duration: float, **kw: Any) -> None:
            if self.active and event == "/jax/core/compile/backend_compile_duration":
                self.compiles += 1

        def counted(*a: Any, **kw: Any) -> Any:
            if self.active:
                self.distances += 1
            return self._original(*a, **kw)

        jax.monitoring.register_event_duration_secs_listener(on_event)
        ui.state.cache.sqdist_for = counted  # the page reaches the distances only through ui.state.cache

    def restore(self) -> None:
        self._cache.sqdist_for = self._original


def gamma_reruns(at: AppTest, reruns: int) -> tuple[list[float], list[float]]:
    """Move the gamma slider back and forth; seconds per rerun and the gammas."""
    # Three grid steps up, three down, in turn: every rerun sees a new gamma.
    current = _widget(at, "w_gamma").value
    grid = _gamma_grid()
    i = int(np.argmin([abs(np.log(g / current)) for g in grid]))
    steps = [grid[min(i + 3, len(grid) - 1)], grid[max(i - 3, 0)]]
    times, gammas = [], []
    for r in range(reruns):
        g = steps[r % 2]
        _widget(at, "w_gamma").set_value(g)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        _check(at)
        gammas.append(g)
    return times, gammas


def _gamma_grid() -> list[float]:
    from ui.state.settings import snap_gamma

    # The slider's own options: snap_gamma maps any value onto them.
    return sorted({snap_gamma(10.0 ** e) for e in np.linspace(-4, 4, 161)})


def step_costs(n: int, repeats: int) -> dict[str, float]:
    """Median seconds of each step a gamma change runs on the page, at N = n."""
    from core.data import load_dataset
    from core.dense.methods import rbf_from_sqdist, sqdist_for
    from ui.charts.shared import matrix_heatmap
    import plotly.io

    X, y = load_dataset("blobs", n=n, seed=0, dtype="float32")
    d2 = sqdist_for("auto", X)
    order = np.argsort(y, kind="stable")
    # The page caches the distances in display order (by label), so K is born ordered.
    Ko = rbf_from_sqdist(d2[np.ix_(order, order)], 0.5)
    fig = matrix_heatmap(Ko, "K", "k", zmin=0, zmax=1)[0]
    pooled = fig.data[0].z.shape
    steps = {
        "exp(-gamma·d²) (core.dense.methods.rbf_from_sqdist)": lambda: rbf_from_sqdist(d2, 0.5),
        f"pool to {pooled[0]}×{pooled[1]} and build the figure (ui.charts.shared.matrix_heatmap)":
            lambda: matrix_heatmap(Ko, "K", "k", zmin=0, zmax=1),
        "serialize it (plotly.io.to_json, as st.plotly_chart does)":
            lambda: plotly.io.to_json(fig, validate=False),
        "squared distances (cold run only; core.dense.methods.sqdist_for)": lambda: sqdist_for("auto", X),
    }
    out = {}
    for name, fn in steps.items():
        fn()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        out[name] = float(np.median(ts))
    return out


def _one_heatmap_app(n: int) -> None:
    # Runs inside AppTest: the page's heatmap of K at N = n, alone.
    import numpy as np
    import streamlit as st

    from core.data import load_dataset
    from core.kernels.functions import median_heuristic_gamma
    from core.dense.methods import METHODS
    from ui.charts.shared import matrix_heatmap

    X, y = load_dataset("blobs", n=n, seed=0, dtype="float32")
    K = METHODS["auto"].compute(X, None, median_heuristic_gamma(X))
    order = np.argsort(y, kind="stable")
    fig, factor = matrix_heatmap(K[np.ix_(order, order)], "K", "k(x_i, x_j)", zmin=0, zmax=1)
    st.plotly_chart(fig, key="w_gram_heatmap")
    st.caption(f"factor {factor}")


def heatmap_bytes_direct(n: int) -> int:
    at = AppTest.from_function(_one_heatmap_app, args=(n,), default_timeout=TIMEOUT_S)
    at.run()
    _check(at)
    return _charts(at)["w_gram_heatmap"]


def browser_latency(n: int, presses: int) -> dict[str, Any]:
    """Seconds from an arrow key on the gamma slider to the redrawn heatmap, live."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.app_page import VIEWPORT, AppPage, warm_up
    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS
    from tests.e2e.server import run_server

    # The heatmap's title as Plotly holds it (what tests/e2e reads too).
    # "K, gamma = 0.1" must not match "K, gamma = 0.158 (pooled ...)".
    title_is = """([prefix]) => Array.from(document.querySelectorAll(
        '[data-testid="stPlotlyChart"] .js-plotly-plot')).some(g => {
            const t = g.layout && g.layout.title;
            const text = ((t && (t.text || t)) || '').toString().replace(/<[^>]*>/g, '');
            return text === prefix || text.startsWith(prefix + ' '); })"""
    out: dict[str, Any] = {"latency_s": [], "load_s": None}
    with run_server() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # A fresh server's first visitor to a deep link gets a spurious "Page not
            # found" dialog that holds the focus: visit the main page first.
            t0 = time.perf_counter()
            warm_up(server, browser)
            out["warm_up_s"] = time.perf_counter() - t0
            ctx = browser.new_context(viewport=VIEWPORT)
            app = AppPage(ctx.new_page(), server.url)
            t0 = time.perf_counter()
            app.open_page("gram.py", f"n={n}&dataset=blobs&method=auto")
            out["load_s"] = time.perf_counter() - t0
            for k in range(presses):
                key = "ArrowRight" if k % 2 == 0 else "ArrowLeft"
                before = app.gamma_shown()
                slider = app.gamma_input()
                slider.focus()
                t0 = time.perf_counter()
                app.page.keyboard.press(key)
                app.page.wait_for_function(
                    """([before]) => { const el = document.querySelector(
                        '[data-testid="stMain"] input[type="range"][aria-label="gamma (log scale)"]');
                        return el && el.getAttribute('aria-valuetext') !== before; }""",
                    arg=[before], timeout=120_000, polling=10)
                shown = app.gamma_shown()
                app.page.wait_for_function(title_is, arg=[f"K, gamma = {shown}"],
                                           timeout=120_000, polling=10)
                out["latency_s"].append(time.perf_counter() - t0)
                app.wait_idle()
            ctx.close()
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--n", type=int, default=None, help="N for the timing (default 4000)")
    p.add_argument("--cold", type=int, default=None, help="cold runs (default 5, quick 2)")
    p.add_argument("--reruns", type=int, default=None, help="gamma reruns (default 9, quick 3)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--browser", action="store_true",
                   help="also time the live app in Chromium (needs playwright and Chromium)")
    args = p.parse_args(argv)
    n = args.n or (1000 if args.quick else 4000)
    n_cold = args.cold or (2 if args.quick else 5)
    n_reruns = args.reruns or (3 if args.quick else 9)
    query = {"n": str(n), "dataset": "blobs", "method": "auto"}
    env = environment_info()
    env["load_average_start"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    print(f"first cold run at N={n} (includes JAX compilation) ...", file=sys.stderr, flush=True)
    _, first_cold = open_explorer(query, clear_before_page=True)
    colds, reruns, gammas, sizes = [], [], [], {}
    counters = Counters()
    for k in range(n_cold):
        at, t = open_explorer(query, clear_before_page=True)
        colds.append(t)
        if k == 0:
            counters.active = True
            times, gammas = gamma_reruns(at, n_reruns)
            counters.active = False
            reruns += times
            sizes[n] = _charts(at)
        print(f"  cold {t * 1e3:.0f} ms", file=sys.stderr, flush=True)
    counters.restore()
    print(f"  reruns {[round(t * 1e3) for t in reruns]} ms", file=sys.stderr, flush=True)
    costs = step_costs(n, 5)
    for m in (500, 4000):
        if m not in sizes:
            at, _ = open_explorer({**query, "n": str(m)}, clear_before_page=False)
            sizes[m] = _charts(at)
    direct = {m: heatmap_bytes_direct(m) for m in (500, 4000, 8000)}
    live = browser_latency(n, 7 if not args.quick else 3) if args.browser else None
    env["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    cold_med, rerun_med = float(np.median(colds)), float(np.median(reruns))
    ratio = rerun_med / cold_med
    result = dict(n=n, first_cold_s=first_cold, cold_s=colds, rerun_s=reruns, gammas=gammas,
                  ratio=ratio, rerun_compiles=counters.compiles,
                  rerun_distance_calls=counters.distances, step_costs_s=costs, page_chart_bytes=sizes,
                  heatmap_bytes_direct=direct, browser=live, environment=env)
    lines = [f"# Gamma slider, {env['timestamp_utc']}", "",
             f"{env['cpu_count']} cores, JAX {env['jax']}, NumPy {env['numpy']}; load average "
             f"{env['load_average_start']} at start, {env['load_average_end']} at end. "
             f"Command: `python benchmarks/gamma_slider.py {' '.join(argv or sys.argv[1:])}`.", "",
             f"## Server-side time at N = {n} (AppTest, blobs, auto, float32)", "",
             "| run | median | all runs |", "|---|---:|---|",
             f"| first cold run of the process (JAX compiles) | {first_cold * 1e3:.0f} ms | |",
             f"| cold run (caches cleared) | {cold_med * 1e3:.0f} ms | "
             f"{', '.join(f'{t * 1e3:.0f}' for t in colds)} |",
             f"| rerun after a gamma change | {rerun_med * 1e3:.0f} ms | "
             f"{', '.join(f'{t * 1e3:.0f}' for t in reruns)} |", "",
             f"Rerun / cold = **{ratio:.2f}** (target ≤ {TARGET_RATIO}: "
             f"{'met' if ratio <= TARGET_RATIO else 'not met'}). AppTest reruns the whole page "
             "script; in a browser only the heatmap fragment reruns.", "",
             f"During the {len(reruns)} gamma reruns: {counters.compiles} JAX compilations and "
             f"{counters.distances} computations of the squared distances (both counted).", "",
             "## Where a gamma change spends its time (each step alone, median)", "",
             "| step | time |", "|---|---:|"]
    lines += [f"| {k} | {v * 1e3:.1f} ms |" for k, v in costs.items()]
    lines += ["", "## Heatmap message size (serialized PlotlyChart element)", "",
              "| N | from the page (AppTest) | the page's heatmap alone | target ≤ 1.5 MB |",
              "|---:|---:|---:|---|"]
    for m in (500, 4000, 8000):
        page_b = sizes.get(m, {}).get("w_gram_heatmap")
        b = direct[m]
        worst = max(x for x in (page_b, b) if x is not None)
        lines.append(f"| {m} | {'—' if page_b is None else f'{page_b / 1e6:.3f} MB'} | "
                     f"{b / 1e6:.3f} MB | {'met' if worst <= TARGET_BYTES else 'not met'} |")
    if live:
        lat = live["latency_s"]
        lines += ["", f"## Live, in Chromium (N = {n})", "",
                  f"Arrow key on the gamma slider → heatmap redrawn with the new gamma: median "
                  f"**{np.median(lat) * 1e3:.0f} ms** over {len(lat)} presses "
                  f"({', '.join(f'{t * 1e3:.0f}' for t in lat)} ms). Loading the explorer at "
                  f"N = {n} in a new session (after one visit to the main page): "
                  f"{live['load_s']:.1f} s."]
    lines += ["", "All Plotly elements of one page run (bytes): " + "; ".join(
        f"N = {m}: " + ", ".join(f"{k} {v:,}" for k, v in s.items()) for m, s in sorted(sizes.items()))]
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (out / f"gamma_slider_{stamp}.md").write_text(text, encoding="utf-8")
    (out / f"gamma_slider_{stamp}.json").write_text(json.dumps(result, indent=1, default=str),
                                                     encoding="utf-8")
    (out / "gamma_slider_latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
