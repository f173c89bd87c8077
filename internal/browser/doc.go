// Package browser holds the end-to-end test that drives a real browser
// (headless Chromium) against a server built with the websocket package. It
// exports nothing; see browser_test.go.
//
// The test needs Debian's chromium (/usr/bin/chromium or chromium in PATH);
// scripts/test.sh installs it. Without it the test fails, unless
// WSUP_SKIP_BROWSER=1 is set, in which case it is skipped.
package browser
