"""The workbench language on kernels a user would write: the notes' RBF pasted verbatim,
the other kernels the page suggests, and the rules a well-meaning user meets first.
The refusals of hostile sources are specified by the corpus (test_hostile.py)."""

from __future__ import annotations

import ast

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import core
from core.errors import UserCodeError
from core.workbench import (
    MAX_PARAMS,
    MAX_SOURCE_CHARS,
    RESERVED_PARAM_NAMES,
    CheckedSource,
    check_source,
    user_kernel,
)

NOTES_RBF = '''def sqeuclidean_distances(x: np.ndarray, y: np.ndarray) -> float:
    return np.sum( (x - y) ** 2)

def rbf_kernel(params, x: np.ndarray, y: np.ndarray) -> float:
    """The RBF Kernel"""
    # calculate the kernel
    return np.exp(- params['gamma'] * (sqeuclidean_distances(x, y)) )
'''
TOL = {"float32": 2e-5, "float64": 1e-12}


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(12, 3)).astype(jnp.zeros(0).dtype)


def gram(k, params, X):
    """The notes' nested vmap, jitted: what the runner does with a user kernel."""
    return jax.jit(jax.vmap(jax.vmap(k, (None, None, 0)), (None, 0, None)))(params, X, X)


def tol(X):
    return TOL[str(X.dtype)]


def test_the_notes_rbf_pasted_verbatim_equals_sklearn(X):
    sklearn_pairwise = pytest.importorskip("sklearn.metrics.pairwise")
    checked = check_source(NOTES_RBF)
    assert checked.kernel_name == "rbf_kernel"  # no `kernel`: the last def
    assert checked.function_names == ("sqeuclidean_distances", "rbf_kernel")
    assert checked.param_names == ("gamma",)
    K = gram(user_kernel(NOTES_RBF), {"gamma": 0.3}, X)
    np.testing.assert_allclose(K, sklearn_pairwise.rbf_kernel(X, gamma=0.3), atol=tol(X))


def test_the_notes_rbf_has_gradients_in_x_and_in_params(X):
    k = user_kernel(NOTES_RBF)
    params = {"gamma": jnp.asarray(0.3, X.dtype)}
    gx = jax.grad(k, argnums=1)(params, X[0], X[1])
    np.testing.assert_allclose(gx, jax.grad(core.rbf_kernel, argnums=1)(params, X[0], X[1]),
                               rtol=1e-5)
    gp = jax.grad(lambda p: k(p, X[0], X[1]))(params)["gamma"]
    d2 = np.sum((X[0] - X[1]) ** 2)
    np.testing.assert_allclose(gp, -d2 * np.exp(-0.3 * d2), rtol=1e-4)
    # per-parameter gradients batched over pairs: vmap of grad over params
    grads = jax.vmap(jax.grad(lambda p, x: k(p, x, X[0])), (None, 0))(params, X)
    assert grads["gamma"].shape == (len(X),)


def _reference(name):
    return {
        "laplacian": lambda g, x, y: np.exp(-g * np.sum(np.abs(x - y))),
        "rbf": lambda g, x, y: np.exp(-g * np.sum((x - y) ** 2)),
        "dist": lambda g, x, y: np.sqrt(np.sum((x - y) ** 2)),
        "cutoff": lambda g, x, y: float(np.sum((x - y) ** 2) < 4.0),
        "first": lambda g, x, y: x[0] * y[0],
        "ell": lambda g, x, y: np.exp(-np.sum((x - y) ** 2) / (2 * 0.7 ** 2)),
    }[name]


KERNELS_A_USER_WRITES = {
    "laplacian": ("laplacian", """
def kernel(params, x, y):
    return np.exp(-params['gamma'] * np.sum(np.abs(x - y)))
"""),
    "where_on_distance": ("cutoff", """
def kernel(params, x, y):
    d = np.sum((x - y) ** 2)
    return np.where(d < 4.0, 1.0, 0.0)
"""),
    "lax_cond": ("cutoff", """
def kernel(params, x, y):
    d = np.sqrt(np.sum((x - y) ** 2))
    return lax.cond(d < 2.0, lambda: 1.0, lambda: 0.0)
"""),
    "lax_cond_with_functions": ("cutoff", """
def near(d):
    return 1.0 + 0.0 * d

def far(d):
    return 0.0 * d

def kernel(params, x, y):
    d = np.sum((x - y) ** 2)
    return lax.cond(d < 4.0, near, far, d)
"""),
    "indexing": ("first", """
def kernel(params, x, y):
    return x[0] * y[0]
"""),
    "linalg_norm": ("dist", """
def kernel(params, x, y):
    return jnp.linalg.norm(x - y)
"""),
    "sqrt_sum": ("dist", """
def kernel(params, x, y):
    return np.sqrt(np.sum((x-y)**2))
"""),
    "helper": ("rbf", """
def sq(x, y):
    d = x - y
    return np.dot(d, d)

def kernel(params, x, y):
    g = params['gamma']
    return np.exp(-g * sq(x, y))
"""),
    "for_range": ("rbf", """
def kernel(params, x, y):
    acc = 0.0
    for i in range(3):
        acc += (x[i] - y[i]) ** 2
    return np.exp(-params['gamma'] * acc)
"""),
    "fori_loop": ("rbf", """
def kernel(params, x, y):
    d2 = lax.fori_loop(0, 3, lambda i, acc: acc + (x[i] - y[i]) ** 2, 0.0)
    return np.exp(-params['gamma'] * d2)
"""),
    "other_param": ("ell", """
def kernel(params, x, y):
    r2 = np.sum((x - y) ** 2, axis=0, keepdims=False)
    return np.exp(-r2 / (2 * params['ell'] ** 2))
"""),
    "tuple_unpacking_and_if_on_python_values": ("rbf", """
def kernel(params, x, y):
    d, g = x - y, params['gamma']
    if x.ndim == 1 and x.shape[0] > 1:
        s = d @ d
    else:
        s = d[0] * d[0]
    return np.exp(-g * s) if True else 0.0
"""),
}


@pytest.mark.parametrize("case", sorted(KERNELS_A_USER_WRITES))
def test_a_kernel_a_user_writes_matches_numpy(case, X):
    reference, source = KERNELS_A_USER_WRITES[case]
    k = user_kernel(source)
    params = {"gamma": 0.3, "ell": 0.7}
    K = np.asarray(gram(k, params, X))
    f = _reference(reference)
    expected = np.array([[f(0.3, a, b) for b in X] for a in X])
    np.testing.assert_allclose(K, expected, atol=1e-5 if X.dtype == np.float32 else 1e-12)


def test_a_kernel_with_a_parameter_reports_it_and_differentiates_in_it(X):
    source = KERNELS_A_USER_WRITES["other_param"][1]
    assert check_source(source).param_names == ("ell",)
    k = user_kernel(source)
    g = jax.grad(lambda p: k(p, X[0], X[1]))({"gamma": 1.0, "ell": 0.7})
    assert np.isfinite(g["ell"]) and g["ell"] != 0


def test_param_names_come_in_first_use_order_with_gamma():
    checked = check_source("def kernel(params, x, y):\n"
                           "    return params['b'] * params['gamma'] + params['a'] + params['b']\n")
    assert checked.param_names == ("b", "gamma", "a")


def test_checked_source_keeps_the_text_and_a_tree_without_annotations():
    checked = check_source(NOTES_RBF)
    assert isinstance(checked, CheckedSource) and checked.source == NOTES_RBF
    assert isinstance(checked.tree, ast.Module)
    assert all(a.annotation is None for a in ast.walk(checked.tree) if isinstance(a, ast.arg))


def test_windows_and_old_mac_line_endings_work(X):
    for newline in ("\r\n", "\r"):
        k = user_kernel(NOTES_RBF.replace("\n", newline))
        np.testing.assert_allclose(gram(k, {"gamma": 0.3}, X)[0, 0], 1.0, atol=1e-6)


def test_a_python_if_on_a_traced_value_says_tracer_bool_and_suggests_where(X):
    k = user_kernel("def kernel(params, x, y):\n    d = np.sum((x - y) ** 2)\n"
                    "    if d < 1.0:\n        return 1.0\n    return 0.0\n")
    with pytest.raises(UserCodeError) as e:
        jax.jit(k)({"gamma": 1.0}, X[0], X[1])
    assert str(e.value).startswith("Line 3: TracerBoolConversionError")
    assert "np.where(cond, a, b)" in str(e.value) and e.value.line == 3


def test_calling_with_wrong_shapes_is_a_user_code_error_naming_the_line():
    k = user_kernel("def kernel(params, x, y):\n    z = x @ y\n    return np.sum(z)\n")
    with pytest.raises(UserCodeError, match=r"^Line 2: TypeError"):
        k({"gamma": 1.0}, jnp.ones(3), jnp.ones(4))


def test_a_missing_parameter_at_call_time_is_named():
    k = user_kernel("def kernel(params, x, y):\n    return params['ell'] * np.sum(x * y)\n")
    with pytest.raises(UserCodeError, match="params has no 'ell'"):
        k({"gamma": 1.0}, jnp.ones(3), jnp.ones(3))


def test_the_kernel_is_called_kernel_when_there_is_one():
    checked = check_source("def kernel(params, x, y):\n    return helper(x, y)\n\n"
                           "def helper(x, y):\n    return np.vdot(x, y)\n")
    assert checked.kernel_name == "kernel"
    k = user_kernel(checked.source)
    assert float(k({"gamma": 1.0}, jnp.ones(3), jnp.ones(3))) == 3.0


def test_concurrent_calls_share_no_counters():
    # Each call counts its own steps: many calls in a row never accumulate to the bound.
    # Each call takes over half the step budget (in Python ints, so it is quick).
    k = user_kernel("def kernel(params, x, y):\n    a = 0\n    for i in range(64):\n"
                    "        for j in range(16):\n            a = a + 1\n"
                    "    return np.sum(x * y) * a\n")
    for _ in range(3):
        assert float(k({"gamma": 1.0}, jnp.ones(3), jnp.ones(3))) == 3 * 1024


def test_reserved_names_cover_the_sidebar_and_the_kernel_parameters():
    from ui.state.sidebar import URL

    assert set(URL.values()) - {"gamma"} <= RESERVED_PARAM_NAMES
    assert "gamma" not in RESERVED_PARAM_NAMES
    assert MAX_PARAMS == 4 and MAX_SOURCE_CHARS == 4000


def test_the_app_shared_gamma_does_not_count_towards_the_parameter_limit():
    body = " + ".join(f"params['p{i}']" for i in range(MAX_PARAMS))
    assert len(check_source(f"def kernel(params, x, y):\n    return params['gamma'] + {body}\n"
                            ).param_names) == MAX_PARAMS + 1


def test_messages_name_the_line_and_what_to_write_instead():
    with pytest.raises(UserCodeError) as e:
        check_source("def kernel(params, x, y):\n    import os\n    return 1.0\n")
    assert e.value.line == 2
    assert str(e.value) == ("Line 2: `import` is not allowed in the workbench: use `np.` "
                            "(jax.numpy) and `lax.` (jax.lax) directly, they are already there.")


def test_the_language_files_never_spell_the_python_runners():
    # The project's hook flags these words in core: the interpreter walks the tree instead.
    from pathlib import Path

    folder = Path(core.__file__).parent / "workbench"
    for name in ("language.py", "allowlist.py", "checks.py", "syntax.py", "refusals.py",
                 "interpreter.py", "values.py"):
        text = (folder / name).read_text()
        assert "exec(" not in text and "eval(" not in text, name
        assert len(text.splitlines()) <= 400, name


def test_newaxis_dtype_and_the_linalg_functions_are_there(X):
    source = """
def kernel(params, x, y):
    A = x[:, None] * x[None, :] + y[:, np.newaxis] * y[np.newaxis, :] + np.eye(3, dtype=np.float32)
    L = np.linalg.cholesky(A)
    sign, logdet = np.linalg.slogdet(A)
    w, v = jnp.linalg.eigh(A)
    z = np.linalg.solve(A, x) - np.linalg.inv(A) @ x
    return np.sum(np.diag(L) ** 2) * 0.0 + logdet - np.log(np.linalg.det(A)) + np.sum(z) + w[0] * 0.0
"""
    k = user_kernel(source)
    value = jax.jit(k)({"gamma": 1.0}, X[0], X[1])
    assert abs(float(value)) < 1e-3  # slogdet and log(det) agree; solve and inv agree


@pytest.mark.parametrize("name", ["np.linalg.svd", "jnp.linalg.pinv", "np.int32", "lax.scan",
                                  "np.fft", "lax.add"])
def test_a_dotted_name_resolves_only_through_the_allowlist(name):
    with pytest.raises(UserCodeError, match="is not allowed"):
        check_source(f"def kernel(params, x, y):\n    f = {name}(x)\n    return 1.0\n")


def test_gamma_may_be_batched_by_vmap_over_params(X):
    k = user_kernel(NOTES_RBF)
    gammas = jnp.asarray([0.1, 1.0, 10.0], X.dtype)
    values = jax.vmap(lambda g: k({"gamma": g}, X[0], X[1]))(gammas)
    d2 = np.sum((X[0] - X[1]) ** 2)
    np.testing.assert_allclose(values, np.exp(-np.asarray(gammas) * d2), rtol=1e-5)


def test_two_threads_trace_one_kernel_at_once(X):
    from concurrent.futures import ThreadPoolExecutor

    k = user_kernel(KERNELS_A_USER_WRITES["for_range"][1])
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda g: float(jax.jit(k)({"gamma": g}, X[0], X[1])),
                                [0.1, 0.2, 0.3, 0.4]))
    d2 = float(np.sum((X[0] - X[1]) ** 2))
    np.testing.assert_allclose(results, np.exp(-np.array([0.1, 0.2, 0.3, 0.4]) * d2), rtol=1e-5)


def test_python_integers_stay_bounded_however_they_are_computed():
    k = user_kernel("def kernel(params, x, y):\n    n = x.shape[0] + 7\n    m = 2 ** n ** 7\n"
                    "    return np.sum(x) * m\n")
    with pytest.raises(UserCodeError, match=r"^Line 3: .*2\*\*53"):
        k({"gamma": 1.0}, jnp.ones(3), jnp.ones(3))


def test_a_deep_caller_stack_gets_a_message_not_a_recursion_error(X):
    # The runner may call the kernel from deep inside its own frames: the interpreter
    # measures the stack it is given rather than raising Python's recursion limit.
    k = user_kernel(NOTES_RBF)

    def deep(n):
        return k({"gamma": 1.0}, X[0], X[1]) if n == 0 else deep(n - 1)

    assert np.isfinite(float(deep(500)))
    with pytest.raises(UserCodeError, match="nested too deeply"):
        deep(880)


def test_check_source_refuses_what_is_not_text():
    with pytest.raises(UserCodeError, match="must be text"):
        check_source(b"def kernel(params, x, y):\n    return 1.0\n")


def test_the_tree_check_refuses_non_ascii_names_even_past_the_token_guard():
    # Python's parser turns fullwidth ｅｘｐ into exp; the tokens refuse it first, and the
    # tree check refuses a non-ASCII name that reaches it by any other way.
    from core.workbench.checks import check_tree

    tree = ast.parse("def kernel(params, x, y):\n    return np.exp(x)\n")
    tree.body[0].body[0].value.func.attr = "\uff45xp"
    with pytest.raises(UserCodeError, match="non-ASCII"):
        check_tree(tree)
