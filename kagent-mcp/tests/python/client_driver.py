"""Drives an MCP server with the official Python client (PyPI `mcp` 2.x) and prints a JSON
report on stdout, for kagent-mcp tests of OUR server.

Usage:
  python client_driver.py http URL [BEARER_TOKEN]
  python client_driver.py stdio COMMAND [ARGS...]
"""
import asyncio
import json
import sys

import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def content_of(result):
    out = []
    for c in result.content:
        d = c.model_dump(mode="json", exclude_none=True, by_alias=True)
        out.append(d)
    return out


async def exercise(read, write):
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        tools = await session.list_tools()
        report = {
            "server_name": init.server_info.name if hasattr(init, "server_info") else init.serverInfo.name,
            "tools": [
                {
                    "name": t.name,
                    "annotations": t.annotations.model_dump(mode="json", exclude_none=True, by_alias=True)
                    if t.annotations
                    else None,
                    "required": (t.input_schema if hasattr(t, "input_schema") else t.inputSchema).get("required", []),
                }
                for t in tools.tools
            ],
        }
        calls = {}
        for name, args in [
            ("count_pods", {"namespace": "default"}),
            ("count_pods", {"namespace": 7}),
            ("delete_namespace", {"namespace": "prod"}),
            ("report", {}),
        ]:
            r = await session.call_tool(name, args)
            is_error = r.is_error if hasattr(r, "is_error") else r.isError
            structured = r.structured_content if hasattr(r, "structured_content") else r.structuredContent
            calls.setdefault(name, []).append(
                {"is_error": bool(is_error), "content": content_of(r), "structured": structured}
            )
        report["calls"] = calls
        return report


async def main():
    mode = sys.argv[1]
    if mode == "http":
        headers = {}
        if len(sys.argv) > 3:
            headers["Authorization"] = f"Bearer {sys.argv[3]}"
        async with httpx2.AsyncClient(headers=headers) as http:
            async with streamable_http_client(sys.argv[2], http_client=http) as streams:
                report = await exercise(streams[0], streams[1])
    else:
        params = StdioServerParameters(command=sys.argv[2], args=sys.argv[3:])
        async with stdio_client(params) as streams:
            report = await exercise(streams[0], streams[1])
    print(json.dumps(report))


asyncio.run(main())
