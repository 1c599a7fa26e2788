package config

// The demo apps of the embedded default configuration. Their credentials are fixed and documented
// so that sample bots, specs and `wxemu send` work against `wxemu serve` with no configuration; a
// spec checks that default.yaml says the same. They are test credentials: the appids and secrets do
// not exist on WeChat.
const (
	// The demo Official Account.
	DemoOAAlias          = "oa"
	DemoOAAppID          = "wx0e1d2c3b4a596877"
	DemoOASecret         = "e1d2c3b4a5968778f9e0d1c2b3a49586"
	DemoOAOriginalID     = "gh_e1d2c3b4a596"
	DemoOAToken          = "wxemu"
	DemoOAEncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	DemoOAWeChatID       = "wxemu_demo"

	// The demo Mini Program.
	DemoMPAlias          = "mp"
	DemoMPAppID          = "wx7a6b5c4d3e2f1a09"
	DemoMPSecret         = "7a6b5c4d3e2f1a090f1e2d3c4b5a6978"
	DemoMPOriginalID     = "gh_7a6b5c4d3e2f"
	DemoMPToken          = "wxemump"
	DemoMPEncodingAESKey = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
	DemoMPWeChatID       = "wxemu_mp"

	// The demo users by app. One person has a different openid in each app, as in WeChat, so a bot
	// that sends with the wrong one gets 40003. Alice's Official Account openid is the one WeChat's
	// own documentation uses; the others share its app's first six characters as real ones do.
	DemoAliceOA = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
	DemoBobOA   = "o6_bmjk4FhXw9dQe2uZrT8cLmN1s"
	DemoCarolOA = "o6_bmjHq7YpV3nGt0aWxE5iJbK9o"
	DemoAliceMP = "oQmF85aL1cE3pR7tYw9zXk2Vb4Nd"
	DemoBobMP   = "oQmF85mS6uH0jD8gZq4xTf1Ry7We"
	DemoCarolMP = "oQmF85Kx3Vn9Bc5Lp2Qs7Gd0Hz4J"

	// The demo agents (kf accounts).
	DemoOAAgent1 = "kf1@wxemu_demo" // 客服小王: bound, online, accepts by hand
	DemoOAAgent2 = "kf2@wxemu_demo" // 客服小李: bound, online, accepts automatically
	DemoOAAgent3 = "kf3@wxemu_demo" // 客服小张: bound, offline
	DemoMPAgent1 = "kf1@wxemu_mp"   // 小程序客服: bound, online, accepts automatically
)
