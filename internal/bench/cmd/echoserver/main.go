// Command echoserver runs one library's idiomatic WebSocket echo server on a
// loopback address and prints the address it listens on as the first line of
// stdout. It exits on SIGINT or SIGTERM.
//
//	echoserver -impl=gorilla -addr=127.0.0.1:0 [-compress] [-cpuprofile=FILE]
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/wsup/websocket/internal/bench/echo"
	"github.com/wsup/websocket/internal/bench/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}

func run() error {
	impl := flag.String("impl", "wsup", fmt.Sprintf("implementation, one of %v", echo.Impls))
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	compress := flag.Bool("compress", false, "negotiate permessage-deflate")
	maxMsg := flag.Int64("max-message", echo.DefaultMaxMessage, "largest accepted message in bytes")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file until the server exits")
	flag.Parse()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}

	if _, err := loadgen.RaiseNoFile(loadgen.MaxLoadConns + 1024); err != nil {
		// Not fatal: the hard limit may be lower; runs needing more
		// descriptors will fail visibly at accept time.
		fmt.Fprintln(os.Stderr, "echoserver:", err)
	}
	h, err := echo.Handler(*impl, echo.Options{Compress: *compress, MaxMessage: *maxMsg})
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback IP", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())

	// Every path is the echo, except the heap probe of compressed idle
	// workloads (loadgen.HeapHandler).
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle(loadgen.HeapPath, loadgen.HeapHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
		// Hijacked WebSocket connections are not tracked by http.Server;
		// exiting the process closes them.
		return srv.Close()
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
