//go:build !unix

package browser

import "os/exec"

// killProcessGroupOnCancel keeps exec's default on systems without process
// groups: the context's cancellation kills chromium's main process.
func killProcessGroupOnCancel(cmd *exec.Cmd) {}
