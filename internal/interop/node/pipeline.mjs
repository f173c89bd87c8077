// Pipelined-echo Node `ws` client for the wsup interop tests
// (pipeline_test.go).
//
// Usage: node pipeline.mjs ws://127.0.0.1:PORT/ [--deflate] < messages
//
// stdin holds the messages to send, each as a type byte (1 text, 2 binary),
// a 4-byte big-endian length and the payload. Once connected, the client
// sends them all back to back without waiting for echoes, reads the echoes
// as they come, and stays connected until the server closes. It prints one
// JSON line per event on stdout:
//   {"step":"open","ok":true,"extensions":"..."}
//   {"step":"echo","ok":true,"i":0,"binary":false,"len":12,"sha256":"..."}
//       (one per message received, in order)
//   {"step":"sent","ok":true,"count":500}   (when every send completed)
//   {"step":"close","ok":true,"code":1000,"reason":""}
// The Go test compares the echoes with what it sent. The exit code is 0 when
// the session ended with a close and every step was ok, 1 when a step
// failed, 2 on a usage error, bad input or when the session timed out.

import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { newSession, parseArgs } from './session.mjs';

const SESSION_TIMEOUT_MS = 14000;

const { url, deflate } = parseArgs('node pipeline.mjs ws://127.0.0.1:PORT/ [--deflate] < messages');
const session = newSession(SESSION_TIMEOUT_MS);
const report = session.report;

// parseMessages splits stdin into {binary, data} messages.
function parseMessages(buf) {
  const msgs = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 5) throw new Error(`truncated message header at offset ${off}`);
    const type = buf[off];
    const len = buf.readUInt32BE(off + 1);
    off += 5;
    if (type !== 1 && type !== 2) throw new Error(`bad message type ${type} at offset ${off - 5}`);
    if (buf.length - off < len) throw new Error(`truncated message of ${len} bytes at offset ${off}`);
    msgs.push({ binary: type === 2, data: buf.subarray(off, off + len) });
    off += len;
  }
  return msgs;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let msgs;
try {
  msgs = parseMessages(Buffer.concat(chunks));
} catch (err) {
  report('input', false, { error: err.message });
  process.exit(2);
}

const ws = new WebSocket(url, { perMessageDeflate: deflate, maxPayload: 32 * 1024 * 1024 });

let received = 0;
ws.on('message', (data, isBinary) => {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  report('echo', true, {
    i: received++,
    binary: isBinary,
    len: buf.length,
    sha256: createHash('sha256').update(buf).digest('hex'),
  });
});

ws.on('open', () => {
  report('open', true, { extensions: ws.extensions });
  let done = 0;
  let sendFailed = false;
  if (msgs.length === 0) report('sent', true, { count: 0 });
  for (const m of msgs) {
    ws.send(m.data, { binary: m.binary }, (err) => {
      if (sendFailed) return;
      if (err) {
        sendFailed = true;
        report('sent', false, { count: done, error: err.message });
        return;
      }
      done++;
      if (done === msgs.length) report('sent', true, { count: done });
    });
  }
});

ws.on('error', (err) => report('error', false, { error: err.message }));

ws.on('close', (code, reason) => {
  clearTimeout(session.timer);
  report('close', true, { code, reason: reason.toString() });
  process.exitCode = session.failed ? 1 : 0;
});
