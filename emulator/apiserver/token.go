package apiserver

import (
	"encoding/json"

	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// tokenBody is the success answer of both token APIs: no errcode, as WeChat sends it.
type tokenBody struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// getToken serves GET /cgi-bin/token (protocol §4.3).
func getToken(c *call) response {
	tk, err := c.s.p.IssueToken(c.query("grant_type"), c.query("appid"), c.query("secret"))
	if err != nil {
		return c.s.fromError(err)
	}
	return tokenResponse(c, tk)
}

// getStableToken serves POST /cgi-bin/stable_token (protocol §4.3).
func getStableToken(c *call) response {
	if len(c.body) == 0 {
		return c.s.apiError(wire.CodeEmptyPostData, "the body is empty; send {\"grant_type\":\"client_credential\",\"appid\":…,\"secret\":…}")
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return c.s.apiError(wire.CodeDataFormatError, "the body is not the stable_token JSON: "+err.Error())
	}
	tk, err := c.s.p.StableToken(req.GrantType, req.AppID, req.Secret, req.ForceRefresh)
	if err != nil {
		return c.s.fromError(err)
	}
	return tokenResponse(c, tk)
}

func tokenResponse(c *call, tk state.Token) response {
	app, _ := c.s.p.App(tk.AppID)
	c.app = app
	return ok(tokenBody{AccessToken: tk.Value, ExpiresIn: tk.ExpiresIn(c.s.p.Now())})
}
