// Package emulator is the facade of wxemu: the embedded default configuration and, as the
// emulator grows, the wiring of clock, state, push and the API server into one value.
package emulator

// The demo app. Its credentials are fixed and documented so that `wxemu send --url URL text hi`
// and the sample bots work together with no configuration at all.
const (
	DemoAppID          = "wx0e1d2c3b4a596877"
	DemoOriginalID     = "gh_e1d2c3b4a596"
	DemoToken          = "wxemu"
	DemoEncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	// DemoOpenID is the openid of the demo user, the one WeChat's own documentation uses.
	DemoOpenID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
)
