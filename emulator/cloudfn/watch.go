package cloudfn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/wxemu/wxemu/emulator/clock"
)

// watchEvery is how often the functions' folders are checked for changes: a cheap walk of
// names, sizes and modification times, without node_modules.
const watchEvery = 500 * time.Millisecond

// fingerprint sums up a function's folder: every file but those under node_modules and hidden
// folders, with its size and modification time.
func fingerprint(dir string) string {
	h := sha256.New()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "%s!%v\n", path, err)
			return nil
		}
		if d.IsDir() {
			if path != dir && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

// watchTick checks every function's folder and restarts the worker of each that changed, then
// schedules the next check.
func (h *Host) watchTick() {
	for _, f := range h.fns {
		stamp := fingerprint(f.dir)
		f.mu.Lock()
		changed := stamp != f.stamp && !f.stopped
		f.stamp = stamp
		f.mu.Unlock()
		if changed {
			h.reload(f)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == hostStarted {
		h.watch = clock.Real{}.AfterFunc(watchEvery, h.watchTick)
	}
}

// reload restarts f's worker with its folder as it is now, once the invocation running (if any)
// has ended: config.json is read again, index.js loaded again.
// Deviation: a deployed config.json takes up to 10 minutes to apply on WeChat (protocol §8.2);
// wxemu applies it at once.
func (h *Host) reload(f *function) {
	h.mu.Lock()
	if h.state != hostStarted {
		h.mu.Unlock()
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		f.slot <- struct{}{}
		defer func() { <-f.slot }()
		cfg, err := readConfig(f.dir)
		f.mu.Lock()
		if err == nil {
			f.cfg = cfg
		}
		old := f.w
		f.w = nil
		stopped := f.stopped
		f.mu.Unlock()
		if err != nil {
			h.log.Error("cloud function's config.json does not parse; the permissions and timeout stay as they were", "function", f.name, "err", err)
		}
		if old != nil {
			old.kill()
			<-old.exited
		}
		if stopped {
			return
		}
		f.warm()
		h.log.Info(fmt.Sprintf("function %s reloaded", f.name), "function", f.name, "dir", f.dir)
	}()
}
