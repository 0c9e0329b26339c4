"""Container output read rate: the raw Docker SDK vs the DockerExecutor's paths (goal: >= 0.8x).

A container prints N lines of 80 characters (default 200,000; `bench_docker_logs.py N`). Compared,
medians of a few runs, ratios printed (this machine is noisy: compare ratios, not times):

  after exit   SDK logs(stream=True, follow=False)          vs  DockerExecutor.logs(follow=False)
  live         SDK attach(stream=True, logs=True) before    vs  the executor's attach path
               start (what PERFORMANCE.md recommends)           (read_container_output + thread ->
                                                                event loop, as deploy uses it)
  following    SDK logs(stream=True, follow=True) from      vs  DockerExecutor.logs(follow=True) from
               the start, to the last line                      the start, to the last line

The executor's numbers include what the SDK's do not: decoding, redaction and one LogLine per line
delivered on the event loop. Needs the Docker engine (`dockerd` running); makes its own images.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "docker")]

from docker_testlib import TEST_LABEL, compose_labels, ensure_base_image, host_mounts  # noqa: E402

from hunter_console.executors.docker import DockerExecutor  # noqa: E402
from hunter_console.executors.docker_stream import read_container_output, stream_from_thread  # noqa: E402

RUNS = 3


def producer_cmd(n: int) -> list[str]:
    code = (f"import sys\nw = sys.stdout.write\nfor i in range({n}):\n    w('%07d ' % i + 'x' * 72 + '\\n')\n"
            "sys.stdout.flush()\n")
    return [sys.executable, "-c", code]


def create(api, image: str, n: int, project: str) -> str:
    return api.create_container(
        image, command=producer_cmd(n), labels=compose_labels(project, "api"),
        host_config=api.create_host_config(network_mode="host", binds=host_mounts()), use_config_proxy=False,
    )["Id"]


def sdk_logs_after_exit(api, cid: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    count = sum(chunk.count(b"\n") for chunk in api.logs(cid, stream=True, follow=False))
    return count, time.perf_counter() - t0


def sdk_attach_live(api, cid: str) -> tuple[int, float]:
    stream = api.attach(cid, stream=True, logs=True)
    t0 = time.perf_counter()
    api.start(cid)
    count = sum(chunk.count(b"\n") for chunk in stream)
    return count, time.perf_counter() - t0


def sdk_follow_live(api, cid: str, n: int) -> tuple[int, float]:
    """Time to the n-th line (the follow stream itself ends seconds after the exit)."""
    t0 = time.perf_counter()
    api.start(cid)
    count = 0
    for chunk in api.logs(cid, stream=True, follow=True):
        count += chunk.count(b"\n")
        if count >= n:
            break
    return count, time.perf_counter() - t0


async def executor_logs(ex: DockerExecutor, follow: bool, start=None, n: int = 0) -> tuple[int, float]:
    t0 = time.perf_counter()
    if start is not None:
        await asyncio.to_thread(start)
    count = 0
    async for _ in ex.logs(follow=follow):
        count += 1
        if n and count >= n:
            break
    return count, time.perf_counter() - t0


async def executor_attach_live(api, cid: str) -> tuple[int, float]:
    opened: list = []

    def produce(emit, stop):
        read_container_output(api, cid, follow=True, tty=False, emit=emit, stop=stop, opened=opened.append)

    count = 0
    stream = stream_from_thread(produce)
    t0 = time.perf_counter()
    first = asyncio.ensure_future(stream.__anext__())
    while not opened:  # attached before start, as the executor's deploy does
        await asyncio.sleep(0.001)
    await asyncio.to_thread(api.start, cid)
    try:
        batch = await first
        while True:
            for _ in batch:
                count += 1
            batch = await stream.__anext__()
    except StopAsyncIteration:
        pass
    return count, time.perf_counter() - t0


def rate(result: tuple[int, float]) -> float:
    return result[0] / result[1]


async def main(n: int) -> None:
    import docker

    client = docker.from_env(timeout=300)
    api = client.api
    base = ensure_base_image(api)
    results: dict[str, list[float]] = {k: [] for k in ("sdk_after", "ex_after", "sdk_live", "ex_attach", "sdk_follow",
                                                                "ex_follow")}
    try:
        for _ in range(RUNS):
            project = f"hcbench{uuid.uuid4().hex[:8]}"
            ex = DockerExecutor(project, base_url="http://127.0.0.1:9")
            # after exit: the same container read both ways
            cid = create(api, base, n, project)
            sdk = sdk_attach_live(api, cid)
            api.wait(cid)
            assert sdk[0] == n, sdk
            results["sdk_live"].append(rate(sdk))
            after_sdk = sdk_logs_after_exit(api, cid)
            after_ex = await executor_logs(ex, follow=False)
            assert after_sdk[0] == n and after_ex[0] == n, (after_sdk, after_ex)
            results["sdk_after"].append(rate(after_sdk))
            results["ex_after"].append(rate(after_ex))
            api.remove_container(cid, force=True)
            # live, attached before start
            cid = create(api, base, n, project)
            live = await executor_attach_live(api, cid)
            assert live[0] == n, live
            results["ex_attach"].append(rate(live))
            api.remove_container(cid, force=True)
            # live, following the logs endpoint from the start (to the n-th line)
            cid = create(api, base, n, project)
            sdk_follow = sdk_follow_live(api, cid, n)
            assert sdk_follow[0] == n, sdk_follow
            results["sdk_follow"].append(rate(sdk_follow))
            api.remove_container(cid, force=True)
            cid = create(api, base, n, project)
            follow = await executor_logs(ex, follow=True, start=lambda: api.start(cid), n=n)
            assert follow[0] == n, follow
            results["ex_follow"].append(rate(follow))
            api.remove_container(cid, force=True)
            await ex.aclose()
    finally:
        for c in api.containers(all=True, filters={"label": f"{TEST_LABEL}=1"}):
            if c["Labels"].get("com.docker.compose.project", "").startswith("hcbench"):
                api.remove_container(c["Id"], force=True)
        client.close()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"docker logs read rate, {n:,} lines of 80 chars, median of {RUNS} runs (lines/s)")
    print(f"  after exit  SDK logs(stream, follow=False)     {med['sdk_after']:>10,.0f}")
    print(f"              DockerExecutor.logs(follow=False)  {med['ex_after']:>10,.0f}   "
          f"ratio {med['ex_after'] / med['sdk_after']:.2f}x")
    print(f"  live        SDK attach(stream, logs) pre-start {med['sdk_live']:>10,.0f}")
    print(f"              executor attach path, pre-start    {med['ex_attach']:>10,.0f}   "
          f"ratio {med['ex_attach'] / med['sdk_live']:.2f}x")
    print(f"  following   SDK logs(stream, follow=True)      {med['sdk_follow']:>10,.0f}")
    print(f"              DockerExecutor.logs(follow=True)   {med['ex_follow']:>10,.0f}   "
          f"ratio {med['ex_follow'] / med['sdk_follow']:.2f}x")
    worst = min(med["ex_after"] / med["sdk_after"], med["ex_attach"] / med["sdk_live"],
                med["ex_follow"] / med["sdk_follow"])
    print(f"goal >= 0.8x: {'met' if worst >= 0.8 else 'NOT met'} (worst {worst:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
