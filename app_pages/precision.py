"""Precision lab: why float32 distances come out negative, and which methods stay accurate.

The lab draws its own seeded data, standard normal × scale + offset, and measures
every chosen batching method against a float64 vector-form reference
(`core.lessons.accuracy`). Nothing here computes: it reads controls, calls `core` through
small caches keyed on scalars, and draws.
"""

from __future__ import annotations

import streamlit as st

from core.dense.methods import METHODS
from core.lessons.accuracy import (DEFAULT_LAB_METHODS, LAB_METHODS, SWEEP_OFFSETS, backend,
                                   lab_accuracy)
from core.views.precision import precision_at_offset, precision_matmul_effect, precision_sweep
from ui.charts.precision import (OFFSETS, SCALES, error_heatmaps, error_table, floor_of,
                                 matmul_table, number, sweep_chart)
from ui.export import reproduce_control
from ui.state.precision import URL
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

HEATMAP_COLUMNS = 3
# Small caches keyed on scalars: the sweep per point (a slider move recomputes one offset,
# not thirteen), the current offset with its (N, N) error matrices, the matmul effect.
_point = st.cache_data(max_entries=512, show_spinner=False)(lab_accuracy)
_at_offset = st.cache_data(max_entries=4, show_spinner=False)(precision_at_offset)
_matmul_effect = st.cache_data(max_entries=64, show_spinner=False)(precision_matmul_effect)

# The lab draws its own points with its own precision and methods: the sidebar shows
# only the Seed (the other controls are drawn hidden, bound to the URL, for the other pages).
settings = render_sidebar(uses=frozenset({"seed"}),
                          data_note="The Precision lab draws its own points, with its own "
                                    "precision and methods (on the page): only **Seed** applies "
                                    "here. The sidebar's other controls keep their values for "
                                    "the other pages.")

st.title("Precision lab")
st.markdown(
    "Why do float32 squared distances come out **negative**, and why does an RBF Gram matrix "
    "computed far from the origin turn into nonsense? This lab draws its own data, "
    "*standard normal × spread + offset*, and measures each batching method against a float64 "
    "reference computed by the vector form `sum((x - y) ** 2)` on the very same input values "
    "(so only the method's own round-off is counted, not the rounding of the data)."
)

c1, c2, c3 = st.columns(3)
dtype = bound(c1.radio, "Lab precision (this page only)", ["float32", "float64"], horizontal=True,
              key=URL.dtype)
offset = bound(c1.select_slider, "Offset added to every coordinate (log scale)", options=OFFSETS,
               value=1000.0, format_func=number, key=URL.offset,
               help="Moves the whole cloud away from the origin; distances do not change.")
scale = bound(c2.select_slider, "Spread: scale of the standard normal (log scale)", options=SCALES,
              value=1.0, format_func=number, key=URL.scale)
n = bound(c2.slider, "Number of points N", 20, 1000, 200, step=10, key=URL.n)
d = bound(c3.slider, "Features D", 1, 64, 5, key=URL.d)
highest = bound(c3.toggle, "JAX matmul precision \"highest\"", key=URL.matmul_highest,
                help="Runs the methods inside jax.default_matmul_precision('highest').")
methods = bound(st.multiselect, "Methods to compare", list(LAB_METHODS),
                default=list(DEFAULT_LAB_METHODS), format_func=lambda m: METHODS[m].label,
                key=URL.methods)
st.caption(f"Seed {settings.seed} (from the sidebar). gamma: the median heuristic "
           "1/(2·median d²) of these data, so K spreads over (0, 1) at every spread.")
if not methods:
    st.warning("No method chosen: pick at least one in **Methods to compare** above.",
               icon=":material/rule:")
    st.stop()

precision = "highest" if highest else None
labels = [METHODS[m].label for m in methods]
# The lab's data and methods, as every section of its view takes them.
lab = dict(n=n, d=d, scale=float(scale), seed=int(settings.seed), dtype=dtype,
           methods=tuple(methods))
reproduce_control("precision", None, dict(n=n, d=d, scale=float(scale), offset=float(offset),
                                          seed=int(settings.seed), dtype=dtype,
                                          methods=list(methods), precision=precision), notes=[
    "The lab's own data, standard normal × spread + offset (`X`), and each method's errors "
    "against a float64 vector-form reference at this offset (the table and the |ΔK| heatmaps), "
    "then the largest errors as the offset sweeps from 0.1 to 1e5 (`sweep_*`)."])
floor = floor_of(dtype)  # below float round-off: drawn as "exact"

# --- errors at the current offset ------------------------------------------------
st.subheader(f"Errors at offset {number(offset)}, {dtype}")
with st.spinner("Measuring each method against the float64 reference…"):
    at_offset = _at_offset(**lab, offset=float(offset), precision=precision)
table = error_table(at_offset, labels)
sci = st.column_config.NumberColumn(format="%.2e")
st.dataframe(table, hide_index=True, key="w_prec_table", placeholder="—", column_config={
    "max |ΔK|": sci, "median |ΔK|": sci, "max |Δd²|": sci, "median |Δd²|": sci,
    "max |Kᵢᵢ − 1|": sci,
    "d² < 0 before clipping": st.column_config.NumberColumn(
        help=f"Of the N² = {n * n:,} squared distances, as the method computes them."),
})
st.caption("ΔK: difference from the float64 K (unitless, K is in [0, 1]). Δd²: difference "
           "from the float64 squared distances, in squared data units.")
left, right = st.columns(2)
left.markdown(
    "**Clipping.** A squared distance cannot be negative, but the expansion's round-off can "
    "push a small one below zero. `core` clips those to 0 (`jnp.maximum(d2, 0)`) before the "
    "exponential, so K stays ≤ 1; the column *d² < 0 before clipping* counts how many needed "
    "it. scikit-learn clips inside its own function, so its count is 0 by construction."
)
right.markdown(
    "**The diagonal.** Every point is at distance 0 from itself, so Kᵢᵢ = 1 exactly. The "
    "jitted expansion can leave round-off there, within its error bound: whether "
    "|x|² + |x|² − 2·x·x cancels exactly depends on how XLA compiles the sums for this CPU "
    "(with fused multiply-add it usually does not); methods that know Y is X set the "
    "diagonal to 0 (the centered method, scikit-learn), and NumPy's einsum happens to sum "
    "both in the same order."
)

st.markdown(f"**|ΔK| per method, one shared colour scale** (log₁₀; entries below "
            f"{floor:.0e}, exact ones included, are drawn at {floor:.0e}).")
heatmaps = list(zip(methods, error_heatmaps(at_offset, labels, floor)))
for start in range(0, len(heatmaps), HEATMAP_COLUMNS):
    row = heatmaps[start:start + HEATMAP_COLUMNS]
    for col, (method, fig) in zip(st.columns(HEATMAP_COLUMNS), row):
        col.plotly_chart(fig, key=f"w_prec_heat_{method}")

# --- error against offset --------------------------------------------------------
st.subheader("Error against offset: catastrophic cancellation")
metric = bound(st.radio, "Error of", ["K", "d²"], horizontal=True, key=URL.sweep_metric,
               format_func={"K": "the Gram matrix K", "d²": "the squared distances d²"}.get)
progress = st.progress(0.0, text="Sweeping the offset…")
sweep = precision_sweep(
    **lab, precision=precision, evaluate=_point,
    on_progress=lambda i, total: progress.progress(i / total, text=f"Sweeping the offset: {i}/{total}"),
)
progress.empty()
left, right = st.columns([3, 2])
with left:
    fig = sweep_chart(sweep, labels, metric, f"{dtype}, N = {n}, D = {d}, spread {number(scale)}",
                      floor, offset)
    st.plotly_chart(fig, key="w_prec_sweep_chart")
    st.caption(f"Offsets {number(SWEEP_OFFSETS[0])} to {number(SWEEP_OFFSETS[-1])}, two per "
               f"decade; errors below {floor:.0e} (exact zeros included) are drawn at "
               f"{floor:.0e}, hover shows the true value.")
with right:
    st.markdown(
        "**Cancellation.** The expansion computes |x − y|² as `x·x + y·y − 2x·y`. Far from "
        "the origin each term is about D·offset², and each carries a round-off of "
        "eps·D·offset² (eps = 1.2e-7 in float32). The true distance is small, so after the "
        "subtraction only that round-off is left: the d² error grows as offset², the dashed "
        "line's slope of 2 on the d² view, until K is meaningless (an error near 1).\n\n"
        "**Direct forms stay accurate.** The vector form vmapped (Method I/II, `lax.map`) and "
        "manual broadcasting subtract the coordinates first, `x − y`, which is exact for "
        "nearby floats, then square small numbers: their error does not depend on the offset "
        "(Method I and manual broadcasting do the same arithmetic: their lines coincide).\n\n"
        "**Centering fixes the expansion.** Distances do not change when every point moves by "
        "the same shift. The centered method subtracts one shared shift (a data point, then "
        "the mean) before expanding, so the norms are small again and the matrix-product "
        "speed stays.\n\n"
        "**What scikit-learn does instead.** Its `euclidean_distances` keeps the expansion but "
        "upcasts float32 input to float64 in blocks, computes each block in float64 and casts "
        "back: the cancellation happens at float64's eps, 1e-16, far below what float32 can "
        "show. **float64 everywhere** does the same for the other expansions: switch the "
        "precision above."
    )

# --- matmul precision --------------------------------------------------------------
st.subheader("JAX's default matmul precision")
if not highest:
    st.markdown(
        "On GPUs with TensorFloat-32 (A100, H100) JAX's default precision multiplies float32 "
        "matrices with 10-bit mantissas, and on TPUs with bfloat16 passes: the expansion's "
        "`x·y` is then far coarser than float32. Turn on **JAX matmul precision \"highest\"** "
        "above to run every method under `jax.default_matmul_precision('highest')` and "
        "measure the difference here."
    )
else:
    effect = _matmul_effect(**lab, offset=float(offset))
    effects = effect["matmul_effect"]
    st.dataframe(matmul_table(effect, labels), hide_index=True,
                 key="w_prec_matmul_table", column_config={"max |K(highest) − K(default)|":
                                                           st.column_config.NumberColumn(format="%.2e")})
    where = backend()
    if effects.max() == 0.0:
        st.info(f"Measured: **no difference** on this backend ({where}). XLA on CPU already "
                "computes float32 matrix products in full float32, so \"highest\" changes "
                "nothing here; on a GPU with TF32 or a TPU it would change the expansion's "
                "result. The errors above are the same with the toggle on or off.",
                icon=":material/info:")
    else:
        st.success(f"Measured on this backend ({where}): \"highest\" changes K by up to "
                   f"{effects.max():.2e}. The table and charts above use it.",
                   icon=":material/check_circle:")
