package emutest

import (
	"io"

	"github.com/wxemu/wxemu/emulator/random"
)

// Streams drawn from one seed. Each consumer has its own, so that a spec that makes one more
// fresh user does not shift the tokens the platform hands out.
const (
	streamPlatform byte = iota
	streamUsers
	streamBots // + the bot's index
)

// stream is the emulator's reproducible source for one purpose: the platform, its token and media
// stores and the push engine share it under their own locks, and a bot's API call can run while
// a push is being built, so it is safe for concurrent use.
func stream(seed uint64, purpose byte) io.Reader { return random.Stream(seed, purpose) }
