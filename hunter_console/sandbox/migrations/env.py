"""Alembic environment for the sandbox's schema. Configured in code by `schema.alembic_config`.

The database URL comes from `config.attributes["database_url"]` (not the ini option, so a
percent-encoded password survives configparser), or from an open connection passed in
`config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.attributes["database_url"], literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.attributes["database_url"], poolclass=pool.NullPool,
                           connect_args=config.attributes.get("connect_args", {}))
    try:
        with engine.connect() as connection:
            context.configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
