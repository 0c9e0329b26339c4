"""Screens: each owns its layout and routes its widgets' messages to the session."""
