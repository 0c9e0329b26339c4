"""The CLI's command groups, one module each; `hunter_console.cli` puts them together."""
