"""A newcomer's first minute: how long each page takes to draw on a freshly started server.

    python benchmarks/first_visit.py                      # 3 runs, warm-up on, a fresh cache folder
    python benchmarks/first_visit.py --runs 1 --warmup off
    python benchmarks/first_visit.py --cache-dir ~/.cache/vmap-explorer/jax   # the user's own cache

Each run starts a fresh `python -m streamlit run app.py` (as tests/e2e/server.py does), opens
`/` in Debian's Chromium (Playwright; `VMAP_CHROMIUM` as in tests/e2e/browser.py), then
clicks every page of the menu in its order (ui/page_index.py) twice: the first round gives
each page's first visit on this server, the second its second visit. Recorded per run:

- launch -> healthy: from starting the process until `/_stcore/health` answers;
- launch -> first page drawn: until the first page (the Overview at `/`) is drawn;
- each visit: from the click (or the `goto` for the first page) until it is drawn: the
  server has answered the rerun request with a whole run (the tab's websocket, `Wire`),
  the browser shows the script stopped, no spinner, no skeleton, every Plotly chart
  drawn (the conditions of `AppPage.wait_idle`, checked every 25 ms; `wait_idle` then
  checks that it stays so);
- per visit, from the server itself (`VMAP_PROFILE_COMPILES`, ui/server/startup_profile.py): the
  seconds the page's own thread spent in JAX compilation (tracing, lowering, the backend
  compile, reading the persistent cache) and in first imports, and the persistent cache's
  hits and misses. Compilations of the background warm-up thread are counted apart.

The cache folder (`VMAP_JAX_CACHE_DIR`) is shared by the runs: without `--cache-dir` it is a
fresh temporary folder, so run 1 starts with an empty cache (a machine's first start) and
runs 2.. find it filled (a machine that has run the app before). Timings on a shared machine
depend on its load: the load average at start and end is recorded.

Writes benchmarks/results/first_visit_<UTC stamp>.md and .json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.app_page import VIEWPORT, AppPage, expect  # noqa: E402
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.server import free_port, stop_process_group  # noqa: E402
from tests.e2e.waits import run_sync, settled  # noqa: E402
from ui.page_index import PAGES  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
HOME_HEADING = "vmap explorer"  # the Overview's h1 (its menu title is "Overview")
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                  "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration",
                  "/jax/compilation_cache/cache_retrieval_time_sec")
WARMUP_THREAD = "vmap-warmup"
TIMEOUT_S = 240


# --- the machine --------------------------------------------------------------------

def machine() -> dict[str, Any]:
    model, flags = platform.processor() or "unknown", set()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": model, "avx512": "avx512f" in flags, "avx2": "avx2" in flags,
            "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "commit": commit}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- one run ------------------------------------------------------------------------

@contextlib.contextmanager
def server(env: dict[str, str]):
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="vmap-first-visit-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    launched = time.time()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited:\n{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
                    if r.read().decode().strip() == "ok":
                        break
            if time.time() - launched > TIMEOUT_S:
                raise RuntimeError("streamlit not healthy")
            time.sleep(0.05)
        yield url, launched, time.time()
    finally:
        stop_process_group(proc)
        log.unlink(missing_ok=True)


def drawn_at(app: AppPage, sent_before: int) -> float:
    """The wall time at which the tab first showed the answered run drawn (see the module
    docstring): `wait_idle`'s conditions (tests/e2e/waits.py, `settled`), looked at every
    25 ms; then `wait_idle` checks it stays so."""
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        if app.wire._sent_at > sent_before and run_sync(settled(app.page, app.wire)):
            t = time.time()
            app.wait_idle(TIMEOUT_S * 1000)
            return t
        app.page.wait_for_timeout(25)  # a sampling interval: the time it first holds is measured
    raise RuntimeError(f"not drawn within {TIMEOUT_S} s:\n{app.wire.tail()}")


def visit(app: AppPage, title: str) -> tuple[float, float]:
    """Click `title` in the menu; returns (clicked, drawn) wall times."""
    link = app.sidebar.get_by_role("link", name=title)
    expect(link).to_be_visible()
    sent = app.wire._sent_at
    start = time.time()
    link.click()
    end = drawn_at(app, sent)
    heading = HOME_HEADING if title == next(iter(PAGES.values())).title else title
    expect(app.main.get_by_role("heading", level=1).first).to_have_text(re.compile("^" + re.escape(heading)))
    return start, end


def one_run(browser: Any, env: dict[str, str], profile: Path) -> dict[str, Any]:
    titles = [info.title for info in PAGES.values()]
    with server(env) as (url, launched, healthy):
        ctx = browser.new_context(viewport=VIEWPORT)
        try:
            app = AppPage(ctx.new_page(), url)
            start = time.time()
            app.page.goto(url + "/", wait_until="domcontentloaded")
            first = drawn_at(app, 0)
            expect(app.main.get_by_role("heading", level=1).first).to_have_text(HOME_HEADING)
            visits = {"1": {titles[0]: (start, first)}, "2": {}}
            for title in titles[1:]:
                visits["1"][title] = visit(app, title)
            for title in titles:
                visits["2"][title] = visit(app, title)
        finally:
            ctx.close()
    events = [json.loads(line) for line in profile.read_text().splitlines() if line.strip()]
    return {"launched": launched, "healthy": healthy, "first_drawn": first,
            "visits": visits,
            "events": events}


# --- from events to figures ------------------------------------------------------------

def window(events: list[dict], start: float, end: float) -> dict[str, float]:
    """What the page's own threads (not the warm-up) spent in [start, end]."""
    inside = [e for e in events if start <= e["t"] <= end and e.get("thread") != WARMUP_THREAD]
    return {
        "compile_s": sum(e["duration"] for e in inside if e["event"] in COMPILE_EVENTS),
        "import_s": sum(e["duration"] for e in inside if e["event"] == "import"),
        "hits": sum(e["event"] == "/jax/compilation_cache/cache_hits" for e in inside),
        "misses": sum(e["event"] == "/jax/compilation_cache/cache_misses" for e in inside),
    }


def summarize(run: dict) -> dict[str, Any]:
    ev = run["events"]
    pages = {}
    for title, (s1, e1) in run["visits"]["1"].items():
        s2, e2 = run["visits"]["2"][title]
        first_start = run["launched"] if title == next(iter(run["visits"]["1"])) else s1
        pages[title] = {"first_s": e1 - s1, "second_s": e2 - s2,
                        **window(ev, first_start, e1)}
    warm = [e for e in ev if e.get("thread") == WARMUP_THREAD]
    return {
        "healthy_s": run["healthy"] - run["launched"],
        "first_drawn_s": run["first_drawn"] - run["launched"],
        "warmup_compile_s": sum(e["duration"] for e in warm if e["event"] in COMPILE_EVENTS),
        "warmup_done_s": max((e["t"] for e in warm), default=run["launched"]) - run["launched"],
        "pages": pages,
    }


def fmt(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def report(summaries: list[dict], info: dict, args: argparse.Namespace, loads: tuple[str, str],
           stamp: str) -> str:
    later = summaries[1:]
    lines = [
        f"# First visit: {stamp}",
        "",
        f"- date: {stamp} (UTC); commit {info['commit']}",
        f"- machine: {info['cpu']}, {info['cores']} cores, AVX-512 "
        f"{'yes' if info['avx512'] else 'no'}, AVX2 {'yes' if info['avx2'] else 'no'}; Python {info['python']}",
        f"- load average (1, 5, 15 min): {loads[0]} at start, {loads[1]} at end "
        "(a machine shared with other work: the figures move with it)",
        f"- command: `python benchmarks/first_visit.py --runs {args.runs} --warmup {args.warmup}"
        + (f" --cache-dir {args.cache_dir}`" if args.cache_dir else "`")
        + f"; cache folder {'given' if args.cache_dir else 'fresh: run 1 starts with it empty'}",
        "- seconds; where there are several runs: median [min–max]. Compile and import: the "
        "page's own thread during the visit (ui/server/startup_profile.py); hits/misses: the "
        "persistent compilation cache's.",
        "",
        "## The server's start",
        "",
        "| run | launch → healthy | launch → first page drawn | of which compile | of which import "
        "| warm-up compile (background) | warm-up's last compile, after launch |",
        "|---|---|---|---|---|---|---|",
    ]
    home = next(iter(summaries[0]["pages"]))
    for i, s in enumerate(summaries, 1):
        p = s["pages"][home]
        lines.append(f"| {i} | {s['healthy_s']:.2f} | {s['first_drawn_s']:.2f} | {p['compile_s']:.2f} "
                     f"| {p['import_s']:.2f} | {s['warmup_compile_s']:.2f} | "
                     f"{s['warmup_done_s']:.1f} |" if s["warmup_compile_s"] else
                     f"| {i} | {s['healthy_s']:.2f} | {s['first_drawn_s']:.2f} | {p['compile_s']:.2f} "
                     f"| {p['import_s']:.2f} | – | – |")
    lines += ["", "## Each page",
              "",
              "| page | first visit, run 1 | compile / import, run 1 | hits / misses, run 1 | "
              f"first visit, runs 2–{len(summaries)} | compile / import, runs 2–{len(summaries)} "
              "| second visit, all runs |",
              "|---|---|---|---|---|---|---|"]
    for title in summaries[0]["pages"]:
        p1 = summaries[0]["pages"][title]
        rest = [s["pages"][title] for s in later]
        note = " (from `goto /`)" if title == home else ""
        lines.append(
            f"| {title}{note} | {p1['first_s']:.2f} | {p1['compile_s']:.2f} / {p1['import_s']:.2f} "
            f"| {p1['hits']} / {p1['misses']} | {fmt([p['first_s'] for p in rest])} "
            f"| {fmt([p['compile_s'] for p in rest])} / {fmt([p['import_s'] for p in rest])} "
            f"| {fmt([s['pages'][title]['second_s'] for s in summaries])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", choices=("on", "off"), default="on")
    ap.add_argument("--cache-dir", default=None, help="the persistent cache folder (kept)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    info, stamp = machine(), datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="vmap-first-visit-cache-")
    scratch = Path(tempfile.mkdtemp(prefix="vmap-first-visit-"))
    load_start, summaries, raw = load(), [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for i in range(args.runs):
                    profile = scratch / f"run{i + 1}.jsonl"
                    env = {**os.environ, "PYTHONUNBUFFERED": "1", "VMAP_PROFILE_COMPILES": str(profile),
                           "VMAP_WARMUP": "1" if args.warmup == "on" else "0",
                           "VMAP_JAX_CACHE_DIR": os.path.expanduser(cache_dir)}
                    run = one_run(browser, env, profile)
                    summaries.append(summarize(run))
                    raw.append({k: v for k, v in run.items() if k != "events"})
                    s = summaries[-1]
                    print(f"run {i + 1}: first page drawn {s['first_drawn_s']:.2f} s after launch; "
                          + ", ".join(f"{t} {p['first_s']:.2f}/{p['second_s']:.2f}"
                                      for t, p in s["pages"].items()), flush=True)
            finally:
                browser.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not args.cache_dir:
            shutil.rmtree(cache_dir, ignore_errors=True)
    text = report(summaries, info, args, (load_start, load()), stamp)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"first_visit_{stamp}.md"
    out.write_text(text, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(
        {"machine": info, "args": vars(args), "load": [load_start, load()], "summaries": summaries,
         "runs": raw}, indent=1), encoding="utf-8")
    print(text)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
