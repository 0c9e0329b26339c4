"""Every action the console can run: what it does, whether it changes the target (and so needs
the environment's name typed on production), and its plan in the operator's words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Callable

from hunter_console.actions import release_steps
from hunter_console.actions.context import ActionContext


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[ActionContext], AsyncIterator]
    changes_target: bool
    summary: str
    always_confirm: bool = False  # the environment's name is typed on every environment, not only production

    def plan(self, ctx: ActionContext) -> list[str]:
        env = ctx.environment
        where = f"{env.name} ({env.executor} executor, {env.base_url})"
        steps = {
            "backup": [f"pg_dump (custom format) of {env.name}'s database into {ctx.backup_dir()}",
                       "read it back in full (pg_restore to /dev/null), sha256, atomic rename"],
            "migrate": ["alembic current", "alembic upgrade head", "alembic current", "check the G20 columns"],
            "deploy": [f"deploy {ctx.params.get('version') or ctx.settings.release}: start it, wait for "
                       "/healthz/ready, retire the old one (on failure the old one serves again)"],
            "verify": ["run the post-deployment probes and smoke tests, record each result"],
            "rollback": ["roll the app back to the version that served before the last deploy",
                         {"none": "leave the database as it is",
                          "downgrade": "alembic downgrade to the revision before this release's migrate "
                                       "(a downgrade can drop data)",
                          "restore": "restore this release's verified backup (in one transaction)"}.get(
                             str(ctx.params.get("db") or "none"), "?"),
                         "then check health (/healthz/* and /healthz/metrics)"],
            "restore": ["restore the verified backup of this release in one transaction "
                        "(refused if its checksum changed)"],
        }[self.name]
        return [f"on {where}:"] + [f"  {i}. {step}" for i, step in enumerate(steps, 1)]


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("backup", release_steps.backup, False, "back up the database (pg_dump, verified)"),
        Action("migrate", release_steps.migrate, True, "alembic upgrade head, then check the schema"),
        Action("deploy", release_steps.deploy, True, "deploy the release and wait until it is ready"),
        Action("verify", release_steps.verify, False, "post-deployment probes and smoke tests"),
        Action("rollback", release_steps.rollback, True, "roll the app back to the previous version", True),
        Action("restore", release_steps.restore, True, "restore this release's verified backup", True),
    )
}
