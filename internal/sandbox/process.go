package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one component the sandbox started. It runs in its own process group so that stopping it
// also stops what it spawned (kc.sh starts a JVM).
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// startProcess starts bin with args, sending its output to <logDir>/<name>.log and recording its pid in
// <pidDir>/<name>.pid so that `sandbox down` or a later sandbox can stop it.
func startProcess(name, logDir, pidDir string, env []string, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open the log of %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("cannot start %s (%s): %w", name, bin, err)
	}
	_ = logFile.Close() // the child holds its own descriptor
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	pidPath := filepath.Join(pidDir, name+".pid")
	record := recordedProcess{pid: cmd.Process.Pid, started: processStartTime(cmd.Process.Pid)}
	if err := os.WriteFile(pidPath, []byte(record.String()), 0o644); err != nil {
		p.stop()
		return nil, fmt.Errorf("cannot record the pid of %s: %w", name, err)
	}
	return p, nil
}

// stop ends the process group: SIGTERM first, SIGKILL for whatever is left after a grace period.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// waitReady polls ready until it reports nil, the process exits, or the deadline passes. The error says
// which, with the tail of the component's log.
func (p *process) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		lastErr = ready(attemptCtx)
		cancelAttempt()
		if lastErr == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it became ready (%w); last lines of %s:\n%s", p.name, p.waitErr, p.logPath, logTail(p.logPath, 30))
		case <-ctx.Done():
			return fmt.Errorf("%s did not become ready within %s: %w; last lines of %s:\n%s", p.name, timeout, lastErr, p.logPath, logTail(p.logPath, 30))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// recordedProcess identifies a process across restarts of whoever recorded it: its pid and the time it
// started, so that a pid the kernel has since given to another process is never signalled.
type recordedProcess struct {
	pid     int
	started string
}

func (r recordedProcess) String() string { return strconv.Itoa(r.pid) + " " + r.started }

func readRecordedProcess(path string) (recordedProcess, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return recordedProcess{}, err
	}
	fields := strings.Fields(string(raw))
	if len(fields) != 2 {
		return recordedProcess{}, fmt.Errorf("%s: want \"pid start-time\", got %q", path, raw)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		return recordedProcess{}, fmt.Errorf("%s: bad pid %q", path, fields[0])
	}
	return recordedProcess{pid: pid, started: fields[1]}, nil
}

// alive reports whether the recorded process itself still runs.
func (r recordedProcess) alive() bool {
	return r.started != "" && processStartTime(r.pid) == r.started
}

// processStartTime is field 22 of /proc/<pid>/stat (clock ticks since boot), or "" when there is no
// such process.
func processStartTime(pid int) string {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; the fields after it are plain.
	end := strings.LastIndexByte(string(raw), ')')
	if end < 0 {
		return ""
	}
	fields := strings.Fields(string(raw[end+1:]))
	const startTimeAfterComm = 22 - 3
	if len(fields) <= startTimeAfterComm {
		return ""
	}
	return fields[startTimeAfterComm]
}

// stopRecordedProcesses stops the process groups recorded in pidDir, as `sandbox down` does for a
// sandbox started by another process.
func stopRecordedProcesses(pidDir string) error {
	entries, err := os.ReadDir(pidDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("cannot list %s: %w", pidDir, err)
	}
	var running []recordedProcess
	for _, entry := range entries {
		record, err := readRecordedProcess(filepath.Join(pidDir, entry.Name()))
		if err != nil || !record.alive() {
			continue
		}
		running = append(running, record)
		_ = syscall.Kill(-record.pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, record := range running {
		for record.alive() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if record.alive() {
			_ = syscall.Kill(-record.pid, syscall.SIGKILL)
		}
	}
	return nil
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func logTail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// freePort asks the kernel for a loopback port nobody listens on. The port is released before the
// component binds it, so a race with another process is possible but rare; the component then fails
// to start and says so in its log.
func freePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free loopback port: %w", err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}

// freePortPair finds a port p such that p and p+1 are both free, for Vault, whose cluster listener
// takes the port after its API port.
func freePortPair() (int, error) {
	for range 50 {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		next, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		if err == nil {
			_ = next.Close()
			return port, nil
		}
	}
	return 0, errors.New("cannot find two adjacent free loopback ports")
}
