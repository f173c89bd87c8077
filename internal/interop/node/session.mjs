// session.mjs holds what the scripted clients (client.mjs, pipeline.mjs)
// share: their command line, the JSON-lines report, and the session timeout.

// parseArgs returns the server URL and the --deflate flag, or exits with
// status 2 after printing usage when the URL is missing or not a loopback
// ws:// URL.
export function parseArgs(usage) {
  const args = process.argv.slice(2);
  const url = args.find((a) => !a.startsWith('--'));
  const deflate = args.includes('--deflate');
  if (!url || !/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { url, deflate };
}

// newSession returns the session's report function (one JSON line per
// step on stdout; failed becomes true after a step that is not ok) and its
// timer, which reports a timeout and exits with status 2 after timeoutMs.
export function newSession(timeoutMs) {
  const session = { failed: false };
  session.report = (step, ok, fields = {}) => {
    if (!ok) session.failed = true;
    process.stdout.write(JSON.stringify({ step, ok, ...fields }) + '\n');
  };
  session.timer = setTimeout(() => {
    session.report('session-timeout', false, { error: `session exceeded ${timeoutMs} ms` });
    process.exit(2);
  }, timeoutMs);
  return session;
}
