"""DataHub: settings, naming, MCPs, sinks (REST, file, Lite) and the incremental push."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.datahub.sync import (
        CONFIG_KEYS,
        DEFAULT_LITE_PATH,
        DEFAULT_TOKEN_ENV,
        FABRIC_TYPES,
        AspectKey,
        CasePolicy,
        DataHubConfig,
        DataHubSettings,
        PushReport,
        PushTarget,
        aspect_hash,
        aspect_key,
        build_mcps,
        load_datahub_config,
        platform_for,
        push,
        resolve_target,
    )

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_LITE_PATH",
    "DEFAULT_TOKEN_ENV",
    "FABRIC_TYPES",
    "AspectKey",
    "CasePolicy",
    "DataHubConfig",
    "DataHubSettings",
    "PushReport",
    "PushTarget",
    "aspect_hash",
    "aspect_key",
    "build_mcps",
    "load_datahub_config",
    "platform_for",
    "push",
    "resolve_target",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CONFIG_KEYS": "connectors.datahub.sync",
        "DEFAULT_LITE_PATH": "connectors.datahub.sync",
        "DEFAULT_TOKEN_ENV": "connectors.datahub.sync",
        "FABRIC_TYPES": "connectors.datahub.sync",
        "AspectKey": "connectors.datahub.sync",
        "CasePolicy": "connectors.datahub.sync",
        "DataHubConfig": "connectors.datahub.sync",
        "DataHubSettings": "connectors.datahub.sync",
        "PushReport": "connectors.datahub.sync",
        "PushTarget": "connectors.datahub.sync",
        "aspect_hash": "connectors.datahub.sync",
        "aspect_key": "connectors.datahub.sync",
        "build_mcps": "connectors.datahub.sync",
        "load_datahub_config": "connectors.datahub.sync",
        "platform_for": "connectors.datahub.sync",
        "push": "connectors.datahub.sync",
        "resolve_target": "connectors.datahub.sync",
    },
)
