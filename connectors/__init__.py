"""Model <-> outside systems: OpenLineage events and transports, DataHub.

Importing the ``lineage`` package first fixes the import order: ``lineage`` binds
``lineage.job`` / ``lineage.run`` from ``lineage.run``, which uses the OpenLineage
connector, so a process whose first import is a connector module must let ``lineage``
finish initialising before that module runs.
"""

import lineage as _lineage  # noqa: F401

__all__: list[str] = []
