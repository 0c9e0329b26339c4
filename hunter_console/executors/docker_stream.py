"""Streams for the Docker executor: blocking reads in a thread, events out on the event loop.

    stream_from_thread(produce)    run `produce(emit, stop)` in a thread; iterate what it emits,
                                   asynchronously, with back-pressure (a bounded number in flight)
    LineSplitter                   bytes in, complete redacted LogLines out (partial lines kept)
    FrameDecoder                   Docker's multiplexed stdout/stderr framing (8-byte headers)
    read_container_output(...)     a container's output (attach or logs) as batches of LogLines,
                                   read with large reads instead of the SDK's per-frame parsing

No `import docker` here: this module is plain Python plus the requests session the SDK hands us.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

from hunter_console.events import LogLine, utcnow
from hunter_console.redact import redact_lines

READ_SIZE = 256 * 1024
BATCH_LINES = 4096  # lines handed to the event loop at once, at most
BATCH_AGE_S = 0.02  # ... and no later than this after the first of them arrived (or a pause)
STREAMS = {0: "stdout", 1: "stdout", 2: "stderr"}


class _Closed(Exception):
    """The consumer went away; the producer thread stops."""


class _End:
    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


Emit = Callable[[Any], None]


async def stream_from_thread(produce: Callable[[Emit, threading.Event], None], *, in_flight: int = 64,
                             on_close: Callable[[], None] | None = None, name: str = "docker-stream") -> AsyncIterator[Any]:
    """Iterate, on the event loop, what `produce(emit, stop)` emits from a worker thread.

    At most `in_flight` items wait in the queue (the producer blocks beyond that, so a slow reader
    slows the producer instead of growing memory). An exception in the producer is raised here.
    When the consumer stops early, `stop` is set and `on_close()` is called (close the socket the
    producer is blocked on) so the thread ends.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    slots = threading.Semaphore(in_flight)
    stop = threading.Event()

    def emit(item: Any) -> None:
        while not slots.acquire(timeout=0.25):
            if stop.is_set():
                raise _Closed
        if stop.is_set():
            raise _Closed
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            raise _Closed from None

    def worker() -> None:
        error: BaseException | None = None
        try:
            produce(emit, stop)
        except _Closed:
            return
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            error = e
        try:
            loop.call_soon_threadsafe(queue.put_nowait, _End(error))
        except RuntimeError:
            pass

    thread = threading.Thread(target=worker, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            slots.release()
            yield item
    finally:
        if thread.is_alive():
            stop.set()
            if on_close is not None:
                try:
                    on_close()
                except Exception:  # noqa: BLE001 - best effort: the thread is a daemon anyway
                    pass


class LineSplitter:
    """Bytes of one stream in, complete LogLines out; a partial last line waits for more.

    A whole chunk of complete lines is decoded and checked for secrets at once (`redact_lines`).
    """

    __slots__ = ("stream", "_rest")

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self._rest = b""

    def feed(self, data: bytes, ts: datetime | None = None) -> list[LogLine]:
        if self._rest:
            data = self._rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self._rest = data
            return []
        self._rest = data[cut + 1:]
        return self._lines(data[:cut + 1], ts)

    def flush(self, ts: datetime | None = None) -> list[LogLine]:
        """The partial last line, if any (at the end of the stream)."""
        rest, self._rest = self._rest, b""
        return self._lines(rest, ts) if rest else []

    def _lines(self, data: bytes, ts: datetime | None) -> list[LogLine]:
        text = data.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text.endswith("\n"):
            text = text[:-1]
        ts = ts or utcnow()
        stream = self.stream
        return [LogLine(line, stream, ts) for line in redact_lines(text)]


class FrameDecoder:
    """Docker's stdout/stderr multiplexing: [stream, 0, 0, 0, size (4 bytes, big endian)] + payload.

    `feed(chunk)` returns [(stream name, bytes)] with consecutive frames of one stream joined, in
    order; an incomplete frame waits for the next chunk.
    """

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        buf = self._buf + chunk if self._buf else chunk
        out: list[tuple[str, bytes]] = []
        run: list[bytes] = []
        run_stream = -1
        pos = 0
        end = len(buf)
        from_bytes = int.from_bytes
        while end - pos >= 8:
            stream = buf[pos]
            size = from_bytes(buf[pos + 4:pos + 8], "big")
            if end - pos - 8 < size:
                break
            if stream != run_stream:
                if run:
                    out.append((STREAMS.get(run_stream, "stdout"), b"".join(run)))
                run = []
                run_stream = stream
            run.append(buf[pos + 8:pos + 8 + size])
            pos += 8 + size
        if run:
            out.append((STREAMS.get(run_stream, "stdout"), b"".join(run)))
        self._buf = buf[pos:]
        return out


def read_container_output(api: Any, container_id: str, *, follow: bool, tty: bool, emit: Emit,
                          stop: threading.Event, opened: Callable[[Any], None] | None = None,
                          source: str | None = None, attach: bool = True) -> None:
    """Read a container's output and emit lists of LogLines (one list per read).

    attach=True uses POST /containers/{id}/attach?logs=1 (stream=follow): the history, then live
    output, ending as soon as the container exits. attach=False uses GET /containers/{id}/logs.
    Reads go through the SDK's own requests session (its transport, its TLS) in large chunks.
    `opened(response)` is called once the response is open (so the caller can close it to stop us).
    `source` names the stream in the LogLines instead of stdout/stderr.
    """
    params = {"stdout": 1, "stderr": 1, "logs": 1, "stream": 1 if follow else 0} if attach else \
        {"stdout": 1, "stderr": 1, "follow": 1 if follow else 0, "timestamps": 0}
    url = f"{api.base_url}/v{api.api_version}/containers/{container_id}/{'attach' if attach else 'logs'}"
    response = (api.post if attach else api.get)(url, params=params, stream=True, timeout=(30, None))
    try:
        if response.status_code >= 400:
            import docker.errors

            raise docker.errors.APIError(f"{response.status_code} {response.reason}: {response.text.strip()}",
                                         response=response)
        if opened is not None:
            opened(response)
        raw = response.raw
        splitters: dict[str, LineSplitter] = {}

        def splitter(stream: str) -> LineSplitter:
            found = splitters.get(stream)
            if found is None:
                found = splitters[stream] = LineSplitter(source or stream)
            return found

        decoder = None if tty else FrameDecoder()
        pending: list[LogLine] = []
        since = 0.0
        for chunk in _body_chunks(raw, stop):
            if stop.is_set():
                return
            if chunk:
                ts = utcnow()
                if not pending:
                    since = time.monotonic()
                if decoder is None:
                    pending += splitter("stdout").feed(chunk, ts)
                else:
                    for stream, data in decoder.feed(chunk):
                        pending += splitter(stream).feed(data, ts)
            # hand over when the output pauses (b""), or the batch is big or old enough
            if pending and (not chunk or len(pending) >= BATCH_LINES or time.monotonic() - since >= BATCH_AGE_S):
                emit(pending)
                pending = []
        ts = utcnow()
        pending += [line for s in splitters.values() for line in s.flush(ts)]
        if pending:
            emit(pending)
    finally:
        response.close()


def _body_chunks(raw: Any, stop: threading.Event) -> Iterator[bytes]:
    """The response body in chunks of whatever has arrived (up to READ_SIZE), as fast as Python
    can: straight from the connection's buffered reader, de-chunking HTTP/1.1 chunked transfer
    ourselves (http.client returns one HTTP chunk a call, and the logs endpoint sends one per log
    line). Falls back to urllib3's read1 when the connection is not laid out as expected."""
    http = getattr(raw, "_fp", None)  # urllib3 HTTPResponse -> http.client.HTTPResponse -> fp
    fp = getattr(http, "fp", None)
    chunked = getattr(http, "chunked", False)
    if fp is None or not hasattr(fp, "read1") or (chunked and getattr(http, "chunk_left", None) is not None):
        while chunk := _read(raw.read1, stop):  # http.client has started on the body: let it go on
            yield chunk
            yield b""  # we cannot tell whether more is waiting: hand over now
        return
    idle = _idle_signal(fp)
    if not chunked:
        while True:
            yield from idle()
            if not (chunk := _read(fp.read1, stop)):
                return
            yield chunk
    buf = b""
    while True:
        yield from idle()
        if not (data := _read(fp.read1, stop)):
            return
        buf = buf + data if buf else data
        out: list[bytes] = []
        pos = 0
        end = len(buf)
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            size = int(buf[pos:eol].split(b";", 1)[0], 16)
            if size == 0:  # the last chunk (trailers, if any, are not ours)
                if out:
                    yield b"".join(out)
                return
            start = eol + 2
            if start + size + 2 > end:
                break
            out.append(buf[start:start + size])
            pos = start + size + 2
        buf = buf[pos:]
        if out:
            yield b"".join(out)


def _idle_signal(fp: Any) -> Callable[[], Iterator[bytes]]:
    """`yield from idle()` before a blocking read: yields b"" once when nothing arrives within
    BATCH_AGE_S (so the caller hands over what it holds instead of sitting on it while the
    container is quiet). Our reads take all the reader has buffered, so polling the socket is
    enough to know whether a read would block."""
    try:
        fd = fp.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLHUP)
    except (OSError, ValueError, AttributeError):
        return lambda: iter((b"",))  # cannot tell: hand over after every read
    timeout_ms = int(BATCH_AGE_S * 1000)

    def idle() -> Iterator[bytes]:
        if not poller.poll(timeout_ms):
            yield b""

    return idle


def _read(read: Callable[[int], bytes], stop: threading.Event) -> bytes:
    try:
        return read(READ_SIZE)
    except (OSError, ValueError, AttributeError):
        if stop.is_set():  # closed under us: the consumer left
            return b""
        raise


def shutdown_response(response: Any) -> None:
    """Unblock a thread reading `response`: shut its socket down (a plain close does not wake a
    blocked recv on Linux), then close it."""
    for path in (("raw", "_fp", "fp", "raw", "_sock"), ("raw", "_connection", "sock")):
        obj = response
        for attr in path:
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if isinstance(obj, socket.socket):
            try:
                obj.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            break
    response.close()
