"""The "Devices" tab of vmap, further: the mapped axis split over devices by
`shard_map` or `spmd_axis_name`.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.sharding`).
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import sharding
from core.views.further import devices_tab
from ui.charts.further import source
from ui.state.further import DEVICES_MAX_ROWS, DEVICES_URL as URL
from ui.state.url import bound

__all__ = ["render_sharding"]


def render_sharding(settings, data) -> None:
    """The Devices tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**The mapped axis over devices.** The rows vmap maps over can be split over "
        "devices: `jax.shard_map` gives each device its block of rows and vmap batches inside "
        "it; `vmap(..., spmd_axis_name=\"rows\")` keeps the batch axis split over the mesh "
        "axis in every intermediate.")
    st.page_link("app_pages/scale.py", label="The Scale page runs this on a million rows",
                 icon=":material/zoom_out_map:")
    how = bound(st.radio, "Way", ("shard_map", "spmd_axis_name"), horizontal=True,
                key=URL.way)
    count = jax.device_count()
    n = (min(data.X.shape[0], DEVICES_MAX_ROWS) // count) * count
    if n == 0:
        st.info(f"N = {data.X.shape[0]} points are fewer than the {count} devices, so some "
                f"device would get no row: raise N in the sidebar to at least {count}.",
                icon=":material/info:")
        return
    view = devices_tab(data.X, settings.dtype, settings.gamma, way=how, max_rows=DEVICES_MAX_ROWS)
    c1, c2, c3 = st.columns(3)
    c1.metric("devices", f"{int(view['devices'])}", help=", ".join(str(d) for d in jax.devices()))
    c2.metric("output sharding", str(view["spec"]))
    c3.metric("max |Δ| to one-device vmap", f"{np.max(np.abs(view['K'] - view['K_plain'])):.2g}")
    shards = [(device, " × ".join(f"{n:,}" for n in shape))
              for device, shape in zip(view["shard_devices"].tolist(), view["shard_shapes"].tolist())]
    st.dataframe(pd.DataFrame(shards, columns=["device", "rows × columns it holds"]),
                 hide_index=True, key="w_further_shards_table")
    if count == 1:
        st.caption("This machine has one device, so the single shard is the whole matrix. "
                   "Start the app with XLA_FLAGS=--xla_force_host_platform_device_count=4 to "
                   "split the CPU into 4 devices: each then holds N/4 rows.")
    source(sharding.gram_row, sharding.gram_shard_map if how == "shard_map"
           else sharding.gram_spmd, sharding.sharded_gram)
    with st.expander("The program (jaxpr): `@rows` marks an axis split over the mesh"):
        st.code(str(view["jaxpr"]), language=None)
