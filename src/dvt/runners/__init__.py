"""Runners DVT adds to dbt's: the federated model runner (pushdown uses dbt's own runners)."""
