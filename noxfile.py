"""The test matrix: one session per array backend, each in its own virtualenv.

Every session installs only what it needs, from the project's extras, so a
hidden import fails loudly. ``nox`` alone runs the full CPU matrix.
"""

from __future__ import annotations

import shutil

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests-numpy",
    "tests-torch",
    "tests-jax",
    "adapter-torch",
    "adapter-flax",
    "keras-jax",
    "keras-torch",
    "keras-tensorflow",
    "docs",
    "experiments",
    "bench-smoke",
]

TORCH = "torch==2.13.0"
"""The torch the matrix tests: a local CPU build here, where an unpinned torch is a CUDA one."""

CORE_TESTS = ["tests", "--ignore=tests/adapters", "--ignore=tests/experiments"]

EXPERIMENTS = "experiments/requirements.txt"
"""The pinned dependencies of the harness in experiments/.

It runs from the repository root, where the source folder ``wedgecore/`` shadows an
installed copy and has no ``adapters``: the project is installed editable there, so
that ``wedgecore.adapters`` still resolves to ``adapters/``.
"""


def _pytest(session: nox.Session, backends: str, *paths: str) -> None:
    """Run pytest on ``paths`` for exactly ``backends`` (a missing one fails, never skips)."""
    session.run("pytest", *paths, *session.posargs, env={"WEDGECORE_BACKENDS": backends})


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Mypy (strict) on the core."""
    session.install("mypy", ".")
    session.run("mypy")


@nox.session(name="tests-numpy")
def tests_numpy(session: nox.Session) -> None:
    """The core on NumPy and array-api-strict, with no framework installed."""
    session.install(".[test]")
    _pytest(session, "numpy,array_api_strict", *CORE_TESTS)


@nox.session(name="tests-torch")
def tests_torch(session: nox.Session) -> None:
    """The core on PyTorch tensors, eager and under torch.compile."""
    session.install(TORCH, ".[test,torch]")
    _pytest(session, "torch", *CORE_TESTS)


@nox.session(name="adapter-torch")
def adapter_torch(session: nox.Session) -> None:
    """The PyTorch layers, with onnxscript for the ONNX export test."""
    session.install(TORCH, ".[test,torch]", "onnx", "onnxscript")
    _pytest(session, "torch", "tests/adapters/test_torch.py")


@nox.session(name="tests-jax")
def tests_jax(session: nox.Session) -> None:
    """The core on JAX arrays, eager and inside jax.jit."""
    session.install(".[test,jax]")
    _pytest(session, "jax,jax-jit", *CORE_TESTS)


@nox.session(name="adapter-flax")
def adapter_flax(session: nox.Session) -> None:
    """The flax.nnx and flax.linen modules, with optax for the training test and the docs."""
    session.install(".[test,flax]", "optax")
    _pytest(session, "jax", "tests/adapters/test_flax.py")


def _keras(session: nox.Session, backend: str, requirement: str, core_backends: str) -> None:
    """The Keras layers with ``KERAS_BACKEND=backend`` and only that backend installed."""
    session.install(requirement, ".[test,keras]")
    session.env["KERAS_BACKEND"] = backend
    _pytest(session, core_backends, "tests/adapters/test_keras.py")


@nox.session(name="keras-jax")
def keras_jax(session: nox.Session) -> None:
    """The Keras layers on the jax backend."""
    _keras(session, "jax", "jax", "jax")


@nox.session(name="keras-torch")
def keras_torch(session: nox.Session) -> None:
    """The Keras layers on the torch backend."""
    _keras(session, "torch", TORCH, "torch")


@nox.session(name="keras-tensorflow")
def keras_tensorflow(session: nox.Session) -> None:
    """The Keras layers on the tensorflow backend (no core backend: NumPy references only)."""
    _keras(session, "tensorflow", "tensorflow-cpu", "numpy")


@nox.session(name="tests-cupy")
def tests_cupy(session: nox.Session) -> None:
    """The core on CuPy arrays; needs an NVIDIA GPU, so it is not in the default run."""
    if shutil.which("nvidia-smi") is None:
        session.skip("no NVIDIA GPU on this machine")
    session.install(".[test,cupy]")
    _pytest(session, "cupy", *CORE_TESTS)


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark suite at full size; writes docs/benchmarks.md (not in the default run)."""
    session.install(TORCH, "-e", ".[bench,jax,keras]", "tensorflow-cpu")
    session.run("python", "-m", "benchmarks.report", *session.posargs)


@nox.session(name="bench-smoke")
def bench_smoke(session: nox.Session) -> None:
    """Every benchmark suite on tiny sizes, so that the benchmark code cannot rot."""
    session.install(TORCH, "-e", ".[bench,jax,keras]")
    output = f"{session.create_tmp()}/benchmarks.md"
    session.run("python", "-m", "benchmarks.report", "--quick", "--output", output)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site: ``mkdocs build --strict`` into site/.

    The API pages are read, without importing, from the package installed here (mkdocs.yml
    says why), so no framework is needed. The figure script runs into a scratch folder, to
    check that it still works with the library; its committed output is made by hand.
    """
    session.install(".[docs]")
    figure = f"{session.create_tmp()}/feature-maps.png"
    session.run("python", "docs/scripts/plot_feature_maps.py", figure)
    session.run("mkdocs", "build", "--strict")


@nox.session
def experiments(session: nox.Session) -> None:
    """The evaluation harness's tests, with a smoke run of every task and arm on tiny models."""
    session.install("-r", EXPERIMENTS, "-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/experiments", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """README's demo: the quick experiment (digits, 3 seeds, 6 arms); not in the default run.

    Prints the results table and the path of the markdown report. Arguments after ``--``
    go to ``python -m experiments`` (``nox -s demo -- --mode full`` is the full run).
    """
    session.install("-r", EXPERIMENTS, "-e", ".")
    session.run("python", "-m", "experiments", *session.posargs)
