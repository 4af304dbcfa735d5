"""Connecting to IBM Quantum without ever showing the token.

Where the account comes from, in order:

1. ``QISKIT_IBM_TOKEN`` (with ``QISKIT_IBM_INSTANCE`` and ``QISKIT_IBM_URL`` when set);
2. the account saved by ``QiskitRuntimeService.save_account(...)`` in
   ``~/.qiskit/qiskit-ibm.json`` (the runtime's default file), chosen by channel: the default
   account of ``QISKIT_IBM_CHANNEL`` (default ``ibm_quantum_platform``), so a retired
   ``ibm_quantum`` default account left in the file is passed over;
3. a ``QiskitRuntimeService`` the caller already has (``IBMBackend(service=...)``).

Without any of them, :func:`connect` raises before anything touches the network. An instance
that looks like a CRN is checked here, before the runtime parses it (a malformed one makes
the runtime raise ``AttributeError``). Every token the account could hold -- the
environment's, every one saved in the account file, the given service's -- is kept in
:attr:`Connection.secrets` and replaced by ``***`` in every message; the token is never
stored elsewhere, logged or written (see :mod:`.errors`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qenc_bench import ConfigError

from .errors import IBMServiceError, network_cause, redact, service_error

TOKEN_ENV = "QISKIT_IBM_TOKEN"
INSTANCE_ENV = "QISKIT_IBM_INSTANCE"
CHANNEL_ENV = "QISKIT_IBM_CHANNEL"
URL_ENV = "QISKIT_IBM_URL"
CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
DEFAULT_CHANNEL = "ibm_quantum_platform"
CRN_FORMAT = "crn:v1:bluemix:public:quantum-computing:REGION:a/ACCOUNT:INSTANCE::"
SAVE_HINT = (
    "set QISKIT_IBM_TOKEN (and QISKIT_IBM_INSTANCE) in the environment, or save an account once "
    "with: python -c \"from qiskit_ibm_runtime import QiskitRuntimeService; "
    "QiskitRuntimeService.save_account(token='...', instance='...', set_as_default=True)\""
)
LIST_DEVICES = ("python -c \"from qiskit_ibm_runtime import QiskitRuntimeService; "
                "print([b.name for b in QiskitRuntimeService().backends()])\"")


@dataclass(frozen=True)
class Connection:
    """A service and where its account came from.

    :param source: ``"environment"``, ``"saved account"`` or ``"given service"`` (never the token).
    :param secrets: every token to keep out of messages; not shown by ``repr``.
    """

    service: Any = field(repr=False)
    source: str
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def redact(self, text: object) -> str:
        return redact(text, self.secrets)


def default_account_file() -> Path:
    """The runtime's default account file, resolved now (so ``HOME`` decides it)."""
    return Path(os.path.expanduser("~")) / ".qiskit" / "qiskit-ibm.json"


def check_instance(instance: str | None, where: str) -> None:
    """Refuse an instance that starts like a CRN but is not one (the runtime would fail on it
    with an ``AttributeError``). Instance names (no ``crn:``) are left to the service."""
    if not instance:
        return
    parts = instance.split(":")
    if instance.startswith("crn:"):
        if len(parts) == 10 and parts[1] and parts[4] == "quantum-computing" and parts[5] and parts[7]:
            return
    elif ":" not in instance and instance.strip() == instance:
        return
    raise IBMServiceError(
        "instance", f"the instance in {where} is not an IBM Cloud CRN ({CRN_FORMAT}) nor an instance name; "
                    f"copy the CRN from https://quantum.cloud.ibm.com/instances")


def _channel() -> str:
    channel = os.environ.get(CHANNEL_ENV) or DEFAULT_CHANNEL
    if channel not in CHANNELS:
        raise ConfigError(
            f"{CHANNEL_ENV}={channel!r} is not a channel qiskit-ibm-runtime accepts; use "
            f"{' or '.join(CHANNELS)} (the old 'ibm_quantum' channel was retired)"
        )
    return channel


def _saved_tokens(path: Path) -> tuple[str, ...]:
    """Every token in the account file, of any channel (for redaction only)."""
    try:
        accounts = json.loads(path.read_text())
    except (OSError, ValueError):
        return ()
    if not isinstance(accounts, dict):
        return ()
    return tuple(str(a["token"]) for a in accounts.values() if isinstance(a, dict) and a.get("token"))


def _saved_account(path: Path, channel: str, secrets: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
    """The account of ``channel`` the runtime would pick from ``path``: the one marked default,
    else the channel's default name, else any (a missing file holds none: the runtime would
    create an empty one, so its reader is not asked)."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    if not path.is_file():
        return None
    try:
        saved = QiskitRuntimeService.saved_accounts(filename=str(path), channel=channel)
    except ValueError as exc:  # json.JSONDecodeError too; its message may quote the file
        raise ConfigError(
            f"the saved IBM Quantum account file {path} cannot be read ({redact(exc, secrets)}); fix or "
            f"remove it, or {SAVE_HINT}"
        ) from None
    if not saved:
        return None
    default_name = f"default-{channel.replace('_', '-')}"
    name = next((n for n, a in saved.items() if a.get("is_default_account")), None)
    name = name or (default_name if default_name in saved else next(iter(saved)))
    return name, saved[name]


def connect(account_file: str | os.PathLike | None = None, *, needed_for: str = "an IBM Quantum device") -> Connection:
    """A ``QiskitRuntimeService`` from the environment or the saved account.

    :param needed_for: what the account is for, in the error when there is none.
    :raises ConfigError: no account (before any network access) or an unknown channel.
    :raises IBMServiceError: a malformed instance, or the service refused the account: one
        line naming the kind (``network``, ``token``, ``instance``), never the token.
    """
    import qiskit_ibm_runtime
    from qiskit_ibm_runtime.exceptions import IBMError

    channel = _channel()
    token = os.environ.get(TOKEN_ENV) or None
    instance = os.environ.get(INSTANCE_ENV) or None
    path = Path(account_file) if account_file is not None else default_account_file()
    if token is not None:
        secrets: tuple[str, ...] = (token, *_saved_tokens(path))  # the file is not used; its tokens stay hidden too
        check_instance(instance, INSTANCE_ENV)
        source, where = "environment", f"the {TOKEN_ENV} environment variable"
        arguments = {"channel": channel, "token": token, "instance": instance,
                     "url": os.environ.get(URL_ENV) or None}
    else:
        secrets = _saved_tokens(path)
        chosen = _saved_account(path, channel, secrets)
        if chosen is None:
            raise ConfigError(
                f"{needed_for} needs an IBM Quantum account and none was found ({TOKEN_ENV} is not set and "
                f"{path} holds no saved {channel} account): {SAVE_HINT}. Offline, use a fake device such as "
                f"--device FakeFez"
            )
        name, saved = chosen
        if instance:
            check_instance(instance, INSTANCE_ENV)
        else:
            check_instance(saved.get("instance"), str(path))
        source, where = "saved account", f"the saved account {name!r} in {path}"
        arguments = {"filename": str(path), "name": name, "instance": instance}
    try:
        service = qiskit_ibm_runtime.QiskitRuntimeService(**arguments)
    except (IBMError, ValueError, OSError) as exc:
        raise _login_error(exc, where, secrets) from None
    return Connection(service, source, secrets)


def _login_error(exc: BaseException, where: str, secrets: tuple[str, ...]) -> IBMServiceError:
    if network_cause(exc) is not None:
        return service_error("network", f"could not reach IBM Quantum to log in with the account from {where}", exc,
                             secrets)
    text = str(exc)
    if "instance" in text.lower() and "Unable to retrieve instances" not in text:
        kind, hint = "instance", "check QISKIT_IBM_INSTANCE or the saved instance"
    elif "Invalid `url`" in text:
        kind, hint = "network", f"check {URL_ENV}"
    else:
        kind, hint = "token", "check the API key on https://quantum.cloud.ibm.com"
    return service_error(kind, f"IBM Quantum did not accept the account from {where}", exc, secrets, hint)


def given_service(service: Any) -> Connection:
    """A service the caller made; its token (``active_account()``) is redacted like any other."""
    account = service.active_account() if hasattr(service, "active_account") else None
    token = account.get("token") if isinstance(account, dict) else None
    return Connection(service, "given service", (str(token),) if token else ())


def device_from_service(connection: Connection, device: str) -> Any:
    """The service's backend named ``device``, or a one-line error of kind ``device``."""
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.exceptions import IBMError

    try:
        return connection.service.backend(device)
    except QiskitBackendNotFoundError:
        raise IBMServiceError(
            "device", f"{device!r} is not available to this account; list the available ones with: {LIST_DEVICES}"
        ) from None
    except (IBMError, OSError, ValueError) as exc:
        raise service_error("device", f"device {device!r} could not be loaded", exc, connection.secrets) from None


def instance_plan(connection: Connection) -> str | None:
    """The plan (``open``, ``premium``, ...) of the service's active instance, when the service
    says (it listed the instances at login; nothing is fetched here)."""
    from qiskit_ibm_runtime.exceptions import IBMError

    service = connection.service
    if not (hasattr(service, "active_instance") and hasattr(service, "instances")):
        return None  # qiskit-ibm-runtime before 0.41, or a stand-in service
    try:
        active, instances = service.active_instance(), service.instances()
    except (IBMError, OSError):  # advisory only: a refused session still says so when it is opened
        return None
    for instance in instances:
        if isinstance(instance, dict) and instance.get("crn") == active:
            return str(instance.get("plan") or "") or None
    return None
