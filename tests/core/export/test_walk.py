"""The dependency walk: what it collects runs alone and computes what core computes."""

from __future__ import annotations

import numpy as np
import pytest

from core.export import ExportError, collect
from core.views.data import builtin_data
from core.views.gram import gram_view
from core.workbench.view import compute_view


def test_the_collected_gram_view_runs_alone_and_equals_cores():
    program = collect(gram_view, builtin_data)
    names = [n for piece in program.pieces for n in piece.names]
    assert len(names) == len(set(names))  # each definition once
    namespace: dict = {}
    exec(compile("from __future__ import annotations\n" + "\n".join(program.imports) + "\n\n"
                 + "\n\n".join(p.source for p in program.pieces), "<export>", "exec"), namespace)
    assert namespace["gram_view"] is not gram_view
    X, y = builtin_data("moons", 50, 0, 0.1, "float32")
    settings = dict(kernel="rbf", params={"gamma": 2.0}, distances="centered", exact_diagonal=True)
    got, want = namespace["gram_view"](X, y, **settings), gram_view(X, y, **settings)
    assert set(got) == set(want)
    for name in want:
        if np.asarray(want[name]).dtype.kind in "USO":  # texts: the spectrum's verdict
            np.testing.assert_array_equal(got[name], want[name])
        else:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-6, atol=1e-6)


def test_a_function_that_imports_the_apps_code_is_refused_by_name():
    with pytest.raises(ExportError, match="imports the app's own code"):
        collect(compute_view)  # imports core.workbench.diagnose inside its body


def test_an_upload_without_labels_keeps_its_rows_and_pools_all_of_them():
    X = np.random.default_rng(0).normal(size=(30, 3))
    view = gram_view(X, None, kernel="rbf", params={"gamma": 0.5}, distances="vmap",
                     exact_diagonal=False)
    np.testing.assert_array_equal(view["order"], np.arange(30))
    assert view["K"].shape == (30, 30) and "y" not in view


def test_a_module_global_that_a_function_declares_global_is_exported_with_it():
    from core.bench.timing import settle_allocator

    program = collect(settle_allocator)
    names = [n for piece in program.pieces for n in piece.names]
    assert "_settled" in names and names.index("_settled") < names.index("settle_allocator")
    namespace: dict = {}
    exec("\n".join(program.imports) + "\n\n" + "\n\n".join(p.source for p in program.pieces),
         namespace)
    namespace["settle_allocator"]()
    assert namespace["_settled"] is True


def test_a_registry_entry_added_at_import_is_not_a_second_definition():
    from core.dense.auto import choose_auto

    # core.dense.auto runs `METHODS["auto"] = ...`: METHODS stays core.dense.methods' own
    # (without "auto", the documented limit), not a second object of the same name.
    program = collect(choose_auto)
    owners = [p.module for p in program.pieces if "METHODS" in p.names]
    assert owners == ["core.dense.methods"]


def test_a_custom_vmap_rule_registered_by_a_decorator_comes_with_its_function():
    from core.lessons.further.custom import custom_gram

    program = collect(custom_gram)
    names = [n for piece in program.pieces for n in piece.names]
    assert names.index("rbf_pair_rule") == names.index("rbf_pair") + 1  # @rbf_pair.def_vmap
    namespace: dict = {}
    exec(compile("from __future__ import annotations\n" + "\n".join(program.imports) + "\n\n"
                 + "\n\n".join(p.source for p in program.pieces), "<export>", "exec"), namespace)
    X = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
    # Without the rule, vmap of rbf_pair raises "No batching rule defined".
    np.testing.assert_allclose(namespace["custom_gram"](X, 0.5), custom_gram(X, 0.5), rtol=1e-6)
