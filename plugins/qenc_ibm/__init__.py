"""The ``ibm`` backend plugin: IBM Quantum devices through qiskit-ibm-runtime, and their fake
(offline) counterparts through Aer with the device's noise model; and the ``ibm-jobs``
command, which shows a run's hardware jobs and collects the results of finished ones.

qiskit-ibm-runtime is an optional extra (``pip install "qenc-bench[ibm]"``), imported only
when the backend or the command is built, so listing plugins stays fast and works without it.
"""

from __future__ import annotations

from qenc_bench import BackendSpec, CommandSpec, hookimpl

from .capabilities import CAPABILITIES, require_runtime


def _build(**options):
    require_runtime("the ibm backend")
    from .backend import IBMBackend

    return IBMBackend(**options)


def _jobs_command():
    from .commands import ibm_jobs

    return ibm_jobs


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="ibm",
            factory=_build,
            description=(
                "IBM Quantum devices via Qiskit Runtime (--device ibm_fez; jobs journalled, cost estimated first), "
                "or fake devices offline (--device FakeFez) with their noise model; device noise always on, "
                "shot estimates, no gradients (train with --optimizer cobyla or on exact)"
            ),
            capabilities=CAPABILITIES,
            requires=("qiskit_ibm_runtime",),
        )
    )


@hookimpl
def qenc_bench_register_commands(register):
    register(CommandSpec(name="ibm-jobs", factory=_jobs_command,
                         description="Show a run's IBM Quantum jobs from its journal; --collect completes their records"))
