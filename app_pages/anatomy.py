"""vmap anatomy: the notes' examples taken apart on the current data.

Five sections: predict batched four ways (checked and timed), an in_axes/out_axes
playground, jaxprs before and after vmap, the partial-versus-lambda trap, and a
matrix product built from a dot product by two vmaps. Every number comes from a
section of `core.views.anatomy` (the export's `anatomy_view` is all of them).
"""

from __future__ import annotations

import inspect

import numpy as np
import streamlit as st

from core.bench.report import format_load
from core.lessons.anatomy import JITTABLE_FORMS, REFERENCE_FORM, matmul_source
from core.lessons.predict import BATCHED_PREDICTS, late_binding_demo, predict
from core.views.anatomy import (LATE_BINDING_ROWS, MATMUL_MAX_ROWS, PREDICT_MAX_ROWS,
                                late_binding, matmul_stages, predict_forms)
from ui.charts.anatomy import (forms_chart, forms_table, jaxprs, late_binding_chart, late_table,
                               matmul_table, playground)
from ui.state.cache import load_data
from ui.state.sidebar import render_sidebar

ANATOMY_EXPORT_NOTE = (
    "`predict` batched four ways on the first rows of the data (`predict_outputs`, equal to "
    "round-off; `predict_timings` measured on your machine, also as CSV), the in_axes/out_axes "
    "playground's outcome for this choice, the jaxprs of section 3 as text (`jaxpr_*`), the "
    "partial-versus-lambda demo (`late_*`) and vv -> mv -> mm against `@`.")

settings = render_sidebar(uses=frozenset({"data", "seed", "precision"}))  # no kernel, no gamma
data = load_data(settings)
n, d = data.X.shape

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

# Filled at the end of the page: the forms are timed once everything else is drawn.
forms_slot = st.container()

# --- 2. in_axes / out_axes playground (a fragment: the export follows its choice) ------
playground(settings, ANATOMY_EXPORT_NOTE)

# --- 3. jaxprs (a fragment) ---------------------------------------------------------
jaxprs(n, d, settings.dtype)

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
late = late_binding(data.X, seed=settings.seed)
c1, c2, c3 = st.columns(3)
c1.metric("max |partial after − before|", f"{late['late_partial_kept']:.3g}",
          help="0: partial kept the old params.")
c2.metric("max |lambda after − new params|", f"{late['late_lambda_moved']:.3g}",
          help="0: the lambda now uses the new params.")
c3.metric("max |lambda after − before|", f"{late['late_lambda_change']:.3g}",
          help="How far the lambda's predictions moved without anyone calling it differently.")
st.plotly_chart(late_binding_chart(late["late_before"], late["late_partial_after"],
                                   late["late_lambda_after"], late["late_new_params_reference"],
                                   f"Predictions for the first {m} points, before and after "
                                   "params changed"), key="w_anatomy_late_chart")
st.dataframe(late_table(late), hide_index=True, key="w_anatomy_late_table", width="stretch")
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
st.dataframe(matmul_table(matmul_stages(data.X)), hide_index=True, key="w_anatomy_matmul_table",
             width="stretch")
st.code(matmul_source(), language="python")

# --- 1, timed last: the four forms in the slot kept for them above ------------------
with forms_slot:
    timing_key = (data.key, settings.seed, rows)
    held = st.session_state.get("_anatomy_forms")
    if held is None or held[0] != timing_key:
        # Each progress update is also where Streamlit stops this run if the user
        # changes a control meanwhile: the timing is abandoned, not waited for.
        bar = st.progress(0.0, text="Timing the four forms …")
        forms = predict_forms(data.X, seed=settings.seed, budget_s=0.5,
                              on_progress=lambda f, label: bar.progress(f, text=label))
        bar.empty()
        st.session_state["_anatomy_forms"] = (timing_key, forms)
    else:
        forms = held[1]

    c1, c2, c3 = st.columns(3)
    c1.metric("Largest |difference| between forms", f"{np.max(forms['predict_max_abs_diff']):.3g}",
              help=f"Each form against {REFERENCE_FORM}, over all rows.")
    c2.metric("Allowed (round-off of w·x + b)", f"{forms['predict_tolerance']:.2g}",
              help="About D·ε·max Σ|wⱼxⱼ|: the forms add the products in different orders.")
    c3.metric("Output shape", str(forms["predict_outputs"].shape[1:]))
    if np.all(forms["predict_agrees"]):
        st.success("Pass: all four forms give the same predictions (to round-off).",
                   icon=":material/check_circle:")
    else:
        st.error("Fail: the forms disagree by more than round-off.", icon=":material/error:")
    # A static table: its cells wrap, so all seven columns fit an 800 px window (a dataframe
    # of them is about 1,000 px wide and cuts off its last column).
    st.table(forms_table(forms), hide_index=True)
    st.plotly_chart(forms_chart(forms, rows), key="w_anatomy_forms_chart")
    st.caption(
        "\"First call\" includes JAX compiling each operation the first time it meets a shape. "
        f"Only the vmap forms can be compiled whole ({', '.join(JITTABLE_FORMS)}); the loop forms "
        "would unroll into one operation per row. Every form ran in turn, round by round (so "
        "load from other programs falls on all alike); timings are medians over the rounds, to 2 "
        "significant figures, with their interquartile range (IQR). "
        + format_load(float(forms["predict_other_cores"]))
    )
    st.button("Time again", key="w_anatomy_retime",
              on_click=lambda: st.session_state.pop("_anatomy_forms", None))
    with st.expander("The source of each form (the code that just ran)"):
        st.code(inspect.getsource(predict), language="python")
        for label, fn in BATCHED_PREDICTS.items():
            st.markdown(f"**{label}**")
            st.code(inspect.getsource(fn), language="python")
