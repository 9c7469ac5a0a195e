"""`python -m dvt` runs the same CLI as the `dvt` console script."""

from dvt.cli.main import cli

if __name__ == "__main__":
    cli()
