"""Typer command-line interface: thin commands that parse, load config, call one function."""
