"""Seeds at bulk-load speed.

dbt reads a seed's whole CSV into an agate table, infers column types from every value and
inserts the rows in batches of bound parameters. DVT reads the CSV with DuckDB's columnar reader
(`reader`), reproduces dbt's type inference with agate's own type tests on only the values a SQL
classification cannot decide (`inference`), and loads through the target's bulk path
(`loaders`). dbt's seed materialization still creates, truncates, grants and commits, so the table
is the one `dbt seed` makes.
"""
