"""The omniplay command line (Typer): one module per command group."""
