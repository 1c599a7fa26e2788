package apiserver

import "github.com/wxemu/wxemu/emulator/platform"

// tokenBody is the success answer of both token APIs: no errcode, as WeChat sends it.
type tokenBody struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// getToken serves GET /cgi-bin/token (protocol §4.3).
func getToken(c *call) (any, error) {
	tk, err := c.s.p.IssueToken(c.ctx, c.query("grant_type"), c.query("appid"), c.query("secret"))
	if err != nil {
		return nil, err
	}
	return tokenAnswer(c, tk), nil
}

// getStableToken serves POST /cgi-bin/stable_token (protocol §4.3).
func getStableToken(c *call) (any, error) {
	var req platform.StableTokenRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	tk, err := c.s.p.StableToken(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return tokenAnswer(c, tk), nil
}

func tokenAnswer(c *call, tk platform.Token) tokenBody {
	return tokenBody{AccessToken: tk.Value, ExpiresIn: c.s.p.TokenExpiresIn(tk)}
}
