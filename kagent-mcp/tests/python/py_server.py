"""An MCP server built with the official Python SDK (PyPI `mcp` 2.x), for kagent-mcp tests.

Usage: python py_server.py PORT   (streamable HTTP on 127.0.0.1:PORT/mcp)
"""
import asyncio
import sys
from typing import TypedDict

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("kagent-test-py-server")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True))
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
def delete_pod(name: str) -> str:
    """Deletes a pod (pretend)."""
    return f"deleted {name}"


@server.tool()
def scale(name: str, replicas: int) -> str:
    """Scales a deployment (pretend); no annotations."""
    return f"{name} scaled to {replicas}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def fail(reason: str) -> str:
    """Always fails."""
    raise ToolError(f"cannot do it: {reason}")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def slow(seconds: float) -> str:
    """Sleeps, then answers."""
    await asyncio.sleep(seconds)
    return "done"


class Weather(TypedDict):
    city: str
    temperature_c: int


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def weather(city: str) -> Weather:
    """Structured output."""
    return {"city": city, "temperature_c": 21}


@server.prompt()
def greet(name: str) -> str:
    """A greeting prompt."""
    return f"Say hello to {name}."


@server.resource("kagent://notes/readme")
def readme() -> str:
    """A text resource."""
    return "kagent notes"


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
