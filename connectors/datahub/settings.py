"""DataHub settings: the ``datahub:`` section of lineage.yml, and where a push goes.

No DataHub import here: the CLI reads settings at start-up, and the MCP builders and
sinks (``connectors.datahub.mcps``, ``connectors.datahub.sinks``) import these settings
without importing the push back::

    config = load_datahub_config({"server": "http://datahub-gms:8080"}, root=Path("."))
    target = resolve_target(config, Path("."))        # PushTarget.rest("http://...")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.datahub.naming import CasePolicy
from lineage.errors import ConfigError

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_LITE_PATH",
    "DEFAULT_TOKEN_ENV",
    "FABRIC_TYPES",
    "DataHubConfig",
    "DataHubSettings",
    "PushTarget",
    "load_datahub_config",
    "resolve_target",
]

#: Where DataHub Lite lives when no target is configured, relative to the project root.
DEFAULT_LITE_PATH = ".lineage/datahub-lite.db"
#: The variable the DataHub CLI itself reads the token from; used when set.
DEFAULT_TOKEN_ENV = "DATAHUB_GMS_TOKEN"
#: Keys of the ``datahub:`` section of lineage.yml.
CONFIG_KEYS = frozenset(
    {
        "server",
        "token_env",
        "file",
        "lite",
        "env",
        "platform_instance",
        "case",
        "platforms",
        "retries",
        "timeout",
    }
)
#: DataHub's environments (FabricType); a test keeps this equal to the SDK's.
FABRIC_TYPES = (
    "DEV", "TEST", "QA", "UAT", "EI", "PRE", "STG", "NON_PROD", "PROD", "CORP", "RVW",
    "PRD", "TST", "SIT", "SBX", "SANDBOX", "CERT",
)  # fmt: skip


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
    """

    env: str = "PROD"
    platform_instance: str | None = None
    case: CasePolicy = CasePolicy.LOWER
    platforms: Mapping[str, str] = field(default_factory=dict)
    max_runs: int = 1000
    retries: int = 3
    timeout: float = 30.0
    batch_size: int = 100

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
    """The ``datahub:`` section of lineage.yml, read and checked."""

    settings: DataHubSettings = field(default_factory=DataHubSettings)
    server: str | None = None
    token_env: str | None = None
    file: Path | None = None
    lite: Path | None = None


def load_datahub_config(
    section: Mapping[str, Any] | None, root: Path, source: Path | None = None
) -> DataHubConfig:
    """Read lineage.yml's ``datahub:`` section (``ProjectConfig.extra["datahub"]``).

    Paths are relative to ``root`` (the folder of lineage.yml).

    Raises:
        ConfigError: unknown keys, wrong types, or more than one of server/file/lite.
    """
    where = str(source) if source else None
    if section is None:
        return DataHubConfig()
    if not isinstance(section, Mapping):
        raise ConfigError("'datahub' must be a mapping", file=where)
    unknown = set(section) - CONFIG_KEYS
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(f'datahub.{k}' for k in sorted(unknown))}; "
            f"known: {', '.join(sorted(CONFIG_KEYS))}",
            file=where,
        )
    targets = [k for k in ("server", "file", "lite") if section.get(k)]
    if len(targets) > 1:
        raise ConfigError(
            f"set only one of datahub.server, datahub.file, datahub.lite (got {targets})",
            file=where,
        )

    def text(key: str) -> str | None:
        value = section.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"datahub.{key} must be text", file=where)
        return str(value)

    platforms = section.get("platforms") or {}
    if not isinstance(platforms, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in platforms.items()
    ):
        raise ConfigError("datahub.platforms must map namespaces to platform ids", file=where)
    options: dict[str, Any] = {"platforms": dict(platforms)}
    for key in ("env", "platform_instance", "case"):
        if text(key) is not None:
            options[key] = text(key)
    try:
        if section.get("retries") is not None:
            options["retries"] = int(section["retries"])
        if section.get("timeout") is not None:
            options["timeout"] = float(section["timeout"])
        settings = DataHubSettings(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"datahub.retries/timeout must be numbers: {exc}", file=where) from exc
    except ConfigError as exc:
        raise ConfigError(exc.message, file=where) from exc
    file_path, lite_path = text("file"), text("lite")
    return DataHubConfig(
        settings=settings,
        server=text("server"),
        token_env=text("token_env"),
        file=root / file_path if file_path else None,
        lite=root / lite_path if lite_path else None,
    )


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
