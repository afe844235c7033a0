"""A TCP proxy that delays every chunk it forwards: a database a network hop away, on loopback.

    python benchmarks/latency_proxy.py --listen 46001 --target 127.0.0.1:5432 --one-way-ms 0.5

Each chunk waits ``--one-way-ms`` before it is forwarded, in both directions, so a query's round
trip grows by about twice that (asyncio's timer resolution rounds small delays up; the load
benchmark measures and prints the round trip it got). Used by ``load.py --database-rtt-ms``.
"""

from __future__ import annotations

import argparse
import asyncio


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, delay: float) -> None:
    try:
        while data := await reader.read(65536):
            await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(*, listen: int, host: str, port: int, delay: float) -> None:
    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, target_writer, delay=delay), _pipe(target_reader, writer, delay=delay))

    server = await asyncio.start_server(connect, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--target", required=True, help="host:port")
    parser.add_argument("--one-way-ms", type=float, required=True)
    args = parser.parse_args()
    target_host, _, target_port = args.target.rpartition(":")
    asyncio.run(serve(listen=args.listen, host=target_host, port=int(target_port), delay=args.one_way_ms / 1000))
