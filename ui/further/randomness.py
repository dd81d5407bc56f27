"""The "Random keys" tab of vmap, further: one key for every row against split
keys, one a row.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.randomness`).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.lessons.further import randomness
from core.views.further import random_tab
from ui.charts.further import noise_scatter, source
from ui.state.further import RANDOMNESS_URL as URL
from ui.state.url import bound

__all__ = ["render_randomness"]


def render_randomness(settings, data) -> None:
    """The Random keys tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**Random numbers under vmap.** A key is an input like any other: with "
        "`in_axes=None` every row gets the same key and so the **same** draws; split the key "
        "into N keys and map over them, and each row draws **independently**.")
    X = data.X
    c1, c2 = st.columns(2)
    seed = bound(c1.number_input, "Key seed", 0, 2**31 - 1, 0, key=URL.key_seed)
    scale = bound(c2.select_slider, "Noise scale", (0.01, 0.03, 0.1, 0.3, 1.0), 0.1,
                  key=URL.noise_scale)
    view = random_tab(X, settings.dtype, settings.gamma, key_seed=seed, noise_scale=scale)
    one, split = view["noise_one_key"], view["noise_split_keys"]
    # Noise read back as (x + noise) - x carries round-off of size eps·|x|: compare above it.
    tol = 8 * np.finfo(X.dtype).eps * (np.abs(X).max() + scale)
    same = lambda noise: int(np.sum(np.max(np.abs(noise - noise[0]), axis=1) <= tol))  # noqa: E731
    m1, m2, m3 = st.columns(3)
    m1.metric("one key: row 0's noise", f"{same(one):,} of {len(X):,}",
              help="Rows whose noise equals row 0's, to the round-off of (x + noise) − x.")
    m2.metric("split: row 0's noise", f"{same(split):,} of {len(X):,}",
              help="Row 0 itself is the 1: every other row drew its own noise.")
    m3.metric("std, split-key noise", f"{split.std():.3g}", help=f"The scale asked for: {scale}.")
    st.plotly_chart(noise_scatter(one, split, f"The noise added to each of {len(X):,} rows"),
                    key="w_further_noise_chart")
    source(randomness.noisy_copy, randomness.noise_one_key, randomness.noise_split_keys)
