"""The "vmap, further" page model: the parts of `vmap` the notes never reach.

One module a topic (or two): `collectives` (axis_name, psum/pmean, axis_size),
`control` (cond and while_loop under vmap), `randomness` (one key against split
keys), `jacobians` (jacfwd/jacrev as vmap of jvp/vjp), `memory` (lax.map's
batch_size against memory and time), `forms` (jnp.vectorize, nested vmap,
broadcasting), `custom` (custom_vmap and pure_callback's vmap_method), `sharding`
(the mapped axis over devices). `timed` holds the shared timing helpers.
"""

from __future__ import annotations

from core.lessons.further.collectives import (  # noqa: F401
    AXIS,
    COLLECTIVE_ROWS,
    axis_size_seen,
    batched_rows,
    collective_jaxpr,
    copies_without_a_mapped_input,
)
from core.lessons.further.control import (  # noqa: F401
    cond_jaxpr,
    cond_timings,
    density_or_norm,
    newton_sqrt,
    newton_trips,
)
from core.lessons.further.custom import (  # noqa: F401
    VMAP_METHODS,
    callback_calls,
    custom_gram,
    custom_jaxpr,
    rbf_pair,
)
from core.lessons.further.forms import FORMS, form_jaxprs, form_results  # noqa: F401
from core.lessons.further.jacobians import (  # noqa: F401
    jacobian_by_jvp,
    jacobian_by_vjp,
    jacobian_flops,
    jacobian_timings,
    layer,
)
from core.lessons.further.memory import batch_sizes, knn_sqdist, memory_sweep  # noqa: F401
from core.lessons.further.randomness import noise_one_key, noise_split_keys, noisy_copy  # noqa: F401
from core.lessons.further.sharding import sharded_gram  # noqa: F401
from core.lessons.further.timed import time_compiled_together  # noqa: F401
