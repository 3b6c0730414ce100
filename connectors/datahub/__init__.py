"""DataHub: settings, naming, MCPs, sinks (REST, file, Lite) and the incremental push."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.datahub.naming import CasePolicy as CasePolicy
    from connectors.datahub.naming import platform_for as platform_for
    from connectors.datahub.settings import *  # noqa: F403
    from connectors.datahub.sync import *  # noqa: F403

_EXPORTS = {
    "DEFAULT_ACTOR": "connectors.datahub.settings",
    "DEFAULT_LITE_PATH": "connectors.datahub.settings",
    "DEFAULT_TOKEN_ENV": "connectors.datahub.settings",
    "FABRIC_TYPES": "connectors.datahub.settings",
    "AspectKey": "connectors.datahub.sync",
    "CasePolicy": "connectors.datahub.naming",
    "DataHubConfig": "connectors.datahub.settings",
    "DataHubSettings": "connectors.datahub.settings",
    "PushReport": "connectors.datahub.sync",
    "PushTarget": "connectors.datahub.settings",
    "aspect_hash": "connectors.datahub.sync",
    "aspect_key": "connectors.datahub.sync",
    "build_mcps": "connectors.datahub.sync",
    "platform_for": "connectors.datahub.naming",
    "actor_urn": "connectors.datahub.settings",
    "push": "connectors.datahub.sync",
    "resolve_target": "connectors.datahub.settings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
