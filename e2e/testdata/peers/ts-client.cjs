// The official TypeScript MCP client (@modelcontextprotocol/sdk) as an
// agent behind Portcullis: connects over Streamable HTTP or the legacy
// HTTP+SSE transport with its API key, lists tools, calls the tools named
// on the command line and prints what it saw as one JSON object.
//
//   node ts-client.cjs <streamable|sse> <url> <api key> <tool:jsonargs>...
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");

async function main() {
  const [mode, url, key, ...calls] = process.argv.slice(2);
  const headers = { Authorization: `Bearer ${key}` };
  const transport =
    mode === "sse"
      ? new SSEClientTransport(new URL(url), {
          requestInit: { headers },
          // The EventSource GET carries the key too.
          eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init && init.headers), ...headers } }) },
        })
      : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: "portcullis-ts-peer", version: "1.0.0" });
  await client.connect(transport);
  const out = { protocolVersion: transport.protocolVersion ?? null, sessionId: transport.sessionId ?? null, calls: {} };
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  for (const c of calls) {
    const i = c.indexOf(":");
    const name = c.slice(0, i);
    const args = JSON.parse(c.slice(i + 1));
    try {
      const res = await client.callTool({ name, arguments: args });
      out.calls[name] = { isError: !!res.isError, text: (res.content || []).map((x) => x.text ?? "").join("\n") };
    } catch (e) {
      out.calls[name] = { error: { code: e.code ?? null, message: String(e.message) } };
    }
  }
  await client.close();
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write(`ts-client: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
