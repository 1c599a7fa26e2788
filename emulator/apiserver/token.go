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

// expireTokens serves POST /_emu/v1/apps/{app}/tokens/expire: every valid access_token and
// stable token of the app expires now (the next use answers 42001).
func expireTokens(c *call) (any, error) {
	a, err := c.appParam(c.pathVar("app"))
	if err != nil {
		return nil, err
	}
	n, err := c.s.p.ExpireTokens(a.AppID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"app": a.AppID, "expired": n}, nil
}

// revokeTokens serves POST /_emu/v1/apps/{app}/tokens/revoke: every token of the app is
// forgotten (the next use answers 40001).
func revokeTokens(c *call) (any, error) {
	a, err := c.appParam(c.pathVar("app"))
	if err != nil {
		return nil, err
	}
	n, err := c.s.p.RevokeTokens(a.AppID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"app": a.AppID, "revoked": n}, nil
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

func tokenAnswer(c *call, tk platform.IssuedToken) tokenBody {
	return tokenBody{AccessToken: tk.Value, ExpiresIn: tk.ExpiresIn}
}
