"""Every `saksi` command; `main` builds the Typer app and registers the others."""
