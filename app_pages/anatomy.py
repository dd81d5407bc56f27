"""vmap anatomy: the notes' examples taken apart on the current data.

Five sections: predict batched four ways (checked and timed), an in_axes/out_axes
playground, jaxprs before and after vmap, the partial-versus-lambda trap, and a
matrix product built from a dot product by two vmaps.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.anatomy import (
    AXIS_CHOICES,
    JAXPR_EXAMPLES,
    JITTABLE_FORMS,
    PLAYGROUND_FUNCTIONS,
    REFERENCE_FORM,
    compare_predict_forms,
    jaxpr_pair,
    matmul_ladder,
    matmul_source,
    parse_shape,
    try_vmap,
)
from core.precision import dtype_scope
from core.lessons.predict import BATCHED_PREDICTS, init_params, late_binding_demo, predict
from core.bench.report import format_seconds, format_timing
from core.views.anatomy import LATE_BINDING_ROWS, MATMUL_MAX_ROWS, PREDICT_MAX_ROWS
from ui.charts.anatomy import late_binding_chart, timing_bars
from ui.state.cache import load_data
from ui.export import data_source, reproduce_control
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

ANATOMY_EXPORT_NOTE = (
    "`predict` batched four ways on the first rows of the data (`predict_outputs`, equal to "
    "round-off; `predict_timings` measured on your machine, also as CSV), the in_axes/out_axes "
    "playground's outcome for this choice, the partial-versus-lambda demo (`late_*`) and "
    "vv -> mv -> mm against `@`. The jaxprs are text: `jax.make_jaxpr` prints them.")

settings = render_sidebar(uses=frozenset({"data", "seed", "precision"}))  # no kernel, no gamma
data = load_data(settings)
n, d = data.X.shape
float_type = np.dtype(settings.dtype).type
params = init_params(d, settings.seed, dtype=float_type)

st.title("vmap anatomy")
st.markdown(
    f"The notes' examples, run on **{data.name}** (X: ({n:,}, {d}), {settings.dtype}) with "
    f"`params = init_params(D, seed={settings.seed})`: a weight vector w of shape ({d},) and a "
    "scalar b."
)

# --- 1. predict, four ways -----------------------------------------------------
st.header("1. One model, batched four ways")
rows = min(n, PREDICT_MAX_ROWS)
st.markdown(
    "`predict(params, x) = tanh(w·x + b)` is written for one x of shape (D,). The notes batch "
    "it over the rows of X with a Python loop, with `map` + `partial` + `np.stack`, and with "
    "`vmap` in two spellings. All four must give the same N numbers."
)
if rows < n:
    st.caption(f"Run on the first {rows:,} of {n:,} rows: the loop forms stack one array per "
               "row, and JAX compiles that stack anew for every N.")

timing_key = (data.key, settings.seed, rows)
results = st.session_state.get("_anatomy_forms")
if results is None or results[0] != timing_key:
    # Each progress update is also where Streamlit stops this run if the user
    # changes a control meanwhile: the timing is abandoned, not waited for.
    bar = st.progress(0.0, text="Timing the four forms …")
    with dtype_scope(settings.dtype):
        forms = compare_predict_forms(params, data.X[:rows], budget_s=0.5,
                                      on_progress=lambda f, label: bar.progress(f, text=label))
    bar.empty()
    st.session_state["_anatomy_forms"] = (timing_key, forms)
else:
    forms = results[1]

worst = max(f.max_abs_diff for f in forms)
all_agree = all(f.agrees for f in forms)
c1, c2, c3 = st.columns(3)
c1.metric("Largest |difference| between forms", f"{worst:.3g}",
          help=f"Each form against {REFERENCE_FORM}, over all rows.")
c2.metric("Allowed (round-off of w·x + b)", f"{forms[0].tolerance:.2g}",
          help="About D·ε·max Σ|wⱼxⱼ|: the forms add the products in different orders.")
c3.metric("Output shape", str(np.shape(forms[0].output)))
if all_agree:
    st.success("Pass: all four forms give the same predictions (to round-off).",
               icon=":material/check_circle:")
else:
    st.error("Fail: the forms disagree by more than round-off.", icon=":material/error:")

table = pd.DataFrame({
    "form": [f.label for f in forms],
    "max |Δ| to in_axes form": [f"{f.max_abs_diff:.3g}" for f in forms],
    "agrees": ["yes" if f.agrees else "NO" for f in forms],
    "first call (one run)": [format_seconds(f.eager.first_call_s, 2) for f in forms],
    "median (as written)": [format_timing(f.eager) for f in forms],
    "jit: compile (one run)": [format_seconds(f.jitted.compile_s, 2) if f.jitted else "—"
                               for f in forms],
    "jit: median": [format_timing(f.jitted) if f.jitted else "—" for f in forms],
})
# A static table: its cells wrap, so all seven columns fit an 800 px window (a dataframe
# of them is about 1,000 px wide and cuts off its last column).
st.table(table, hide_index=True)
bars = [(f.label, f.eager.median_s, f.eager.spread_s) for f in forms]
bars += [(f"jit({f.label})", f.jitted.median_s, f.jitted.spread_s) for f in forms if f.jitted]
st.plotly_chart(timing_bars([b[0] for b in bars], [b[1] for b in bars],
                            f"Time per call on {rows:,} rows (median; bars show the spread)",
                            [b[2] for b in bars], height=360), key="w_anatomy_forms_chart")
st.caption(
    "\"First call\" includes JAX compiling each operation the first time it meets a shape. "
    f"Only the vmap forms can be compiled whole ({', '.join(JITTABLE_FORMS)}); the loop forms "
    "would unroll into one operation per row. Timings are medians of a few calls within "
    "about half a second per form, to 2 significant figures, with their interquartile range "
    "(IQR)."
)
st.button("Time again", key="w_anatomy_retime",
          on_click=lambda: st.session_state.pop("_anatomy_forms", None))
with st.expander("The source of each form (the code that just ran)"):
    st.code(inspect.getsource(predict), language="python")
    for label, fn in BATCHED_PREDICTS.items():
        st.markdown(f"**{label}**")
        st.code(inspect.getsource(fn), language="python")


# --- 2. in_axes / out_axes playground -------------------------------------------
@st.fragment
def playground() -> None:
    st.header("2. in_axes and out_axes")
    st.markdown(
        "`in_axes` says, per argument, which axis is the batch (None: the argument is shared, "
        "not batched); `out_axes` says where the batch axis goes in the output. Pick a "
        "function and shapes; JAX traces the call (shapes only, nothing is computed) and "
        "either reports the output shape or refuses with its own message. JAX only checks "
        "that the mapped axes agree: when f gets a scalar where it was written for a vector, "
        "it broadcasts without an error, and the page says so."
    )
    fn_name = bound(st.selectbox, "f(a, b)", list(PLAYGROUND_FUNCTIONS),
                    format_func=lambda k: PLAYGROUND_FUNCTIONS[k][0], key="w_anatomy_fn")
    c1, c2, c3, c4, c5 = st.columns([2, 2, 2, 2, 2])
    text_a = bound(c1.text_input, "shape of a", "5, 3", key="w_anatomy_shape_a",
                   help="Whole numbers separated by commas; empty for a scalar.")
    text_b = bound(c2.text_input, "shape of b", "3", key="w_anatomy_shape_b")
    fmt = lambda v: "None" if v is None else str(v)  # noqa: E731
    ax_a = bound(c3.radio, "in_axes for a", AXIS_CHOICES, format_func=fmt, key="w_anatomy_in_a",
                 horizontal=True)
    ax_b = bound(c4.radio, "in_axes for b", AXIS_CHOICES, index=2, format_func=fmt,
                 key="w_anatomy_in_b", horizontal=True)
    out = bound(c5.radio, "out_axes", (0, 1), key="w_anatomy_out", horizontal=True)
    # Here, in the fragment, so the export follows the playground's choice as it changes.
    reproduce_control("anatomy", data_source(settings), dict(
        seed=int(settings.seed), fn_name=fn_name, shape_a=text_a, shape_b=text_b,
        in_axes=(ax_a, ax_b), out_axes=int(out)), notes=[ANATOMY_EXPORT_NOTE])
    shapes = []
    for name, text in (("a", text_a), ("b", text_b)):
        try:
            shapes.append(parse_shape(text))
        except ValueError as err:
            st.error(f"Shape of {name}: {err}", icon=":material/error:")
    if len(shapes) < 2:
        return
    with dtype_scope(settings.dtype):
        result = try_vmap(fn_name, shapes, (ax_a, ax_b), out, settings.dtype)
    st.code(f"a.shape = {shapes[0]}; b.shape = {shapes[1]}\n{result.code}", language="python")
    if result.ok:
        if result.rank_notes:
            st.warning(f"Output shape: {result.shape}, and no error, but f did not get what it "
                       "was written for:\n\n"
                       + "\n\n".join(f"- {note}" for note in result.rank_notes),
                       icon=":material/warning:")
        else:
            st.success(f"Output shape: {result.shape}", icon=":material/check_circle:")
        seen = ", ".join(f"{nm}: {s}" for nm, s in zip("ab", result.per_example_in))
        st.markdown(
            f"f itself sees one example, {seen}, and returns shape {result.per_example_out}. "
            f"vmap runs it for each of the **{result.batch_size}** positions along the mapped "
            f"axis and puts that axis at position {out} of the output: {result.shape}."
        )
    else:
        st.error(f"JAX refused: {result.error}", icon=":material/block:")
        st.caption("This is JAX's own message. Typical causes: two mapped axes of different "
                   "lengths, an axis past the array's rank, every in_axes None, or shapes "
                   "f cannot combine for one example.")


playground()


# --- 3. jaxprs --------------------------------------------------------------------
@st.fragment
def jaxprs() -> None:
    st.header("3. What vmap does to the program")
    st.markdown(
        "`jax.make_jaxpr` shows the program JAX traced. vmap does not add a loop: it rewrites "
        "each operation to carry a batch axis, so the batched program has the same steps "
        f"with an extra axis of length N = {n:,} (look at the shapes, e.g. f32[{d}] → "
        f"f32[{n},{d}])."
    )
    name = bound(st.radio, "Example", list(JAXPR_EXAMPLES), format_func=lambda k: JAXPR_EXAMPLES[k][0],
                 key="w_anatomy_jaxpr", horizontal=True)
    label, plain_code, batched_code, _ = JAXPR_EXAMPLES[name]
    with dtype_scope(settings.dtype):
        plain, batched = jaxpr_pair(name, n, d, settings.dtype)
    left, right = st.columns(2)
    left.markdown(f"**Unbatched**: `{plain_code}`")
    left.code(plain, language=None)
    right.markdown(f"**Batched**: `{batched_code}`")
    right.code(batched, language=None)


jaxprs()

# --- 4. partial versus lambda ------------------------------------------------------
st.header("4. The partial-versus-lambda trap")
st.markdown(
    "The notes build the batched function with `partial(predict, params)`, not "
    "`lambda x: predict(params, x)`. The difference shows when `params` changes *after* the "
    "batched function was made. `partial` stored the value `params` had at that moment. The "
    "lambda stored only the *name* `params` and looks it up every time it runs, so it "
    "silently switches to whatever the name holds now. Below, both are built, then `params` "
    f"is rebound to `init_params(D, seed={settings.seed + 1})` and both are called again."
)
m = min(n, LATE_BINDING_ROWS)
new_params = init_params(d, settings.seed + 1, dtype=float_type)
with dtype_scope(settings.dtype):
    demo = late_binding_demo(params, new_params, data.X[:m])
partial_kept = float(np.max(np.abs(demo["partial_after"] - demo["before"])))
lambda_moved = float(np.max(np.abs(demo["lambda_after"] - demo["new_params_reference"])))
lambda_change = float(np.max(np.abs(demo["lambda_after"] - demo["before"])))
c1, c2, c3 = st.columns(3)
c1.metric("max |partial after − before|", f"{partial_kept:.3g}", help="0: partial kept the old params.")
c2.metric("max |lambda after − new params|", f"{lambda_moved:.3g}",
          help="0: the lambda now uses the new params.")
c3.metric("max |lambda after − before|", f"{lambda_change:.3g}",
          help="How far the lambda's predictions moved without anyone calling it differently.")
st.plotly_chart(late_binding_chart(demo["before"], demo["partial_after"], demo["lambda_after"],
                                   demo["new_params_reference"],
                                   f"Predictions for the first {m} points, before and after "
                                   "params changed"), key="w_anatomy_late_chart")
st.dataframe(pd.DataFrame({
    "point": np.arange(min(m, 8)),
    "before": demo["before"][:8],
    "partial, after": demo["partial_after"][:8],
    "lambda, after": demo["lambda_after"][:8],
    "predict(new params)": demo["new_params_reference"][:8],
}), hide_index=True, key="w_anatomy_late_table", width="stretch")
st.caption("Make a decision, fix the function, then batch it: with `partial` (or explicit "
           "`in_axes=(None, 0)` and params passed in) nothing changes behind your back.")
with st.expander("The code that just ran"):
    st.code(inspect.getsource(late_binding_demo), language="python")

# --- 5. vv -> mv -> mm ----------------------------------------------------------------
st.header("5. From a dot product to a matrix product")
mm_rows = min(n, MATMUL_MAX_ROWS)
st.markdown(
    "The notes build `A @ B` from `vdot` alone: vmap over the rows of A gives matrix·vector, "
    "vmap of that over the columns of B gives matrix·matrix. Here A is the first "
    f"{mm_rows:,} rows of X and B = Aᵀ, so A @ B is the linear-kernel Gram matrix of those "
    "points. Each stage is checked against `@`."
)
A = data.X[:mm_rows]
with dtype_scope(settings.dtype):
    stages = matmul_ladder(A, A.T)
st.dataframe(pd.DataFrame({
    "stage": [s.name for s in stages],
    "call": [s.code for s in stages],
    "inputs": [s.inputs for s in stages],
    "output shape": [str(s.shape) if s.shape else "() scalar" for s in stages],
    "max |Δ| to @": [f"{s.max_abs_diff:.3g}" for s in stages],
}), hide_index=True, key="w_anatomy_matmul_table", width="stretch")
st.code(matmul_source(), language="python")
