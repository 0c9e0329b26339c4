"""The action screen's output pane: ingest rate against the raw Docker SDK read rate of the same
container output (goal >= 0.8x), and the process's memory after a million lines (goal < 150 MB).

The SDK baseline reads N lines of 80 characters from a finished container (`logs(stream=True)`,
as bench_docker_logs.py does); the pane gets the same N lines in batches of 1,000, the way the
action screen flushes its buffer (`OutputLog.append` -> `Log.write_lines`), in a headless app at
80x24, until the last batch has been drawn. Then a million lines go through the pane and the
peak RSS is read. Needs dockerd. `.venv/bin/python tests/benchmarks/bench_log_pane.py [N]`.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "docker"), str(Path(__file__).resolve().parent)]

from bench_docker_logs import create, sdk_logs_after_exit  # noqa: E402
from docker_testlib import ensure_base_image  # noqa: E402

BATCH = 1000
LINE = "x" * 72 + " line "


async def pane_ingest(n: int) -> tuple[float, float]:
    """(lines/s, peak RSS in MB) for n lines through the output pane."""
    from textual.app import App

    from hunter_console.tui.widgets.output import OutputLog

    class Pane(App):
        def compose(self):
            yield OutputLog(max_lines=10_000, id="out")

    app = Pane()
    async with app.run_test(size=(80, 24)) as pilot:
        out = app.query_one(OutputLog)
        batch = [f"{LINE}{i:08d}" for i in range(BATCH)]
        start = time.perf_counter()
        for _ in range(n // BATCH):
            out.append(batch)
            await asyncio.sleep(0)  # the loop runs between batches, as with the flush timer
        await pilot.pause()
        took = time.perf_counter() - start
    return n / took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(n: int) -> None:
    import docker

    api = docker.from_env(timeout=300).api
    base = ensure_base_image(api)
    cid = create(api, base, n, f"hcbench{uuid.uuid4().hex[:8]}")
    try:
        api.start(cid)
        api.wait(cid)
        count, took = sdk_logs_after_exit(api, cid)
        assert count == n, count
    finally:
        api.remove_container(cid, force=True)
    sdk_rate = n / took
    pane_rate, _ = asyncio.run(pane_ingest(n))
    million_rate, rss = asyncio.run(pane_ingest(1_000_000))
    print(f"output pane vs the raw Docker SDK, {n:,} lines of 80 chars")
    print(f"  SDK logs(stream) after exit   {sdk_rate:10,.0f} lines/s")
    print(f"  output pane ingest            {pane_rate:10,.0f} lines/s   ratio {pane_rate / sdk_rate:.2f}x "
          f"(goal >= 0.8x: {'met' if pane_rate / sdk_rate >= 0.8 else 'NOT met'})")
    print(f"  1,000,000 lines: {million_rate:,.0f} lines/s, peak RSS {rss:.0f} MB "
          f"(goal < 150 MB: {'met' if rss < 150 else 'NOT met'})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
