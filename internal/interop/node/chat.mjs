// Node `ws` clients of the chat demo (docs/examples/chat) for
// chat_node_test.go.
//
// Usage:
//   node chat.mjs ws://127.0.0.1:PORT/ws --slow [--paused=9] [--messages=2000]
//   node chat.mjs ws://127.0.0.1:PORT/ws --sigterm [--clients=3]
//
// --slow: opens `paused` clients that stop reading right after they open
// (ws.pause() pauses their socket, so the server's writes back up), then a
// normal client that sends `messages` chat messages of about 4 KB one at a
// time, each once the previous one came back, and times each echo (5 s at
// most). Then it resumes the paused clients and records what each one reads
// before its connection closes: messages, close code and reason.
//
// --sigterm: opens `clients` clients, has each send a message and waits for
// it to come back (so the hub has it in the room), prints a "ready" step,
// then waits for the server to close every client and reports each close.
//
// Output: one JSON line per step on stdout, {"step": "...", "ok": bool, ...}.
// Exit code 0 when every step is ok, 1 otherwise, 2 on a usage error or when
// the session timed out.

import { WebSocket } from 'ws';
import { newSession, parseArgs } from './session.mjs';

const SESSION_TIMEOUT_MS = 90000;
// ECHO_TIMEOUT_MS bounds each message's round trip through the hub.
const ECHO_TIMEOUT_MS = 5000;
// OPEN_TIMEOUT_MS bounds each handshake.
const OPEN_TIMEOUT_MS = 10000;
// CLOSE_TIMEOUT_MS bounds the wait for the server to close the clients.
const CLOSE_TIMEOUT_MS = 20000;
// TEXT_BYTES keeps every message under the hub's 4096-byte limit once
// encoded as JSON with its name.
const TEXT_BYTES = 4000;

const { url } = parseArgs('node chat.mjs ws://127.0.0.1:PORT/ws --slow|--sigterm [--paused=N] [--messages=N] [--clients=N]');
const args = process.argv.slice(2);
function intArg(name, def) {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  const n = a ? Number(a.slice(name.length + 3)) : def;
  if (!Number.isInteger(n) || n < 1 || n > 100000) {
    console.error(`chat.mjs: bad --${name}`);
    process.exit(2);
  }
  return n;
}
const mode = args.includes('--slow') ? 'slow' : args.includes('--sigterm') ? 'sigterm' : '';
if (!mode) {
  console.error('chat.mjs: --slow or --sigterm is required');
  process.exit(2);
}

const session = newSession(SESSION_TIMEOUT_MS);
const report = session.report;

// withTimeout rejects when promise does not settle within ms.
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// connect opens a client and records what happens to it: the messages it
// reads, its errors and its close.
function connect(name) {
  const ws = new WebSocket(url);
  const c = { name, ws, messages: 0, unexpected: 0, errors: [], close: null, waiter: null };
  c.opened = withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('close', (code) => reject(new Error(`${name}: closed (${code}) before it opened`)));
  }), OPEN_TIMEOUT_MS, `${name} to open`);
  c.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      c.close = { code, reason: reason.toString('utf8'), at: Date.now() };
      if (c.waiter) c.waiter.reject(new Error(`${name}: closed (${code}) while waiting for its message`));
      resolve(c.close);
    });
  });
  ws.on('error', (err) => c.errors.push(String(err && (err.code || err.message))));
  ws.on('message', (data) => {
    c.messages++;
    if (!c.waiter) return;
    let msg = null;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      // counted as unexpected below
    }
    if (msg && msg.name === name && msg.text === c.waiter.text) {
      c.waiter.resolve();
    } else {
      c.unexpected++;
    }
  });
  return c;
}

// say sends text as c and resolves with the round trip in ms once the hub's
// broadcast of it comes back to c. Any other message c reads meanwhile is
// counted in c.unexpected.
function say(c, text) {
  const sent = performance.now();
  const got = new Promise((resolve, reject) => { c.waiter = { text, resolve, reject }; });
  c.ws.send(JSON.stringify({ name: c.name, text }));
  return withTimeout(got, ECHO_TIMEOUT_MS, `${c.name}'s message to come back`)
    .finally(() => { c.waiter = null; })
    .then(() => performance.now() - sent);
}

function closeInfo(c) {
  return { code: c.close ? c.close.code : 0, reason: c.close ? c.close.reason : '', messages: c.messages, errors: c.errors };
}

async function slow() {
  const paused = [];
  for (let i = 0; i < intArg('paused', 9); i++) {
    const c = connect(`paused${i}`);
    await c.opened;
    c.ws.pause(); // stops reading its socket: what the server writes backs up
    paused.push(c);
  }
  const talker = connect('talker');
  await talker.opened;
  report('open', true, { paused: paused.length });

  const total = intArg('messages', 2000);
  const filler = 'z'.repeat(TEXT_BYTES);
  const start = performance.now();
  let slowest = 0;
  let n = 0;
  try {
    for (; n < total; n++) {
      const text = `${n} ${filler}`.slice(0, TEXT_BYTES);
      slowest = Math.max(slowest, await say(talker, text));
    }
    report('flood', talker.unexpected === 0, { sent: n, unexpected: talker.unexpected, slowestMs: Math.round(slowest), totalMs: Math.round(performance.now() - start), bytes: n * TEXT_BYTES });
  } catch (err) {
    report('flood', false, { sent: n, slowestMs: Math.round(slowest), error: String(err.message) });
  }
  const closedBefore = paused.filter((c) => c.close).length;

  // Resume the paused clients: each reads what the server managed to send
  // it, then the end of its connection.
  const resumed = Date.now();
  for (const c of paused) c.ws.resume();
  try {
    await withTimeout(Promise.all(paused.map((c) => c.closed)), CLOSE_TIMEOUT_MS, 'the paused clients to be closed');
  } catch (err) {
    report('paused-closed', false, { error: String(err.message) });
  }
  for (const c of paused) {
    report('paused-close', c.close !== null, { client: c.name, ...closeInfo(c), afterResumeMs: c.close ? c.close.at - resumed : -1 });
  }
  report('paused-summary', true, { closedBeforeResume: closedBefore });

  // The room still works for the talker.
  try {
    const ms = await say(talker, 'anyone left?');
    report('after', true, { ms: Math.round(ms) });
  } catch (err) {
    report('after', false, { error: String(err.message) });
  }
  talker.ws.close(1000);
  await withTimeout(talker.closed, CLOSE_TIMEOUT_MS, 'the talker to close').catch(() => {});
}

async function sigterm() {
  const clients = [];
  for (let i = 0; i < intArg('clients', 3); i++) {
    const c = connect(`tab${i}`);
    await c.opened;
    clients.push(c);
  }
  // Each one's own message coming back proves the hub has it in the room.
  for (const c of clients) await say(c, `${c.name} joined`);
  report('ready', true, { clients: clients.length });
  const started = Date.now();
  try {
    await withTimeout(Promise.all(clients.map((c) => c.closed)), CLOSE_TIMEOUT_MS, 'the server to close the clients');
  } catch (err) {
    report('closed', false, { error: String(err.message) });
  }
  for (const c of clients) {
    report('close', c.close !== null, { client: c.name, ...closeInfo(c), afterReadyMs: c.close ? c.close.at - started : -1 });
  }
}

try {
  await (mode === 'slow' ? slow() : sigterm());
  report('done', true);
} catch (err) {
  report('fatal', false, { error: String(err && err.message) });
}
clearTimeout(session.timer);
process.exit(session.failed ? 1 : 0);
