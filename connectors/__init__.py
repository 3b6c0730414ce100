"""Model <-> outside systems: OpenLineage events and transports, DataHub.

Each connector is a subpackage that imports only the core of ``lineage`` (model, errors,
catalog) and translates its libraries' exceptions in one module of its own (``errors``),
with the rules every connector shares in ``connectors.classify`` (is a failure temporary
or permanent?). Nothing is imported here.
"""

__all__: list[str] = []
