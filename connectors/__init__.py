"""Model <-> outside systems: OpenLineage events and transports, DataHub.

Each connector is a subpackage that imports only the core of ``lineage`` (model, errors,
catalog); nothing is imported here.
"""

__all__: list[str] = []
