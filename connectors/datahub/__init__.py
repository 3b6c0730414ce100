"""DataHub: settings, naming, MCPs, sinks (REST, file, Lite) and the incremental push."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.datahub.sync import *  # noqa: F403

_EXPORTS = {
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
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
