"""DataHub settings: how the catalog maps onto DataHub, and where a push goes.

lineage.yml's ``datahub:`` section is read once, by ``lineage.config`` (``DataHubSection``);
the composition root hands its values over as a ``DataHubConfig``. No DataHub import here:
the CLI reads settings at start-up, and the MCP builders and sinks import these settings
without importing the push back::

    config = DataHubConfig(server="http://datahub-gms:8080")
    target = resolve_target(config, Path("."))        # PushTarget.rest("http://...")
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from connectors.datahub.naming import CasePolicy
from lineage.errors import ConfigError

__all__ = [
    "DEFAULT_ACTOR",
    "DEFAULT_LITE_PATH",
    "DEFAULT_TOKEN_ENV",
    "FABRIC_TYPES",
    "DataHubConfig",
    "DataHubSettings",
    "PushTarget",
    "actor_urn",
    "resolve_target",
]

#: Where DataHub Lite lives when no target is configured, relative to the project root.
DEFAULT_LITE_PATH = ".lineage/datahub-lite.db"
#: The variable the DataHub CLI itself reads the token from; used when set.
DEFAULT_TOKEN_ENV = "DATAHUB_GMS_TOKEN"
#: Who the audit stamps of a push name when no actor is configured.
DEFAULT_ACTOR = "urn:li:corpuser:silverline"
#: DataHub's environments (FabricType); a test keeps this equal to the SDK's.
FABRIC_TYPES = (
    "DEV", "TEST", "QA", "UAT", "EI", "PRE", "STG", "NON_PROD", "PROD", "CORP", "RVW",
    "PRD", "TST", "SIT", "SBX", "SANDBOX", "CERT",
)  # fmt: skip

_USER_PREFIX = "urn:li:corpuser:"
# A user id: no whitespace, none of the characters DataHub reserves in URNs (``,()␟``).
_USER_ID = re.compile(r"[^\s,()\u241f]+")


def actor_urn(value: str, key: str = "actor") -> str:
    """The corpuser URN of ``value``: a URN as given, a bare user name made into one.

    Raises:
        ConfigError: ``value`` is empty, another kind of URN, or holds whitespace or a
            character DataHub reserves in URNs (the message names ``key``).
    """
    text = value.strip()
    ident = text[len(_USER_PREFIX) :] if text.startswith(_USER_PREFIX) else text
    if not _USER_ID.fullmatch(ident) or ident.startswith("urn:"):
        raise ConfigError(
            f"{key} must be a DataHub user: urn:li:corpuser:NAME or a bare user name "
            f"without spaces or any of , ( ), got {value!r}"
        )
    return _USER_PREFIX + ident


@dataclass(frozen=True)
class DataHubSettings:
    """How the catalog maps onto DataHub, and how the REST target behaves.

    Args:
        env: DataHub environment (``PROD``, ``DEV``, ... a FabricType), in every dataset URN.
        platform_instance: prefixes dataset names (``instance.db.schema.table``) when the
            same platform runs several instances; must match DataHub's own ingestion.
        case: ``lower`` (default: dataset names and columns of SQL platforms lower-cased,
            as DataHub's Snowflake/Postgres/Redshift sources emit them) or ``preserve``
            (BigQuery, or a source configured to keep case).
        platforms: namespace (or scheme) -> DataHub platform, overriding the built-in map.
        max_runs: the newest runs sent as DataHub process instances.
        retries: REST retries of a failed request (429, 500, 502, 503, 504, timeouts),
            with the SDK's exponential back-off.
        timeout: seconds per REST request.
        batch_size: MCPs per REST request (``ingestProposalBatch``).
        actor: the corpuser URN (or bare user name) every audit stamp names.
    """

    env: str = "PROD"
    platform_instance: str | None = None
    case: CasePolicy = CasePolicy.LOWER
    platforms: Mapping[str, str] = field(default_factory=dict)
    max_runs: int = 1000
    retries: int = 3
    timeout: float = 30.0
    batch_size: int = 100
    actor: str = DEFAULT_ACTOR

    def __post_init__(self) -> None:
        env = self.env.strip().upper()
        if env not in FABRIC_TYPES:
            raise ConfigError(
                f"unknown DataHub env {self.env!r}; expected one of {', '.join(FABRIC_TYPES)}"
            )
        object.__setattr__(self, "env", env)
        try:
            object.__setattr__(self, "case", CasePolicy(self.case))
        except ValueError as exc:
            raise ConfigError(
                f"unknown case policy {self.case!r}; expected lower or preserve"
            ) from exc
        if self.platform_instance is not None and not self.platform_instance.strip():
            object.__setattr__(self, "platform_instance", None)
        object.__setattr__(self, "actor", actor_urn(self.actor))
        if self.retries < 0 or self.timeout <= 0 or self.batch_size < 1 or self.max_runs < 0:
            raise ConfigError("retries, timeout, batch_size and max_runs must be positive")


@dataclass(frozen=True)
class PushTarget:
    """Where a push goes: ``rest`` (a GMS URL), ``file`` or ``lite`` (absolute paths)."""

    kind: str
    location: str
    token_env: str | None = None

    @classmethod
    def rest(cls, server: str, token_env: str | None = None) -> PushTarget:
        url = server.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"DataHub server must be an http(s) URL, got {server!r}")
        return cls("rest", url, token_env)

    @classmethod
    def file(cls, path: str | Path) -> PushTarget:
        return cls("file", str(Path(path).expanduser().resolve()))

    @classmethod
    def lite(cls, path: str | Path) -> PushTarget:
        return cls("lite", str(Path(path).expanduser().resolve()))

    @property
    def canonical(self) -> str:
        """The key of this target's push state: ``rest:URL``, ``file:PATH``, ``lite:PATH``."""
        return f"{self.kind}:{self.location}"

    def __str__(self) -> str:
        return self.canonical


@dataclass(frozen=True)
class DataHubConfig:
    """The push settings and target of lineage.yml's ``datahub:`` section, as the
    composition root hands them over (``Workspace.datahub_config``)."""

    settings: DataHubSettings = field(default_factory=DataHubSettings)
    server: str | None = None
    token_env: str | None = None
    file: Path | None = None
    lite: Path | None = None


def resolve_target(
    config: DataHubConfig,
    root: Path,
    *,
    server: str | None = None,
    token_env: str | None = None,
    file: str | Path | None = None,
    lite: str | Path | None = None,
) -> PushTarget:
    """The target of a push: the command line's, else lineage.yml's, else DataHub Lite at
    ``root/.lineage/datahub-lite.db``.

    Raises:
        ConfigError: more than one of server, file and lite given, or a bad server URL.
    """
    given = [name for name, value in (("server", server), ("file", file), ("lite", lite)) if value]
    if len(given) > 1:
        raise ConfigError(f"give only one of --server, --file, --lite (got {', '.join(given)})")
    token_env = token_env or config.token_env
    if server:
        return PushTarget.rest(server, token_env)
    if file:
        return PushTarget.file(file)
    if lite:
        return PushTarget.lite(lite)
    if config.server:
        return PushTarget.rest(config.server, token_env)
    if config.file:
        return PushTarget.file(config.file)
    return PushTarget.lite(config.lite or root / DEFAULT_LITE_PATH)
