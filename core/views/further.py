"""The "vmap, further" page's view: the arrays of its open tab.

One function per tab (`TAB_VIEWS`), each taking the sidebar's data, dtype and gamma
and the tab's own controls; timings are measured where the view runs. Where a tab
computes parts apart (one cached, one redone as a control moves), its function
composes section functions, and the tab's module in `ui.further` draws from those.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import numpy as np

from core.bench.report import ratio_interval
from core.lessons.further.collectives import (axis_size_seen, batched_rows,
                                              copies_without_a_mapped_input, numpy_reference)
from core.lessons.further.control import cond_timings, newton_trips
from core.lessons.further.custom import VMAP_METHODS, callback_calls, custom_gram
from core.lessons.further.forms import (FORMS, RESHAPING, compiled_flops, form_jaxprs, form_results,
                                        gram_nested_vmap)
from core.lessons.further.jacobians import JACOBIANS, jacobian_flops, jacobian_timings, problem
from core.lessons.further.memory import batch_sizes, memory_sweep
from core.lessons.further.randomness import noise_one_key, noise_split_keys
from core.lessons.further.sharding import sharded_gram
from core.precision import dtype_scope

__all__ = ["collective_rows", "axis_size_copies", "cond_section", "newton_section", "newton_inputs",
           "jacobian_ways", "jacobian_sweep", "custom_rule", "callback_methods", "further_view",
           "further_figure", "TAB_VIEWS"]


def _timings(rows, prefix: str) -> dict[str, np.ndarray]:
    """A sweep's medians, spreads, compile times and other processes' CPU in cores while it
    ran (NaN where none), and its runs ("{prefix}_repeats", int), shape (rows,)."""
    value = lambda t, key: np.nan if getattr(t, key) is None else getattr(t, key)  # noqa: E731
    return {**{f"{prefix}_{key}": np.asarray([value(r["timing"], key) for r in rows], dtype=np.float64)
               for key in ("median_s", "spread_s", "compile_s", "other_cores")},
            f"{prefix}_repeats": np.asarray([r["timing"].repeats for r in rows], dtype=np.int64)}


def collective_rows(X, dtype: str, gamma: float, *, collective: str,
                    max_rows: int) -> dict[str, np.ndarray]:
    """The Collectives tab's matrix: "K" (n, n) built row by row under vmap with the
    collective ("psum" or "pmean") over the batch, n = min(N, max_rows); "reference" the
    same in float64 NumPy, "max_abs_diff" () between them; "axis_size" (n,) what each
    call saw; "top_eigenvalue" () for psum (1 for D^-1/2 K D^-1/2), "max_row_sum" () for
    pmean (0 once centred)."""
    X = X[:max_rows]
    with dtype_scope(dtype):
        K = np.asarray(batched_rows(collective, X, gamma))
        view = {"K": K, "axis_size": np.asarray(axis_size_seen(X))}
    view["reference"] = numpy_reference(collective, X, gamma)
    view["max_abs_diff"] = np.asarray(np.max(np.abs(K - view["reference"])))
    if collective == "psum":
        view["top_eigenvalue"] = np.asarray(np.linalg.eigvalsh(K.astype(np.float64))[-1])
    else:
        view["max_row_sum"] = np.asarray(np.max(np.abs(K.sum(axis=1))))
    return view


def axis_size_copies(X, dtype: str, *, copies: int) -> dict[str, np.ndarray]:
    """"copies" (copies, D): rows made by `vmap(axis_size=copies)` from X's first row, with
    no mapped input (row k is (k + 1)·x₀)."""
    with dtype_scope(dtype):
        return {"copies": np.asarray(copies_without_a_mapped_input(X[0], copies))}


def collectives_tab(X, dtype: str, gamma: float, *, collective: str, copies: int,
                    max_rows: int) -> dict[str, np.ndarray]:
    """The Collectives tab: `collective_rows` and `axis_size_copies`."""
    return {**collective_rows(X, dtype, gamma, collective=collective, max_rows=max_rows),
            **axis_size_copies(X[:max_rows], dtype, copies=copies)}


def newton_inputs(X: np.ndarray, decades: int) -> np.ndarray:
    """One input a a point, spread on a log scale from 1 to 10^decades by the rank of |x|²: (N,)."""
    norms = np.sum(np.asarray(X, np.float64) ** 2, axis=1)
    ranks = np.argsort(np.argsort(norms)) / max(X.shape[0] - 1, 1)
    return (10.0 ** (ranks * decades)).astype(X.dtype)


def cond_section(X, dtype: str, gamma: float, *, fractions: tuple[float, ...],
                 max_rows: int) -> dict[str, np.ndarray]:
    """vmap(cond) at each fraction of costly rows, then each branch alone: "cond_label",
    "cond_fraction" (NaN for a branch alone), "cond_costly_rows" and the timings (`_timings`,
    prefix "cond"); "cond_ratio_full_over_none" (3,) the largest fraction's time over the
    smallest's, (ratio, low, high), paired round by round."""
    X = X[:max_rows]
    with dtype_scope(dtype):
        rows = cond_timings(X, gamma, tuple(fractions))
    cond = [r for r in rows if r["fraction"] is not None]
    return {"cond_label": np.asarray([r["label"] for r in rows], dtype=str),
            "cond_fraction": np.asarray([np.nan if r["fraction"] is None else r["fraction"]
                                         for r in rows], dtype=np.float64),
            "cond_costly_rows": np.asarray([r["costly_rows"] for r in rows], dtype=np.int64),
            **_timings(rows, "cond"),
            "cond_ratio_full_over_none": np.asarray(ratio_interval(cond[-1]["timing"],
                                                                   cond[0]["timing"]))}


def newton_section(X, dtype: str, *, decades: int, max_rows: int) -> dict[str, np.ndarray]:
    """Newton's method for √a under vmap: "a" (n,) the inputs (`newton_inputs`), "steps" (n,)
    the steps each needs, "roots" (n,), "trips" () the batched loop's trips."""
    X = X[:max_rows]
    with dtype_scope(dtype):
        a = newton_inputs(X, decades)
        newton = newton_trips(a)
    return {"a": a, "steps": newton["steps"], "roots": newton["roots"],
            "trips": np.asarray(newton["trips"])}


def control_tab(X, dtype: str, gamma: float, *, decades: int, fractions: tuple[float, ...],
                max_rows: int) -> dict[str, np.ndarray]:
    """The Control flow tab: `cond_section` and `newton_section`."""
    return {**cond_section(X, dtype, gamma, fractions=fractions, max_rows=max_rows),
            **newton_section(X, dtype, decades=decades, max_rows=max_rows)}


def random_tab(X, dtype: str, gamma: float, *, key_seed: int,
               noise_scale: float) -> dict[str, np.ndarray]:
    """"noise_one_key" and "noise_split_keys" (N, D): the noise each row got, one key for
    all rows against one key a row."""
    with dtype_scope(dtype):
        key = jax.random.key(int(key_seed))
        one = np.asarray(noise_one_key(key, X, noise_scale)) - X
        split = np.asarray(noise_split_keys(key, X, noise_scale)) - X
    return {"noise_one_key": one, "noise_split_keys": split}


def jacobian_ways(dtype: str, *, n: int, m: int) -> dict[str, np.ndarray]:
    """"ways" (4,), "J" (4, m, n) the Jacobian of tanh(W x) each way, "flops" (4,) XLA's
    count, "W" (m, n), "x" (n,), "formula_max_abs_diff" (4,) each J's to (1 - tanh²)·W."""
    with dtype_scope(dtype):
        W, x = problem(n, m, dtype)
        J = np.stack([np.asarray(fn(W, x)) for fn in JACOBIANS.values()])
        flops = [jacobian_flops(name, n, m, dtype) for name in JACOBIANS]
    t = np.tanh(np.asarray(W, np.float64) @ np.asarray(x, np.float64))
    exact = (1 - t**2)[:, None] * np.asarray(W, np.float64)  # d tanh(Wx)/dx, by hand
    return {"ways": np.asarray(list(JACOBIANS), dtype=str), "J": J, "flops": np.asarray(flops),
            "W": np.asarray(W), "x": np.asarray(x),
            "formula_max_abs_diff": np.max(np.abs(J - exact), axis=(1, 2))}


def jacobian_sweep(dtype: str, *, n: int, m: int, vary: str, sweep_sizes: tuple[int, ...],
                   on_progress=None) -> dict[str, np.ndarray]:
    """Both ways timed as `vary` ("n" or "m") takes each of sweep_sizes, the other size
    held: "sweep_n", "sweep_m", "sweep_method" and the timings (prefix "sweep")."""
    with dtype_scope(dtype):
        rows = jacobian_timings(tuple(sweep_sizes), m if vary == "n" else n, vary, dtype,
                                on_progress=on_progress)
    return {"sweep_n": np.asarray([r["n"] for r in rows]), "sweep_m": np.asarray([r["m"] for r in rows]),
            "sweep_method": np.asarray([r["method"] for r in rows], dtype=str), **_timings(rows, "sweep")}


def jacobians_tab(X, dtype: str, gamma: float, *, n: int, m: int, vary: str,
                  sweep_sizes: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The Jacobians tab: `jacobian_ways` and `jacobian_sweep`."""
    return {**jacobian_ways(dtype, n=n, m=m),
            **jacobian_sweep(dtype, n=n, m=m, vary=vary, sweep_sizes=sweep_sizes)}


def memory_tab(X, dtype: str, gamma: float, *, k: int, max_rows: int,
               on_progress=None) -> dict[str, np.ndarray]:
    """Per batch size of `lax.map` ("batch_size", 0 for plain vmap): XLA's "temp_bytes",
    "argument_bytes", "output_bytes", and the timings; "k" () the neighbours used."""
    X = X[:max_rows]
    k = min(k, X.shape[0])
    with dtype_scope(dtype):
        rows = memory_sweep(X, k, batch_sizes(X.shape[0]), on_progress=on_progress)
    return {"batch_size": np.asarray([r["batch_size"] or 0 for r in rows], dtype=np.int64),
            **{key: np.asarray([r[key] for r in rows], dtype=np.int64)
               for key in ("temp_bytes", "argument_bytes", "output_bytes")},
            **_timings(rows, "memory"), "k": np.asarray(k)}


def forms_tab(X, dtype: str, gamma: float, *, rows: int) -> dict[str, np.ndarray]:
    """"forms" (3,); "K" (N, N) by broadcasting, "max_abs_diff" (3,) each form's to it;
    "flops" (3,) XLA's count at N; "primitives" (P,) and "equations" (3, P) the jaxprs'
    equations by primitive, X of shape (rows, D); "reshaping" (P,) which primitives only
    reshape; "same_arithmetic" (3,) whether a form's arithmetic is broadcasting's;
    "jaxpr" (3,) each jaxpr's text."""
    n, d = X.shape
    with dtype_scope(dtype):
        info = form_jaxprs(rows, d, dtype)
        K = {name: np.asarray(v) for name, v in form_results(X, gamma).items()}
        flops = [compiled_flops(name, n, d, dtype) for name in FORMS]
    primitives = sorted({p for v in info.values() for p in v["counts"]})
    return {"forms": np.asarray(list(FORMS), dtype=str), "K": K["broadcasting"],
            "max_abs_diff": np.asarray([np.max(np.abs(K[f] - K["broadcasting"])) for f in FORMS]),
            "flops": np.asarray(flops), "primitives": np.asarray(primitives, dtype=str),
            "equations": np.asarray([[v["counts"].get(p, 0) for p in primitives]
                                     for v in info.values()], dtype=np.int64),
            "reshaping": np.asarray([p in RESHAPING for p in primitives], dtype=bool),
            "same_arithmetic": np.asarray([v["arithmetic"] == info["broadcasting"]["arithmetic"]
                                           for v in info.values()], dtype=bool),
            "jaxpr": np.asarray([v["text"] for v in info.values()], dtype=str)}


def custom_rule(X, dtype: str, gamma: float, *, max_rows: int) -> dict[str, np.ndarray]:
    """"K" (n, n) by the custom_vmap rule, "K_plain" by nested vmap, n = min(N, max_rows)."""
    X = X[:max_rows]
    with dtype_scope(dtype):
        return {"K": np.asarray(custom_gram(X, gamma)), "K_plain": np.asarray(gram_nested_vmap(X, gamma))}


def callback_methods(X, dtype: str, gamma: float, *, max_rows: int) -> dict[str, np.ndarray]:
    """Per `vmap_method` of pure_callback ("vmap_methods", "None" where not given):
    "host_calls", "callback_first_call" the shapes the first host call got ("" where none),
    "callback_error" JAX's refusal ("" where none) and "callback_max_abs_diff" to the
    custom_vmap rule's Gram matrix (NaN where JAX refused)."""
    X = X[:max_rows]
    with dtype_scope(dtype):
        K = np.asarray(custom_gram(X, gamma))
        results = {m: callback_calls(m, X, gamma) for m in VMAP_METHODS}
    return {"vmap_methods": np.asarray([str(m) for m in results], dtype=str),
            "host_calls": np.asarray([len(r["calls"]) for r in results.values()], dtype=np.int64),
            "callback_first_call": np.asarray([str(r["calls"][0]) if r["calls"] else ""
                                               for r in results.values()], dtype=str),
            "callback_error": np.asarray([r["error"] or "" for r in results.values()], dtype=str),
            "callback_max_abs_diff": np.asarray([np.nan if r["output"] is None else
                                                 np.max(np.abs(r["output"] - K))
                                                 for r in results.values()])}


def custom_tab(X, dtype: str, gamma: float, *, max_rows: int) -> dict[str, np.ndarray]:
    """The Custom batching tab: `custom_rule` and `callback_methods`."""
    return {**custom_rule(X, dtype, gamma, max_rows=max_rows),
            **callback_methods(X, dtype, gamma, max_rows=max_rows)}


def devices_tab(X, dtype: str, gamma: float, *, way: str, max_rows: int) -> dict[str, np.ndarray]:
    """"K" (n, n) with its rows split over every device (n the largest multiple of the
    device count up to max_rows), "K_plain" on one device, "shard_shapes" (devices, 2) and
    "shard_devices" (devices,) which holds each, "devices" () their count, "spec" () the
    output's PartitionSpec and "jaxpr" () the program, as text."""
    count = jax.device_count()
    X = X[:(min(X.shape[0], max_rows) // count) * count]
    if X.shape[0] == 0:
        return {}  # fewer points than devices: the page says so
    with dtype_scope(dtype):
        result = sharded_gram(X, gamma, "shard_map" if way == "shard_map" else "spmd")
        K_plain = np.asarray(gram_nested_vmap(X, gamma))
    return {"K": np.asarray(result["K"]), "K_plain": K_plain,
            "shard_shapes": np.asarray([shape for _, shape in result["shards"]], dtype=np.int64),
            "shard_devices": np.asarray([device for device, _ in result["shards"]], dtype=str),
            "devices": np.asarray(result["devices"]), "spec": np.asarray(result["spec"]),
            "jaxpr": np.asarray(result["jaxpr"])}


TAB_VIEWS = {
    "Collectives": collectives_tab,
    "Control flow": control_tab,
    "Random keys": random_tab,
    "Jacobians": jacobians_tab,
    "Memory": memory_tab,
    "Vectorize": forms_tab,
    "Custom batching": custom_tab,
    "Devices": devices_tab,
}


def further_view(X: np.ndarray, y: np.ndarray | None, *, tab: str, dtype: str, gamma: float,
                 controls: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """What the open tab of "vmap, further" shows.

    Args:
      X: (N, D) the sidebar's data; y: not used. dtype, gamma: the sidebar's.
      tab: a key of TAB_VIEWS; controls: the tab's own controls (as the page binds them
        to the URL) and its row caps.

    Returns:
      the tab function's arrays (see each `*_tab`).
    """
    return TAB_VIEWS[tab](X, dtype, gamma, **controls)


def further_figure(view: dict[str, np.ndarray]):
    """A heatmap of the tab's matrix where it has one, else its first array as a line (Plotly)."""
    import plotly.graph_objects as go

    for name in ("K", "noise_split_keys", "J"):
        if name in view:
            z = view[name][0] if name == "J" else view[name]
            return go.Figure(go.Heatmap(z=z, colorscale="Viridis")).update_layout(
                title=name, yaxis={"autorange": "reversed"})
    line = next(((k, v) for k, v in view.items() if v.dtype.kind in "fi" and v.ndim == 1), None)
    if line is None:  # the devices tab with fewer points than devices: nothing computed
        return go.Figure().update_layout(title="Nothing to draw")
    return go.Figure(go.Scatter(y=line[1], mode="lines+markers")).update_layout(title=line[0])
