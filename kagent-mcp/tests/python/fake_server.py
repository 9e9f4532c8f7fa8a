"""A deliberately misbehaving stdio MCP server (raw JSON lines, no SDK) for fault tests.

Usage: python fake_server.py MODE
  paginate  tools/list answers in three pages (cursors "p2", "p3")
  garbage   answers tools/call with a line that is not JSON-RPC
  silent    never answers tools/call
  crash     exits (status 3) when tools/call arrives
  badinit   answers initialize with garbage
  changing  after the first tools/call, announces notifications/tools/list_changed and lists
            one more tool ("extra")
  meta      answers tools/call with the request's `_meta` as JSON text
"""
import json
import sys

MODE = sys.argv[1]


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def tool(name):
    return {"name": name, "description": f"tool {name}", "inputSchema": {"type": "object"}}


changed = False

PAGES = {None: (["a1", "a2"], "p2"), "p2": (["b1"], "p3"), "p3": (["c1", "c2"], None)}

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    msg = json.loads(line)
    method, mid = msg.get("method"), msg.get("id")
    if mid is None:
        continue
    if method == "initialize":
        if MODE == "badinit":
            sys.stdout.write("this is not json-rpc\n")
            sys.stdout.flush()
            continue
        send({"jsonrpc": "2.0", "id": mid, "result": {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "0"},
        }})
    elif method == "tools/list":
        cursor = (msg.get("params") or {}).get("cursor")
        if MODE == "paginate":
            names, nxt = PAGES[cursor]
        else:
            names, nxt = (["work", "extra"] if changed else ["work"]), None
        result = {"tools": [tool(n) for n in names]}
        if nxt:
            result["nextCursor"] = nxt
        send({"jsonrpc": "2.0", "id": mid, "result": result})
    elif method == "tools/call":
        if MODE == "garbage":
            sys.stdout.write('{"jsonrpc": "2.0", "id": ' + json.dumps(mid) + ', "result": {oops\n')
            sys.stdout.flush()
        elif MODE == "changing":
            changed = True
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": "ok"}]}})
        elif MODE == "meta":
            meta = (msg.get("params") or {}).get("_meta")
            send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": json.dumps(meta)}]}})
        elif MODE == "silent":
            pass
        elif MODE == "crash":
            sys.stderr.write("fake server: crashing on purpose\n")
            sys.stderr.flush()
            sys.exit(3)
        else:
            send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": "ok"}]}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "method not found"}})
