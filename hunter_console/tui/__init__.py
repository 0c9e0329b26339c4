"""The Textual front end: the only package in hunter_console that imports textual.

`make_app(session)` (in `hunter_console.tui.app`) is the one way in, for the CLI and the tests.
"""
