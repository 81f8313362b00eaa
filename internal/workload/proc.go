package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Proc is one process of the system under test, run from a built obx binary.
// The first start listens on a free port; restarts reuse it, so clients keep
// one address across crashes. Stdout and stderr of every incarnation go to
// LogPath.
type Proc struct {
	Name    string
	Bin     string
	Args    []string // without --addr
	LogPath string

	mu      sync.Mutex // guards the fields below
	addr    string     // host:port once started
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current incarnation has exited
	exitErr error
	starts  int
	stopped bool     // the current incarnation was killed or stopped on purpose
	crashes []string // incarnations that exited on their own
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// Start starts the process and waits until it listens. It retries a few
// times when a restart finds the port still taken.
func (p *Proc) Start(ctx context.Context) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = p.start(ctx); err == nil {
			return nil
		}
		if !sleep(ctx, time.Duration(try+1)*200*time.Millisecond) {
			break
		}
	}
	return err
}

func (p *Proc) start(ctx context.Context) error {
	p.mu.Lock()
	addr := p.addr
	p.starts++
	n := p.starts
	p.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== %s start %d at %s\n", p.Name, n, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.Bin, append(append([]string(nil), p.Args...), "--addr", addr)...)
	cmd.Stderr = logf
	found := make(chan string, 1)
	cmd.Stdout = &listenWriter{w: logf, found: found}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		if !p.stopped {
			p.crashes = append(p.crashes, fmt.Sprintf("%s start %d exited on its own at %s: %v",
				p.Name, n, time.Now().Format("15:04:05.000"), err))
		}
		p.mu.Unlock()
		logf.Close()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited, p.stopped = cmd, exited, false
	p.mu.Unlock()

	select {
	case u := <-found:
		pu, err := url.Parse(u)
		if err != nil {
			p.Kill()
			return fmt.Errorf("%s: bad listening URL %q", p.Name, u)
		}
		p.mu.Lock()
		p.addr = pu.Host
		p.mu.Unlock()
		return nil
	case <-exited:
		p.mu.Lock()
		err := p.exitErr
		p.mu.Unlock()
		return fmt.Errorf("%s exited before listening (%v); see %s", p.Name, err, p.LogPath)
	case <-time.After(60 * time.Second):
		p.Kill()
		return fmt.Errorf("%s did not listen within 60 s; see %s", p.Name, p.LogPath)
	case <-ctx.Done():
		p.Kill()
		return ctx.Err()
	}
}

// URL returns the process's base URL.
func (p *Proc) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addr
}

// Kill sends SIGKILL and waits for the process to exit. Killing a process
// that is not running does nothing.
func (p *Proc) Kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.stopped = true
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// Stop asks the process to shut down (SIGTERM) and waits up to 20 s, then
// kills it. It returns the exit error of a process that did not stop
// cleanly; with the race detector, a process that saw a race exits non-zero.
func (p *Proc) Stop() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.stopped = true
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return nil // already gone (killed)
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		p.Kill()
		return fmt.Errorf("%s did not stop on SIGTERM", p.Name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var ee *exec.ExitError
	if errors.As(p.exitErr, &ee) {
		return fmt.Errorf("%s exited with %v", p.Name, p.exitErr)
	}
	return nil
}

// listenWriter copies a process's stdout to its log and reports the URL of
// the first "listening on" line.
type listenWriter struct {
	w     io.Writer
	found chan string
	line  []byte
}

func (l *listenWriter) Write(b []byte) (int, error) {
	for _, c := range b {
		if c != '\n' {
			l.line = append(l.line, c)
			continue
		}
		if m := listeningRE.FindSubmatch(l.line); m != nil {
			select {
			case l.found <- string(m[1]):
			default:
			}
		}
		l.line = l.line[:0]
	}
	return l.w.Write(b)
}

// Crashed reports whether the current incarnation exited without being killed
// or stopped.
func (p *Proc) Crashed() bool {
	p.mu.Lock()
	exited, stopped := p.exited, p.stopped
	p.mu.Unlock()
	if exited == nil || stopped {
		return false
	}
	select {
	case <-exited:
		return true
	default:
		return false
	}
}

// Crashes returns a line for each incarnation that exited on its own.
func (p *Proc) Crashes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.crashes...)
}
