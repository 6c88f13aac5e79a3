-- POST /mcp: one MCP tools/call of TOOL with the JSON object ARGS (default {}),
-- stateless at protocol 2026-07-28, as the official clients send it. A tool
-- error is a 200 too: scripts/bench.py makes the same call once first and
-- checks that it succeeds.
local tool = os.getenv("TOOL")
local args = os.getenv("ARGS") or "{}"
wrk.method = "POST"
wrk.path = "/mcp"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":' .. args
    .. ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientCapabilities":{},'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"}}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = tool
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

