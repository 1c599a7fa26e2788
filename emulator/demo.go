// Package emulator is the facade of wxemu: it wires the platform (WeChat's behaviour) and the
// API server into one value that `wxemu serve` runs and Go specs start in-process.
package emulator

import "github.com/wxemu/wxemu/emulator/config"

// The demo Official Account of the embedded default configuration. Its credentials are fixed and
// documented so that `wxemu send --url URL text hi`, `wxemu serve` and the sample bots work
// together with no configuration at all.
const (
	DemoAppID          = config.DemoOAAppID
	DemoOriginalID     = config.DemoOAOriginalID
	DemoToken          = config.DemoOAToken
	DemoEncodingAESKey = config.DemoOAEncodingAESKey
	DemoSecret         = config.DemoOASecret
	// DemoOpenID is alice, the demo user: the openid WeChat's own documentation uses.
	DemoOpenID = config.DemoAliceOA
)
