// Scripted Node `ws` client for the wsup interop tests (node_test.go).
//
// Usage: node client.mjs ws://127.0.0.1:PORT/ [--deflate]
//
// It connects to an echo server and runs a fixed session, printing one JSON
// line per step on stdout:
//   {"step": "...", "ok": true|false, ...observations}
// The Go test checks every line and the list of steps. The exit code is 0
// when every step is ok, 1 when one failed, 2 on a usage error or when the
// whole session timed out.

import { WebSocket } from 'ws';
import { newSession, parseArgs } from './session.mjs';

const STEP_TIMEOUT_MS = 20000;
const SESSION_TIMEOUT_MS = 90000;

const { url, deflate } = parseArgs('node client.mjs ws://127.0.0.1:PORT/ [--deflate]');
const session = newSession(SESSION_TIMEOUT_MS);
const report = session.report;

// withTimeout rejects when promise does not settle within STEP_TIMEOUT_MS.
function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Payload generators, deterministic.
function asciiPayload(n) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\n';
  let s = '';
  while (s.length < n) s += alphabet;
  return s.slice(0, n);
}

function binaryPayload(n, seed) {
  const b = Buffer.alloc(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

// utf8Text returns a string of 1- to 4-byte characters whose UTF-8 form is
// at most n bytes.
function utf8Text(n) {
  const unit = 'aé日🎉ж€𝄞z';
  const unitBytes = Buffer.byteLength(unit);
  return unit.repeat(Math.floor(n / unitBytes));
}

const ws = new WebSocket(url, { perMessageDeflate: deflate, maxPayload: 32 * 1024 * 1024 });

// Incoming messages are queued; nextMessage waits for the next one.
const queue = [];
const waiters = [];
let closeInfo = null;
const closed = new Promise((resolve) => {
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString('utf8') };
    resolve(closeInfo);
    while (waiters.length) waiters.shift().reject(new Error(`connection closed: ${code} ${closeInfo.reason}`));
  });
});
ws.on('message', (data, isBinary) => {
  const msg = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary };
  if (waiters.length) waiters.shift().resolve(msg);
  else queue.push(msg);
});
ws.on('error', (err) => report('socket-error', false, { error: String(err && err.message) }));

function nextMessage() {
  if (queue.length) return Promise.resolve(queue.shift());
  if (closeInfo) return Promise.reject(new Error(`connection closed: ${closeInfo.code}`));
  return withTimeout(new Promise((resolve, reject) => waiters.push({ resolve, reject })), 'message');
}

function sendAsync(data, options) {
  return new Promise((resolve, reject) => ws.send(data, options, (err) => (err ? reject(err) : resolve())));
}

// echoStep sends data (a string for text, a Buffer for binary) and checks
// that the same message comes back.
async function echoStep(step, data) {
  const binary = Buffer.isBuffer(data);
  const sent = binary ? data : Buffer.from(data, 'utf8');
  try {
    await sendAsync(data, { binary });
    const msg = await nextMessage();
    const equal = msg.isBinary === binary && sent.equals(msg.data);
    report(step, equal, { binary: msg.isBinary, sentBytes: sent.length, gotBytes: msg.data.length });
  } catch (err) {
    report(step, false, { error: String(err.message), sentBytes: sent.length });
  }
}

// fragmentStep sends parts as one message in several frames (fin:false on
// all but the last) and checks the echo is the concatenation.
async function fragmentStep(step, parts, binary) {
  const whole = Buffer.concat(parts);
  try {
    for (let i = 0; i < parts.length; i++) {
      await sendAsync(parts[i], { binary, fin: i === parts.length - 1 });
    }
    const msg = await nextMessage();
    const equal = msg.isBinary === binary && whole.equals(msg.data);
    report(step, equal, { binary: msg.isBinary, frames: parts.length, sentBytes: whole.length, gotBytes: msg.data.length });
  } catch (err) {
    report(step, false, { error: String(err.message), sentBytes: whole.length });
  }
}

// fragmentPingStep sends a ping between the two frames of a fragmented
// message, waits for its pong before sending the last frame, then checks
// the echo.
async function fragmentPingStep(step, first, last) {
  const whole = Buffer.concat([first, last]);
  const payload = Buffer.from('mid-message');
  try {
    await sendAsync(first, { binary: true, fin: false });
    const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), 'pong');
    ws.ping(payload);
    const got = await pong;
    await sendAsync(last, { binary: true, fin: true });
    const msg = await nextMessage();
    const equal = msg.isBinary && whole.equals(msg.data) && payload.equals(got);
    report(step, equal, { binary: msg.isBinary, frames: 2, sentBytes: whole.length, gotBytes: msg.data.length, got: got.toString('utf8') });
  } catch (err) {
    report(step, false, { error: String(err.message), sentBytes: whole.length });
  }
}

async function pingStep(step, payload) {
  try {
    const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), 'pong');
    ws.ping(payload);
    const got = await pong;
    report(step, payload.equals(got), { sentBytes: payload.length, gotBytes: got.length, got: got.toString('hex') });
  } catch (err) {
    report(step, false, { error: String(err.message) });
  }
}

async function main() {
  try {
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected HTTP ${res.statusCode}`)));
    }), 'open');
    report('open', true, { extensions: ws.extensions, protocol: ws.protocol });
  } catch (err) {
    report('open', false, { error: String(err.message) });
    return;
  }

  await echoStep('echo-text-empty', '');
  await echoStep('echo-text-short', 'hello from node');
  await echoStep('echo-text-125', asciiPayload(125));
  await echoStep('echo-text-126', asciiPayload(126));
  await echoStep('echo-text-65535', asciiPayload(65535));
  await echoStep('echo-text-65536', asciiPayload(65536));
  await echoStep('echo-text-1MiB', asciiPayload(1 << 20));
  await echoStep('echo-utf8-short', 'héllo wörld ✓ 日本語 🎉');
  await echoStep('echo-utf8-1MiB', utf8Text(1 << 20));
  await echoStep('echo-binary-empty', Buffer.alloc(0));
  await echoStep('echo-binary-1', binaryPayload(1, 1));
  await echoStep('echo-binary-125', binaryPayload(125, 2));
  await echoStep('echo-binary-126', binaryPayload(126, 3));
  await echoStep('echo-binary-65536', binaryPayload(65536, 4));
  await echoStep('echo-binary-1MiB', binaryPayload(1 << 20, 5));

  // 'é' is C3 A9 and '🎉' is F0 9F 8E 89: the text fragments below split
  // both characters between frames.
  await fragmentStep('fragment-text', [
    Buffer.from([0x66, 0x72, 0x61, 0x67, 0x20, 0xc3]),
    Buffer.from([0xa9, 0x20, 0xf0, 0x9f]),
    Buffer.from([]),
    Buffer.from([0x8e, 0x89, 0x20, 0x65, 0x6e, 0x64]),
  ], false);
  await fragmentStep('fragment-binary', [binaryPayload(1000, 6), binaryPayload(70000, 7), binaryPayload(3, 8)], true);

  await fragmentPingStep('fragment-ping', binaryPayload(5000, 9), binaryPayload(5000, 10));

  await pingStep('ping-payload', Buffer.from('node-ping ✓', 'utf8'));
  await pingStep('ping-125', Buffer.from(asciiPayload(125)));

  const sock = ws._socket;
  report('stats', true, { bytesRead: sock ? sock.bytesRead : -1, bytesWritten: sock ? sock.bytesWritten : -1 });

  try {
    ws.close(4002, 'node says bye ✓');
    const info = await withTimeout(closed, 'close');
    report('close', info.code === 4002, info);
  } catch (err) {
    report('close', false, { error: String(err.message) });
  }
}

main()
  .catch((err) => report('unexpected', false, { error: String(err && err.stack) }))
  .finally(() => {
    clearTimeout(session.timer);
    report('done', !session.failed);
    process.exit(session.failed ? 1 : 0);
  });
