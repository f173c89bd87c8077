// Package driver runs the wsup comparison benchmark: for every workload it
// starts each echo server implementation in its own process (alternating the
// implementations over several rounds), drives it with the loadgen process,
// and summarises the medians as a Markdown table with ratios against gorilla.
package driver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries names of the two programs the driver runs.
const (
	ServerBinary  = "echoserver"
	LoadgenBinary = "loadgen"
)

// ModuleDir returns the directory of the benchmark module containing the
// current working directory, using `go env GOMOD`. It returns an error when
// the working directory is not inside github.com/wsup/websocket/internal/bench.
func ModuleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("driver: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("driver: not inside a module (run from internal/bench): %w", err)
	}
	if !bytes.Contains(b, []byte("module github.com/wsup/websocket/internal/bench\n")) {
		return "", fmt.Errorf("driver: %s is not the benchmark module; run from internal/bench", gomod)
	}
	return filepath.Dir(gomod), nil
}

// Build compiles the echoserver and loadgen commands of the module in modDir
// into outDir with the given build tags. It returns the go build output
// wrapped in an error on failure. Safe for concurrent use with distinct
// outDir values.
func Build(ctx context.Context, modDir, outDir string, tags []string) error {
	args := []string{"build", "-o", outDir + string(os.PathSeparator)}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "./cmd/"+ServerBinary, "./cmd/"+LoadgenBinary)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = modDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("driver: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
