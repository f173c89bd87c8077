// gorilla_examples.mjs drives gorilla's example servers (built by
// gorilla_examples_test.go) with the ws package and prints one JSON line per
// observation on stdout. Usage:
//
//   node gorilla_examples.mjs echo URL MESSAGES_JSON
//     MESSAGES_JSON is [{"data": string, "binary": bool}]; binary data is
//     base64. Sends each message, waits for its echo, then closes with 1000.
//   node gorilla_examples.mjs chat URL
//     Two clients A and B on the chat hub; see runChat.
//   node gorilla_examples.mjs recv URL
//     Prints the first message the server sends (waiting up to 25 s: the
//     filewatch example polls its file every 10 s).
import WebSocket from 'ws';

const [mode, url, arg] = process.argv.slice(2);
if (!mode || !url || !/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) {
  console.error('usage: node gorilla_examples.mjs echo|chat|recv ws://127.0.0.1:PORT/PATH [MESSAGES_JSON]');
  process.exit(2);
}

const report = (step, fields = {}) => process.stdout.write(JSON.stringify({ step, ...fields }) + '\n');
setTimeout(() => {
  report('timeout', { error: 'session exceeded 60 s' });
  process.exit(2);
}, 60_000).unref();

// client opens a connection and queues what it receives: every message
// (frames) and the close event.
function client(name) {
  const ws = new WebSocket(url);
  const c = { name, ws, frames: [], waiters: [], closed: null };
  const wake = () => {
    for (const w of c.waiters.splice(0)) w();
  };
  ws.on('message', (data, isBinary) => {
    c.frames.push({ data: isBinary ? data.toString('base64') : data.toString('utf8'), binary: isBinary });
    wake();
  });
  ws.on('close', (code, reason) => {
    c.closed = { code, reason: reason.toString('utf8') };
    wake();
  });
  ws.on('error', (err) => report('error', { client: name, error: String(err) }));
  c.opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('close', () => reject(new Error(`${name} closed before opening`)));
  });
  // until resolves once pred() holds, failing after ms (10 s by default).
  c.until = (pred, what, ms = 10_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: timed out waiting for ${what}`)), ms);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else {
          c.waiters.push(check);
        }
      };
      check();
    });
  // lines is every chat message received: gorilla's chat joins queued
  // messages into one frame with newlines.
  c.lines = () => c.frames.flatMap((f) => f.data.split('\n'));
  return c;
}

async function runEcho() {
  const messages = JSON.parse(arg);
  const c = client('echo');
  await c.opened;
  for (const [i, m] of messages.entries()) {
    c.ws.send(m.binary ? Buffer.from(m.data, 'base64') : m.data, { binary: m.binary });
    await c.until(() => c.frames.length > i || c.closed, `echo ${i}`);
    const f = c.frames[i] ?? {};
    report('echo', { i, got: f.data, binary: f.binary });
  }
  c.ws.close(1000, 'bye');
  await c.until(() => c.closed, 'close');
  report('close', c.closed);
}

// runChat: A joins and sees its own "A joined" (so it is registered with the
// hub), then B joins likewise; then the scripted messages below; then B
// sends more than the chat's 512-byte read limit and A closes with 1000.
async function runChat() {
  const a = client('A');
  await a.opened;
  a.ws.send('A joined');
  await a.until(() => a.lines().includes('A joined'), 'A joined');
  const b = client('B');
  await b.opened;
  b.ws.send('B joined');
  await b.until(() => b.lines().includes('B joined'), 'B joined');
  await a.until(() => a.lines().includes('B joined'), 'B joined at A');

  const script = [
    [a, 'hello from A'],
    [b, 'line one\nline two'],
    [a, '  padded  '],
  ];
  let want = 2; // lines A has seen so far
  for (const [from, text] of script) {
    from.ws.send(text);
    want++;
    await a.until(() => a.lines().length >= want, `message ${want} at A`);
    await b.until(() => b.lines().length >= want - 1, `message ${want} at B`);
  }
  for (let i = 1; i <= 5; i++) a.ws.send(`burst ${i}`);
  want += 5;
  await a.until(() => a.lines().length >= want, 'burst at A');
  await b.until(() => b.lines().length >= want - 1, 'burst at B');

  b.ws.send('x'.repeat(600));
  await b.until(() => b.closed, 'B closed after the oversized message');
  a.ws.close(1000, 'bye');
  await a.until(() => a.closed, 'A closed');
  for (const c of [a, b]) {
    report('client', { client: c.name, lines: c.lines(), frames: c.frames.length, code: c.closed.code, reason: c.closed.reason });
  }
}

async function runRecv() {
  const c = client('recv');
  await c.opened;
  await c.until(() => c.frames.length > 0 || c.closed, 'a message', 25_000);
  report('recv', { got: c.frames[0]?.data ?? null });
  c.ws.close(1000);
}

const modes = { echo: runEcho, chat: runChat, recv: runRecv };
try {
  if (!modes[mode]) throw new Error(`unknown mode ${mode}`);
  await modes[mode]();
  report('done');
  process.exit(0);
} catch (err) {
  report('error', { error: String(err) });
  process.exit(1);
}
