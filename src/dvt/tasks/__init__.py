"""DVT's tasks: dbt's tasks with each node run on its own target (one module per command)."""
