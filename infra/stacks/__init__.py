"""Stacks of the workbench app."""
