"""Shared fixtures: ``backend`` runs a test once per array backend of this run."""

from __future__ import annotations

import os

import pytest
from backends import HALF_DTYPES, Backend, gpu_present, make_backend, requested_backends
from hypothesis import settings

settings.register_profile("default", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BACKENDS = requested_backends()


def _backend(name: str) -> Backend:
    if name == "cupy" and not gpu_present():
        pytest.skip("cupy needs a CUDA GPU")
    return make_backend(name)


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    """One array backend of this run."""
    return _backend(request.param)


@pytest.fixture(scope="session")
def half_backend(request: pytest.FixtureRequest) -> Backend:
    """A backend that has the test's ``half_dtype``; parametrized with it below."""
    return _backend(request.param)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Pair each backend of this run with each half-precision dtype it has."""
    if "half_dtype" in metafunc.fixturenames:
        cases = [(name, dtype) for name in BACKENDS for dtype in HALF_DTYPES.get(name, ())]
        metafunc.parametrize(
            ("half_backend", "half_dtype"),
            cases,
            ids=[f"{name}-{dtype}" for name, dtype in cases],
            indirect=["half_backend"],
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests marked for a backend that this run does not cover."""
    active = {name.removesuffix("-jit") for name in BACKENDS}
    selected, deselected = [], []
    for item in items:
        needs = {mark.args[0] for mark in item.iter_markers("backend")}
        (selected if needs <= active else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
