"""The "vmap, further" page's tabs, one module a topic (as `core.lessons.further`).

Each module draws one tab with its `render_<topic>(settings, data)`: a sentence of what
the topic is, its controls (bound to the URL by `ui.state.url.bound` under the names
`ui.state.further` declares for its tab, `further_*`),
the live result, the code that ran and a jaxpr where it teaches. `TOPICS` maps each tab's
label (the URL's `further_topic`) to its render function, in the page's order.
"""

from __future__ import annotations

from ui.further.collectives import render_collectives
from ui.further.control import render_control
from ui.further.custom import render_custom
from ui.further.forms import render_forms
from ui.further.jacobians import render_jacobians
from ui.further.memory import render_memory
from ui.further.randomness import render_randomness
from ui.further.sharding import render_sharding

__all__ = ["TOPICS"]

TOPICS = {
    "Collectives": render_collectives,
    "Control flow": render_control,
    "Random keys": render_randomness,
    "Jacobians": render_jacobians,
    "Memory": render_memory,
    "Vectorize": render_forms,
    "Custom batching": render_custom,
    "Devices": render_sharding,
}
