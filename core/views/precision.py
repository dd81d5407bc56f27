"""The Precision lab's view: each method's errors against a float64 reference, and against offset.

The lab draws its own seeded data (`lab_data`: standard normal × spread + offset), so
the view needs no data of the sidebar's but its seed. The page computes its parts
apart (the current offset, the sweep one offset at a time, the matmul effect on
request): each is a section here, and `precision_view` is their sum.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from core.lessons.accuracy import (SWEEP_OFFSETS, cancellation_scale, lab_accuracy, lab_data,
                                   matmul_precision_effect, offset_sweep)

__all__ = ["precision_at_offset", "precision_sweep", "precision_matmul_effect", "precision_view",
           "precision_figure"]

SUMMARIES = ("k_max_error", "k_median_error", "d2_max_error", "d2_median_error",
             "diagonal_deviation")


def precision_at_offset(*, n: int, d: int, scale: float, offset: float, seed: int, dtype: str,
                        methods: Sequence[str], precision: str | None = None
                        ) -> dict[str, np.ndarray]:
    """Each method's errors at one offset, with the |ΔK| matrices (the table and the heatmaps).

    Returns:
      "X" (n, d) the lab's data; "methods" (M,) keys; (M,) each: "k_max_error",
      "k_median_error", "d2_max_error", "d2_median_error", "diagonal_deviation",
      "negatives" (int64: squared distances below 0 before clipping); "k_abs_error"
      (M, n, n) float32 |K − K_ref|.
    """
    methods = tuple(methods)
    rows = lab_accuracy(n, d, scale, offset, seed, dtype, methods, precision, keep_error=True)
    view = {"X": lab_data(n, d, scale, offset, seed, dtype), "methods": np.array(methods)}
    for field in SUMMARIES:
        view[field] = np.array([getattr(r, field) for r in rows])
    view["negatives"] = np.array([r.negatives for r in rows], dtype=np.int64)
    view["k_abs_error"] = np.stack([r.k_abs_error for r in rows])
    return view


def precision_sweep(*, n: int, d: int, scale: float, seed: int, dtype: str,
                    methods: Sequence[str], precision: str | None = None,
                    evaluate: Callable = lab_accuracy,
                    on_progress: Callable[[int, int], None] | None = None
                    ) -> dict[str, np.ndarray]:
    """The largest errors of each method as the offset sweeps `SWEEP_OFFSETS`.

    Args:
      evaluate: one offset's `lab_accuracy` (the app passes a cached wrapper, so a
        change of the current offset recomputes no point of the sweep).
      on_progress: `on_progress(done, total)` after each offset.

    Returns:
      "sweep_offsets" (P,), "sweep_k_max_error", "sweep_d2_max_error" (M, P),
      "sweep_negatives" (M, P) int64, and "cancellation_scale" (P,) the guide line
      eps·D·(offset² + spread²).
    """
    methods = tuple(methods)
    sweep = offset_sweep(n, d, scale, seed, dtype, methods, SWEEP_OFFSETS, precision,
                         evaluate=evaluate, on_progress=on_progress)
    return {
        "sweep_offsets": sweep.offsets,
        "sweep_k_max_error": np.stack([sweep.k_max_error[m] for m in methods]),
        "sweep_d2_max_error": np.stack([sweep.d2_max_error[m] for m in methods]),
        "sweep_negatives": np.stack([sweep.negatives[m] for m in methods]).astype(np.int64),
        "cancellation_scale": cancellation_scale(sweep.offsets, scale, d, dtype),
    }


def precision_matmul_effect(*, n: int, d: int, scale: float, offset: float, seed: int,
                            dtype: str, methods: Sequence[str]) -> dict[str, np.ndarray]:
    """"matmul_effect" (M,): max |K(highest) − K(default)| of each method on the lab's data."""
    X = lab_data(n, d, scale, offset, seed, dtype)
    return {"matmul_effect": np.array([matmul_precision_effect(X, m) for m in methods])}


def precision_view(*, n: int, d: int, scale: float, offset: float, seed: int, dtype: str,
                   methods: Sequence[str], precision: str | None = None) -> dict[str, np.ndarray]:
    """What the Precision lab shows for one setting of its controls.

    Args:
      n, d, scale, offset, seed, dtype: the lab's data, `lab_data(n, d, scale, offset, seed,
        dtype)`, and the precision computed in.
      methods: keys of `METHODS` (of `LAB_METHODS`), in the table's order.
      precision: None (JAX's default matmul precision) or "highest".

    Returns:
      `precision_at_offset`'s arrays (the table and the heatmaps), `precision_sweep`'s
      (against offset), and with precision "highest", `precision_matmul_effect`'s.
    """
    data = dict(n=n, d=d, scale=scale, seed=seed, dtype=dtype, methods=methods)
    view = precision_at_offset(offset=offset, precision=precision, **data)
    view |= precision_sweep(precision=precision, **data)
    if precision == "highest":
        view |= precision_matmul_effect(offset=offset, **data)
    return view


def precision_figure(view: dict[str, np.ndarray]):
    """The page's error against offset (log-log), one line per method (Plotly)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for method, errors in zip(view["methods"], view["sweep_k_max_error"]):
        fig.add_trace(go.Scatter(x=view["sweep_offsets"], y=np.maximum(errors, 1e-18),
                                 mode="lines+markers", name=str(method)))
    fig.update_layout(title="max |ΔK| against offset", xaxis={"type": "log", "title": "offset"},
                      yaxis={"type": "log", "title": "max |ΔK|"})
    return fig
