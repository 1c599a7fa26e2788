//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup runs cmd in a process group of its own, so that a signal reaches what it started
// (npm's node, a test runner's workers) too.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends s to cmd's process group.
func signalGroup(cmd *exec.Cmd, s os.Signal) {
	n, ok := s.(syscall.Signal)
	if !ok || syscall.Kill(-cmd.Process.Pid, n) != nil {
		_ = cmd.Process.Signal(s)
	}
}

// killedBy is the number of the signal that ended the process, if one did.
func killedBy(st *os.ProcessState) (int, bool) {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return int(ws.Signal()), true
}
