"""The `frontdesk` command line (typer), one module per command group."""
