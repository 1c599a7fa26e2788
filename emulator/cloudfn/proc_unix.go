//go:build unix

package cloudfn

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the worker in its own process group, so that killing it kills whatever
// the function started too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func kill(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}
