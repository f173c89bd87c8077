// An echo server built on Node's ws package, for the Go Dialer tests
// (dialer_peers_test.go). Usage: node server.mjs [--deflate] [--tls CERT KEY]
// It listens on 127.0.0.1 on a free port, prints "listening PORT" on its
// first line, echoes every message with its type, and exits when stdin
// closes.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { WebSocketServer } from "ws";

const args = process.argv.slice(2);
const deflate = args.includes("--deflate");
const tlsAt = args.indexOf("--tls");
const server = tlsAt >= 0
  ? https.createServer({ cert: readFileSync(args[tlsAt + 1]), key: readFileSync(args[tlsAt + 2]) })
  : http.createServer();

const wss = new WebSocketServer({ server, perMessageDeflate: deflate, maxPayload: 32 << 20 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("ping", (data) => {}); // ws answers pings itself
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
