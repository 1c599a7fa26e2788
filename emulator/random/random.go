// Package random is the one home of wxemu's injectable randomness: a source several parts of
// the emulator share safely, reproducible streams drawn from one seed, and the fresh openids
// specs and scenarios make. Nothing here reads the wall clock or global state.
package random

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
)

// locked serialises reads of a source shared by parts that each hold their own locks.
type locked struct {
	mu sync.Mutex // guards r
	r  io.Reader
}

func (l *locked) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}

// Locked returns r made safe for concurrent readers: one mutex around each Read. A source that
// is already locked is returned as it is.
func Locked(r io.Reader) io.Reader {
	if l, ok := r.(*locked); ok {
		return l
	}
	return &locked{r: r}
}

// Stream is a reproducible source for one purpose drawn from seed, safe for concurrent use.
// Each consumer gets its own purpose, so that one more draw by one consumer (a fresh user) does
// not shift what another (the platform's tokens) reads.
func Stream(seed uint64, purpose byte) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	key[31] = purpose
	return &locked{r: rand.NewChaCha8(key)}
}

// Fill reads len(b) bytes from r. A source that fails is a broken emulator, not bad input, so
// Fill panics, naming who read.
func Fill(r io.Reader, b []byte, who string) {
	if _, err := io.ReadFull(r, b); err != nil {
		panic(fmt.Sprintf("%s: random source: %v", who, err))
	}
}

// openIDAlphabet is the 64 characters of a WeChat openid after its leading 'o'.
const openIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// OpenID makes a fresh openid with the look of WeChat's: 'o' and 27 characters of
// [A-Za-z0-9_-], 28 in all.
func OpenID(r io.Reader) string {
	var b [27]byte
	Fill(r, b[:], "openid")
	out := make([]byte, 0, 28)
	out = append(out, 'o')
	for _, c := range b {
		out = append(out, openIDAlphabet[c&63])
	}
	return string(out)
}
