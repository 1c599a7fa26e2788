package emutest

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
)

// Streams drawn from one seed. Each consumer has its own, so that a spec that makes one more
// fresh user does not shift the tokens the platform hands out.
const (
	streamPlatform byte = iota
	streamUsers
	streamBots // + the bot's index
)

// stream is a reproducible random source for one purpose.
func stream(seed uint64, purpose byte) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	key[31] = purpose
	return &lockedReader{r: rand.NewChaCha8(key)}
}

// lockedReader makes a ChaCha8 stream safe to share: the platform, its token and media stores
// and the push engine each read it under their own locks, and a bot's API call can run while a
// push is being built.
type lockedReader struct {
	mu sync.Mutex // guards r
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
