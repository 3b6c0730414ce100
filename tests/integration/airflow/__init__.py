"""Real Apache Airflow 3 with its OpenLineage provider, run from a venv of its own."""
