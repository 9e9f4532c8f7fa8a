#!/usr/bin/env bash
# Installs the real MCP components the kagent-mcp tests and the mcp_roundtrip bench run against:
#   - npm  @modelcontextprotocol/server-everything (stdio, legacy SSE and streamable HTTP server)
#     into $KAGENT_TEST_COMPONENTS/node_modules
#   - PyPI mcp (the official Python SDK: a server and a client) into a virtualenv at
#     $KAGENT_TEST_COMPONENTS/mcp-venv
# $KAGENT_TEST_COMPONENTS defaults to <workspace root>/.test-components. Idempotent: does nothing
# when the pinned versions are already installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${KAGENT_TEST_COMPONENTS:-$ROOT/.test-components}"
EVERYTHING_VERSION="2026.8.31"
PY_MCP_VERSION="2.3.0"
VENV="$DEST/mcp-venv"

command -v npm >/dev/null || { echo "mcp.sh: npm is required (apt-get install -y npm)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "mcp.sh: python3 is required (apt-get install -y python3 python3-venv)" >&2; exit 1; }
mkdir -p "$DEST"

PKG_JSON="$DEST/node_modules/@modelcontextprotocol/server-everything/package.json"
installed_js="$(node -e "try{console.log(require('$PKG_JSON').version)}catch(e){}" 2>/dev/null || true)"
if [[ "$installed_js" == "$EVERYTHING_VERSION" ]]; then
    echo "mcp.sh: server-everything $EVERYTHING_VERSION already installed"
else
    echo "mcp.sh: installing @modelcontextprotocol/server-everything@$EVERYTHING_VERSION"
    (cd "$DEST" && npm install --no-audit --no-fund --silent --prefix "$DEST" \
        "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" >/dev/null)
fi

installed_py="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || true)"
if [[ "$installed_py" == "$PY_MCP_VERSION" ]]; then
    echo "mcp.sh: python mcp $PY_MCP_VERSION already installed in $VENV"
else
    echo "mcp.sh: installing python mcp==$PY_MCP_VERSION into $VENV"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mcp==$PY_MCP_VERSION"
fi

# Smoke checks: both components start.
[[ -f "$DEST/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ]] \
    || { echo "mcp.sh: server-everything dist/index.js missing" >&2; exit 1; }
"$VENV/bin/python" -c 'from mcp.server.mcpserver import MCPServer; from mcp import ClientSession' \
    || { echo "mcp.sh: python mcp import check failed" >&2; exit 1; }
echo "mcp.sh: ready (server-everything $EVERYTHING_VERSION, python mcp $PY_MCP_VERSION)"
