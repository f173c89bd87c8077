// Command echoserver runs one library's idiomatic WebSocket echo server on a
// loopback address and prints the address it listens on as the first line of
// stdout. It exits on SIGINT or SIGTERM.
//
//	echoserver -impl=gorilla -addr=127.0.0.1:0 [-compress] [-broadcast] [-cpuprofile=FILE [-profile-hz=N]] [-memprofile=FILE [-memprofilerate=N]]
//
// SIGUSR1 prints the runtime's memory statistics to stderr and writes the
// heap profile to the -memprofile file name plus
// ".usr1" while the server keeps running.
//
// With -broadcast it runs the library's broadcast server instead of its
// echo: every message a client sends goes to every connected client.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
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
	broadcast := flag.Bool("broadcast", false, "run the broadcast server instead of the echo")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file until the server exits")
	profileHz := flag.Int("profile-hz", 100, "CPU profile sampling rate (samples per CPU second, 1 to 10000; the kernel's timer bounds the effective rate, and the runtime logs a harmless warning when it is not 100)")
	memProfile := flag.String("memprofile", "", "write a heap profile to this file on exit (after a GC, so that it lists the objects live then)")
	memRate := flag.Int("memprofilerate", 0, "bytes per sampled allocation in the heap profile (1: every allocation; 0: Go's default)")
	flag.Parse()
	if *memRate < 0 {
		return fmt.Errorf("-memprofilerate %d is negative", *memRate)
	}
	if *memRate > 0 {
		runtime.MemProfileRate = *memRate
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if *profileHz < 1 || *profileHz > 10000 {
			return fmt.Errorf("-profile-hz %d not in [1, 10000]", *profileHz)
		}
		if *profileHz != 100 {
			// Set before StartCPUProfile, which then keeps this rate (and
			// logs that the rate was already set).
			runtime.SetCPUProfileRate(*profileHz)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}

	if *memProfile != "" {
		defer func() {
			if err := writeHeapProfile(*memProfile); err != nil {
				fmt.Fprintln(os.Stderr, "echoserver:", err)
			}
		}()
	}

	if _, err := loadgen.RaiseNoFile(loadgen.MaxLoadConns + 1024); err != nil {
		// Not fatal: the hard limit may be lower; runs needing more
		// descriptors will fail visibly at accept time.
		fmt.Fprintln(os.Stderr, "echoserver:", err)
	}
	opts := echo.Options{Compress: *compress, MaxMessage: *maxMsg}
	h, err := echo.Handler(*impl, opts)
	if *broadcast {
		h, err = echo.BroadcastHandler(*impl, opts)
	}
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
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	for {
		select {
		case <-usr1:
			// Memory figures and a heap profile while connections are
			// open (at exit the clients may already be gone).
			printMemStats("before GC")
			if *memProfile != "" {
				if err := writeHeapProfile(*memProfile + ".usr1"); err != nil {
					fmt.Fprintln(os.Stderr, "echoserver:", err)
				}
				printMemStats("after GC")
			}
		case <-sig:
			// Hijacked WebSocket connections are not tracked by
			// http.Server; exiting the process closes them.
			return srv.Close()
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		}
	}
}

// writeHeapProfile collects garbage, so that the profile's in-use figures
// are the objects live now rather than at the last cycle, and writes the
// heap profile to path.
func writeHeapProfile(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// printMemStats writes the runtime's memory figures that make up the
// resident set to stderr, in KiB.
func printMemStats(when string) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	k := func(v uint64) uint64 { return v >> 10 }
	fmt.Fprintf(os.Stderr, "echoserver: memstats %s: goroutines %d, heap alloc %d, heap in use %d, heap idle not released %d, stacks %d, spans %d, GC metadata %d, other %d, sys %d KiB\n",
		when, runtime.NumGoroutine(), k(m.HeapAlloc), k(m.HeapInuse), k(m.HeapIdle-m.HeapReleased),
		k(m.StackInuse), k(m.MSpanInuse), k(m.GCSys), k(m.OtherSys), k(m.Sys))
}
