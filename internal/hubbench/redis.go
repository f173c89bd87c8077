package hubbench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server started on a free loopback port, without
// persistence, in a temporary directory.
type RedisServer struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// StartRedis starts redis-server and waits (up to 10 s) until it answers.
// It returns an error when redis-server is not installed or does not
// answer.
func StartRedis() (*RedisServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir, err := os.MkdirTemp("", "hubbench-redis-")
	if err != nil {
		return nil, err
	}
	s := &RedisServer{Addr: ln.Addr().String(), dir: dir, done: make(chan struct{})}
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("hubbench: redis-server (Debian's package; scripts/test.sh installs it): %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	rdb := goredis.NewClient(&goredis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("hubbench: redis-server does not answer: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills redis-server and removes its directory.
func (s *RedisServer) Stop() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	_ = os.RemoveAll(s.dir)
}
