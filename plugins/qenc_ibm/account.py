"""Connecting to IBM Quantum without ever showing the token.

Where the account comes from, in order:

1. ``QISKIT_IBM_TOKEN`` (with ``QISKIT_IBM_INSTANCE`` when set, and ``QISKIT_IBM_CHANNEL``,
   default ``ibm_quantum_platform``; qiskit-ibm-runtime 0.51 accepts ``ibm_quantum_platform``
   and ``ibm_cloud``);
2. the account saved by ``QiskitRuntimeService.save_account(...)`` in
   ``~/.qiskit/qiskit-ibm.json`` (the runtime's default file).

Without either, :func:`connect` raises before anything touches the network. The token is
never stored here, never logged and never put into a message: errors from the runtime are
reduced to their type and first line, with every known token replaced by ``***``, and are
raised ``from None`` so the original exception (which may quote the token) is not chained
into a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qenc_bench.errors import ConfigError

TOKEN_ENV = "QISKIT_IBM_TOKEN"
INSTANCE_ENV = "QISKIT_IBM_INSTANCE"
CHANNEL_ENV = "QISKIT_IBM_CHANNEL"
CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
DEFAULT_CHANNEL = "ibm_quantum_platform"
SAVE_HINT = (
    "set QISKIT_IBM_TOKEN (and QISKIT_IBM_INSTANCE) in the environment, or save an account once "
    "with: python -c \"from qiskit_ibm_runtime import QiskitRuntimeService; "
    "QiskitRuntimeService.save_account(token='...', instance='...', set_as_default=True)\""
)


def default_account_file() -> Path:
    """The runtime's default account file, resolved now (so ``HOME`` decides it)."""
    return Path(os.path.expanduser("~")) / ".qiskit" / "qiskit-ibm.json"


def redact(text: str, secrets: list[str]) -> str:
    """``text`` cut to its first line (at most 300 characters) with every secret replaced."""
    lines = str(text).strip().splitlines()
    line = lines[0] if lines else ""
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line[:300]


def _saved_accounts(account_file: Path, channel: str | None) -> dict[str, dict[str, Any]]:
    """The usable accounts saved in ``account_file`` (none when it does not exist: the runtime
    would create an empty file, so its reader is not asked about a missing one)."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    if not account_file.is_file():
        return {}
    try:
        return QiskitRuntimeService.saved_accounts(filename=str(account_file), channel=channel)
    except ValueError:  # json.JSONDecodeError too; its message may quote the file: not shown
        raise ConfigError(
            f"the saved IBM Quantum account file {account_file} cannot be read (not valid JSON or an "
            f"invalid account); fix or remove it, or {SAVE_HINT}"
        ) from None


def connect(device: str, account_file: str | os.PathLike | None = None) -> tuple[Any, str]:
    """A ``QiskitRuntimeService`` for ``device`` and a description of where the account came
    from (``"environment"`` or ``"saved account"``; never the token).

    :raises ConfigError: no account (before any network access), an unknown channel, or the
        service refused the account (the message names the error type, never the token).
    """
    import qiskit_ibm_runtime
    from qiskit_ibm_runtime.exceptions import IBMError

    channel = os.environ.get(CHANNEL_ENV) or None
    if channel is not None and channel not in CHANNELS:
        raise ConfigError(
            f"{CHANNEL_ENV}={channel!r} is not a channel qiskit-ibm-runtime accepts; use "
            f"{' or '.join(CHANNELS)} (the old 'ibm_quantum' channel was retired)"
        )
    token = os.environ.get(TOKEN_ENV) or None
    instance = os.environ.get(INSTANCE_ENV) or None
    secrets = [token] if token else []
    if token is not None:
        source = f"the {TOKEN_ENV} environment variable"
        arguments = {"channel": channel or DEFAULT_CHANNEL, "token": token, "instance": instance}
    else:
        path = Path(account_file) if account_file is not None else default_account_file()
        saved = _saved_accounts(path, channel)
        if not saved:
            raise ConfigError(
                f"--device {device} is an IBM Quantum device and no IBM Quantum account was found "
                f"({TOKEN_ENV} is not set and {path} holds no saved account): {SAVE_HINT}. "
                f"Offline, use a fake device such as --device FakeSherbrooke"
            )
        secrets += [str(account.get("token", "")) for account in saved.values()]
        source = f"the saved account in {path}"
        arguments = {"channel": channel, "filename": str(path), "instance": instance}
    try:
        service = qiskit_ibm_runtime.QiskitRuntimeService(**arguments)
    except (IBMError, ValueError, OSError) as exc:
        # OSError covers the requests library's connection errors
        raise ConfigError(
            f"IBM Quantum did not accept the account from {source}: {type(exc).__name__}: "
            f"{redact(str(exc), secrets)} (check the token, the instance and the network)"
        ) from None
    return service, "environment" if token is not None else "saved account"


def device_from_service(service: Any, device: str) -> Any:
    """The service's backend named ``device``, or a clear error (never quoting a token)."""
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.exceptions import IBMError

    try:
        return service.backend(device)
    except QiskitBackendNotFoundError:
        raise ConfigError(
            f"IBM Quantum device {device!r} is not available to this account; list the available ones "
            f"with: python -c \"from qiskit_ibm_runtime import QiskitRuntimeService; "
            f"print([b.name for b in QiskitRuntimeService().backends()])\""
        ) from None
    except (IBMError, OSError) as exc:
        raise ConfigError(
            f"IBM Quantum device {device!r} could not be loaded: {type(exc).__name__}: "
            f"{redact(str(exc), [os.environ.get(TOKEN_ENV, '')])}"
        ) from None
