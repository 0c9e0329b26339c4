"""Widgets: they take attributes from their screen and post messages up."""
