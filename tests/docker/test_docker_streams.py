"""The Docker executor's stream plumbing, without the engine: framing, line splitting, HTTP
chunked bodies, and redaction that is exactly redact() per line however it is sped up."""

from __future__ import annotations

import io
import struct
import threading

import pytest

from hunter_console.executors import docker_stream
from hunter_console.executors.docker_stream import FrameDecoder, LineSplitter, stream_from_thread


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


def test_frames_split_anywhere_are_put_back_together_in_order():
    data = frame(1, b"out one\n") + frame(1, b"out two\n") + frame(2, b"err one\n") + frame(1, b"out three\n")
    for cut in range(1, len(data)):
        decoder = FrameDecoder()
        got = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        joined: dict[str, bytes] = {}
        for stream, payload in got:
            joined[stream] = joined.get(stream, b"") + payload
        assert joined == {"stdout": b"out one\nout two\nout three\n", "stderr": b"err one\n"}


def test_line_splitter_keeps_partial_lines_and_decodes_split_characters():
    splitter = LineSplitter("stdout")
    text = "héllo wörld\nsecond\r\nthird".encode()
    lines = []
    for i in range(len(text)):
        lines += splitter.feed(text[i:i + 1])
    lines += splitter.flush()
    assert [line.text for line in lines] == ["héllo wörld", "second", "third"]
    assert {line.stream for line in lines} == {"stdout"}


def test_chunked_bodies_are_dechunked():
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (b"hello ", b"world", b"!" * 300)) + b"0\r\n\r\n"

    class Http:
        chunked = True
        chunk_left = None

        def __init__(self):
            self.fp = io.BufferedReader(io.BytesIO(body), buffer_size=7)

    class Raw:
        _fp = Http()

    got = b"".join(docker_stream._body_chunks(Raw(), threading.Event()))
    assert got == b"hello world" + b"!" * 300


async def test_stream_from_thread_passes_items_errors_and_stops_early():
    def produce(emit, stop):
        for i in range(1000):
            emit(i)

    assert [i async for i in stream_from_thread(produce, in_flight=4)] == list(range(1000))

    def failing(emit, stop):
        emit(1)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        async for _ in stream_from_thread(failing):
            pass

    stopped = threading.Event()

    def endless(emit, stop):
        try:
            while True:
                emit(0)  # blocks while the consumer is behind; raises once it has left
        finally:
            stopped.set()

    stream = stream_from_thread(endless, in_flight=2)
    async for _ in stream:
        break
    await stream.aclose()
    assert stopped.wait(2)
