"""File systems for bronze roots: the local disk, or S3 through pyarrow's S3FileSystem.

S3 settings come from ``storage_options`` first, then the standard AWS environment
variables (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3``, ``AWS_REGION`` /
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``); without credentials pyarrow's default AWS chain applies. Option
keys may be spelled the pyarrow, s3fs or object_store way (``access_key``, ``key``,
``aws_access_key_id`` ...). Secrets stay in this module's values, out of every repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connectors.files.paths import Location
from lineage.errors import ConfigError, ConnectorError, PermanentConnectorError

__all__ = ["S3Settings", "filesystem", "require"]

_KEYS: dict[str, tuple[str, ...]] = {
    "endpoint_url": ("endpoint_url", "endpoint_override", "endpoint", "aws_endpoint_url",
                     "s3.endpoint"),
    "region": ("region", "region_name", "aws_region", "s3.region"),
    "access_key": ("access_key", "key", "access_key_id", "aws_access_key_id",
                   "s3.access-key-id"),
    "secret_key": ("secret_key", "secret", "secret_access_key", "aws_secret_access_key",
                   "s3.secret-access-key"),
    "session_token": ("session_token", "token", "aws_session_token", "s3.session-token"),
}  # fmt: skip
_ENV: dict[str, tuple[str, ...]] = {
    "endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "access_key": ("AWS_ACCESS_KEY_ID",),
    "secret_key": ("AWS_SECRET_ACCESS_KEY",),
    "session_token": ("AWS_SESSION_TOKEN",),
}
_EXTRAS = {"pyarrow": "files", "s3": "s3", "pyiceberg": "iceberg", "deltalake": "delta"}


@dataclass(frozen=True)
class S3Settings:
    """Where S3 is and who we are there; credentials are kept out of ``repr``."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(
        cls, options: Mapping[str, str] | None, environ: Mapping[str, str] | None = None
    ) -> S3Settings:
        """Settings from ``options`` (any known spelling, case-insensitive), else ``environ``."""
        given = {k.lower(): v for k, v in (options or {}).items() if v not in (None, "")}
        env = os.environ if environ is None else environ
        found: dict[str, str | None] = {}
        for name, keys in _KEYS.items():
            value = next((given[k] for k in keys if k in given), None)
            if value is None:
                value = next((env[k] for k in _ENV[name] if env.get(k)), None)
            found[name] = value
        return cls(**found)

    def pyarrow_options(self) -> dict[str, Any]:
        """Keyword arguments of ``pyarrow.fs.S3FileSystem``."""
        out: dict[str, Any] = {}
        if self.endpoint_url:
            parsed = urlsplit(self.endpoint_url)
            if parsed.scheme and parsed.netloc:
                out["endpoint_override"] = parsed.netloc + parsed.path.rstrip("/")
                out["scheme"] = parsed.scheme
            else:
                out["endpoint_override"] = self.endpoint_url
        if self.region:
            out["region"] = self.region
        if self.access_key and self.secret_key:
            out["access_key"] = self.access_key
            out["secret_key"] = self.secret_key
            if self.session_token:
                out["session_token"] = self.session_token
        return out

    def delta_options(self) -> dict[str, str]:
        """``storage_options`` of deltalake (object_store's AWS keys)."""
        out: dict[str, str] = {}
        if self.endpoint_url:
            out["AWS_ENDPOINT_URL"] = self.endpoint_url
            if self.endpoint_url.startswith("http://"):
                out["AWS_ALLOW_HTTP"] = "true"
        if self.region:
            out["AWS_REGION"] = self.region
        if self.access_key and self.secret_key:
            out["AWS_ACCESS_KEY_ID"] = self.access_key
            out["AWS_SECRET_ACCESS_KEY"] = self.secret_key
            if self.session_token:
                out["AWS_SESSION_TOKEN"] = self.session_token
        return out

    def iceberg_properties(self) -> dict[str, str]:
        """FileIO properties of pyiceberg (``s3.endpoint``, ``s3.access-key-id`` ...)."""
        out: dict[str, str] = {}
        if self.endpoint_url:
            out["s3.endpoint"] = self.endpoint_url
        if self.region:
            out["s3.region"] = self.region
        if self.access_key and self.secret_key:
            out["s3.access-key-id"] = self.access_key
            out["s3.secret-access-key"] = self.secret_key
            if self.session_token:
                out["s3.session-token"] = self.session_token
        return out

    def secrets(self) -> tuple[str, ...]:
        """The values no message may carry (masked by ``connectors.files.errors``)."""
        return tuple(s for s in (self.secret_key, self.session_token, self.access_key) if s)


def require(module: str) -> Any:
    """Import ``module`` or raise a ConnectorError naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = _EXTRAS.get(top, "files")
        raise PermanentConnectorError(
            f"{top} is not installed: pip install 'silverline[{extra}]'", obj=module
        ) from exc


def filesystem(location: Location, settings: S3Settings) -> Any:
    """The pyarrow FileSystem that reads ``location``."""
    fs = require("pyarrow.fs")
    if location.scheme == "file":
        return fs.LocalFileSystem()
    try:
        return fs.S3FileSystem(**settings.pyarrow_options())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid S3 settings: {exc}", obj=location.uri) from exc
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError on bad settings
        raise ConnectorError(f"cannot open S3: {type(exc).__name__}", obj=location.uri) from exc
