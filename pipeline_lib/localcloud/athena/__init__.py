"""Local Athena: the Athena API over the Glue catalog, Athena SQL executed by DuckDB."""
