"""Times one `tools/call` round trip with the official Python client (PyPI `mcp` 2.x) over
streamable HTTP, for the mcp_roundtrip bench. Prints JSON: {"median_us", "p90_us", "n"}.

Usage: python bench_client.py URL TOOL ARGS_JSON ITERATIONS
"""
import asyncio
import json
import statistics
import sys
import time

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main():
    url, tool, args, n = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    async with streamable_http_client(url) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            for _ in range(max(10, n // 10)):
                await session.call_tool(tool, args)
            samples = []
            for _ in range(n):
                t0 = time.perf_counter_ns()
                await session.call_tool(tool, args)
                samples.append((time.perf_counter_ns() - t0) / 1000.0)
    samples.sort()
    print(json.dumps({
        "median_us": statistics.median(samples),
        "p90_us": samples[int(len(samples) * 0.9) - 1],
        "n": n,
    }))


asyncio.run(main())
