"""The hook specifications of qenc-bench (pluggy project name ``qenc_bench``).

Every extension point has the register-callback shape: the hook receives a ``register``
function and calls it once per component, with a spec object from :mod:`qenc_bench.specs`.
Hooks are called with keyword arguments only, so an implementation may accept fewer
arguments than its specification and keep working when a specification grows.

Example::

    from qenc_bench import hookimpl, EncoderSpec

    @hookimpl
    def qenc_bench_register_encoders(register):
        register(EncoderSpec(name="my-encoder", factory=MyEncoder, description="..."))
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from .specs import (
    AttackSpec,
    BackendSpec,
    ClassicalSpec,
    CommandSpec,
    DatasetSpec,
    EncoderSpec,
    MetricSpec,
    ModelSpec,
    ReporterSpec,
)

PROJECT_NAME = "qenc_bench"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def qenc_bench_register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Register datasets.

    :param register: call it once per dataset with a :class:`~qenc_bench.DatasetSpec`.
        Its ``factory(**options)`` returns a :class:`~qenc_bench.Dataset`, whose ``load``
        reads the publisher's files (or bundled data) and returns a
        :class:`~qenc_bench.RawDataset`.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_encoders(register: Callable[[EncoderSpec], None]) -> None:
    """Register data encoders (feature maps).

    :param register: call it once per encoder with an :class:`~qenc_bench.EncoderSpec`.
        Its ``factory(**options)`` returns an unfitted :class:`~qenc_bench.Encoder`.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_backends(register: Callable[[BackendSpec], None]) -> None:
    """Register execution backends (simulators, hardware).

    :param register: call it once per backend with a :class:`~qenc_bench.BackendSpec`
        that declares its :class:`~qenc_bench.Capabilities`. Its ``factory(**options)``
        returns a :class:`~qenc_bench.Backend`. Import the quantum SDK inside the factory.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_attacks(register: Callable[[AttackSpec], None]) -> None:
    """Register adversarial attacks on the encoded inputs.

    :param register: call it once per attack with an :class:`~qenc_bench.AttackSpec`.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register trainable models (ansatzes) that wrap an encoder's feature map.

    :param register: call it once per model with a :class:`~qenc_bench.ModelSpec`. Its
        ``factory(layers=L)`` returns a :class:`~qenc_bench.Model`, whose ``build(encoder)``
        gives the full :class:`~qenc_bench.Circuit` (output ``<Z>`` on its readout wire) and
        whose ``init_weights(circuit, rng)`` the initial weights.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_commands(register: Callable[[CommandSpec], None]) -> None:
    """Register ``qenc-bench`` subcommands (e.g. the ibm plugin's ``ibm-jobs``).

    :param register: call it once per command with a :class:`~qenc_bench.CommandSpec` whose
        ``factory()`` returns a :class:`click.Command`. A name that a built-in command has is
        an error naming the plugin.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_classical(register: Callable[[ClassicalSpec], None]) -> None:
    """Register classical reference models, shown as marked rows in every table.

    :param register: call it once per model with a :class:`~qenc_bench.ClassicalSpec`. Its
        ``factory(seed=S, **options)`` returns an unfitted classifier with ``fit(X, y)`` and
        ``predict(X)`` (any scikit-learn estimator). It sees the grid features (in [0, 1]) of
        the same training split as the quantum models, seed by seed.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_reporters(register: Callable[[ReporterSpec], None]) -> None:
    """Register reporters: notes, columns and plots that tables and reports show about models.

    :param register: call it once per reporter with a :class:`~qenc_bench.ReporterSpec`. Its
        ``factory()`` returns a :class:`~qenc_bench.Reporter`.
    :returns: nothing; every implementation is called.
    """


@hookspec
def qenc_bench_register_metrics(register: Callable[[MetricSpec], None]) -> None:
    """Register encoding metrics (expressibility, entangling capability, ...).

    :param register: call it once per metric with a :class:`~qenc_bench.MetricSpec`. Its
        ``factory(**options)`` returns an :class:`~qenc_bench.EncodingMetric`, whose
        ``compute(context)`` gets a :class:`~qenc_bench.MetricContext` per encoder and seed.
    :returns: nothing; every implementation is called.
    """
