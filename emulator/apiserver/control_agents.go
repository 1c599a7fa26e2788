package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// agentRequest is the body of the agent control routes.
type agentRequest struct {
	App        string `json:"app"`
	OpenID     string `json:"openid"`
	Text       string `json:"text"`
	To         string `json:"to"`
	Online     *bool  `json:"online"`
	AutoAccept *bool  `json:"auto_accept"`
	Capacity   *int   `json:"capacity"`
	Accept     *bool  `json:"accept"`
}

func (c *call) agentRequest(needOpenID bool) (agentRequest, *platform.App, *response) {
	var req agentRequest
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &req); err != nil {
			r := controlError(http.StatusBadRequest, "the body is not JSON: %v", err)
			return req, nil, &r
		}
	}
	a, errRes := c.appParam(req.App)
	if errRes != nil {
		return req, nil, errRes
	}
	if needOpenID && req.OpenID == "" {
		r := controlError(http.StatusBadRequest, `"openid" is missing: the user the agent acts on`)
		return req, nil, &r
	}
	c.app = a
	return req, a, nil
}

// kfError answers a kf state error on the control plane: what went wrong, and the errcode the
// same action gets through WeChat's API.
func (c *call) kfError(err error) response {
	code := platform.Code(err)
	switch {
	case errors.Is(err, platform.ErrUnknownApp):
		return controlError(http.StatusNotFound, "%v", err)
	case code == wire.CodeSystemError:
		return controlError(http.StatusConflict, "%v", err)
	}
	msg, _ := wire.Errmsg(code)
	return controlError(http.StatusConflict, "%v (WeChat's API answers %d %s)", err, code, msg)
}

// AgentInfo is an agent as the control API shows it.
type AgentInfo struct {
	state.Agent
	App      string          `json:"app"`
	Sessions []state.Session `json:"sessions"`
	Waiting  []state.Waiting `json:"waiting"` // users assigned to this agent, not yet accepted
}

func agentInfo(c *call, a *platform.App, ag state.Agent) AgentInfo {
	now := c.s.p.Now()
	info := AgentInfo{Agent: ag, App: a.AppID, Sessions: nonNil(c.s.p.KF.Sessions(a.AppID, ag.Account, now)), Waiting: []state.Waiting{}}
	_, waiting := c.s.p.KF.WaitCase(a.AppID, now)
	for _, w := range waiting {
		if w.Account == ag.Account {
			info.Waiting = append(info.Waiting, w)
		}
	}
	return info
}

// listAgents serves GET /_emu/v1/agents?app=…: every agent, its state and sessions.
func listAgents(c *call) response {
	c.s.p.Tick()
	apps := c.s.p.Apps()
	if key := c.query("app"); key != "" {
		a, errRes := c.appParam(key)
		if errRes != nil {
			return *errRes
		}
		apps = []*platform.App{a}
	}
	out := []AgentInfo{}
	for _, a := range apps {
		for _, ag := range c.s.p.KF.Agents(a.AppID, c.s.p.Now()) {
			out = append(out, agentInfo(c, a, ag))
		}
	}
	return ok(map[string]any{"agents": out})
}

// agentInbox serves GET /_emu/v1/agents/{account}/inbox?app=…: what the agent received and sent.
func agentInbox(c *call) response {
	a, errRes := c.appParam(c.query("app"))
	if errRes != nil {
		return *errRes
	}
	account := c.pathVar("account")
	ag, found := c.s.p.KF.Agent(a.AppID, account, c.s.p.Now())
	if !found {
		return controlError(http.StatusNotFound, "app %s has no kf account %q", a.AppID, account)
	}
	return ok(map[string]any{"agent": agentInfo(c, a, ag), "messages": nonNil(c.s.p.KF.RecordsOf(a.AppID, account))})
}

// agentAccept serves POST /_emu/v1/agents/{account}/accept {"app","openid"}.
func agentAccept(c *call) response {
	req, a, errRes := c.agentRequest(true)
	if errRes != nil {
		return *errRes
	}
	if err := c.s.p.AgentAccept(c.r.Context(), a.AppID, c.pathVar("account"), req.OpenID); err != nil {
		return c.kfError(err)
	}
	return sessionAnswer(c, a, req.OpenID)
}

// agentReply serves POST /_emu/v1/agents/{account}/reply {"app","openid","text"}: the agent's
// message reaches the user as a customer-service message, within the window and its quota.
func agentReply(c *call) response {
	req, a, errRes := c.agentRequest(true)
	if errRes != nil {
		return *errRes
	}
	if req.Text == "" {
		return controlError(http.StatusBadRequest, `"text" is missing: what the agent says`)
	}
	if _, err := c.s.p.AgentReply(c.r.Context(), a.AppID, c.pathVar("account"), req.OpenID, req.Text); err != nil {
		var code int
		if code = platform.Code(err); code != wire.CodeSystemError && !errors.Is(err, platform.ErrNotInSession) {
			msg, _ := wire.Errmsg(code)
			return jsonResponse(http.StatusOK, map[string]any{"delivered": false, "errcode": code, "errmsg": msg, "detail": err.Error()})
		}
		return c.kfError(err)
	}
	return ok(map[string]any{"delivered": true, "errcode": 0, "errmsg": "ok"})
}

// agentClose serves POST /_emu/v1/agents/{account}/close {"app","openid"}.
func agentClose(c *call) response {
	req, a, errRes := c.agentRequest(true)
	if errRes != nil {
		return *errRes
	}
	if err := c.s.p.AgentClose(c.r.Context(), a.AppID, c.pathVar("account"), req.OpenID); err != nil {
		return c.kfError(err)
	}
	return sessionAnswer(c, a, req.OpenID)
}

// agentSwitch serves POST /_emu/v1/agents/{account}/switch {"app","openid","to"}.
func agentSwitch(c *call) response {
	req, a, errRes := c.agentRequest(true)
	if errRes != nil {
		return *errRes
	}
	if req.To == "" {
		return controlError(http.StatusBadRequest, `"to" is missing: the kf account that takes over`)
	}
	if err := c.s.p.AgentSwitch(c.r.Context(), a.AppID, c.pathVar("account"), req.To, req.OpenID); err != nil {
		return c.kfError(err)
	}
	return sessionAnswer(c, a, req.OpenID)
}

// agentStatus serves POST /_emu/v1/agents/{account}/status {"app","online","auto_accept","capacity"}.
func agentStatus(c *call) response {
	req, a, errRes := c.agentRequest(false)
	if errRes != nil {
		return *errRes
	}
	if req.Online == nil && req.AutoAccept == nil && req.Capacity == nil {
		return controlError(http.StatusBadRequest, `give at least one of "online", "auto_accept", "capacity"`)
	}
	if req.Capacity != nil && *req.Capacity < 1 {
		return controlError(http.StatusBadRequest, `"capacity" must be at least 1`)
	}
	ag, err := c.s.p.AgentSet(c.r.Context(), a.AppID, c.pathVar("account"), req.Online, req.AutoAccept, req.Capacity)
	if err != nil {
		return c.kfError(err)
	}
	return ok(agentInfo(c, a, ag))
}

// agentInvitation serves POST /_emu/v1/agents/{account}/invitation {"app","accept":true}: the
// invited personal WeChat confirms (or rejects) the binding of inviteworker.
func agentInvitation(c *call) response {
	req, a, errRes := c.agentRequest(false)
	if errRes != nil {
		return *errRes
	}
	if req.Accept == nil {
		return controlError(http.StatusBadRequest, `"accept" is missing: true to bind, false to reject`)
	}
	ag, err := c.s.p.AgentRespondInvite(a.AppID, c.pathVar("account"), *req.Accept)
	if err != nil {
		return c.kfError(err)
	}
	return ok(agentInfo(c, a, ag))
}

// kfQueue serves GET /_emu/v1/queue?app=…: the users waiting and the sessions of an app.
func kfQueue(c *call) response {
	c.s.p.Tick()
	a, errRes := c.appParam(c.query("app"))
	if errRes != nil {
		return *errRes
	}
	now := c.s.p.Now()
	count, waiting := c.s.p.KF.WaitCase(a.AppID, now)
	sessions := []state.Session{}
	for _, ag := range c.s.p.KF.Agents(a.AppID, now) {
		sessions = append(sessions, c.s.p.KF.Sessions(a.AppID, ag.Account, now)...)
	}
	return ok(map[string]any{"app": a.AppID, "count": count, "waiting": nonNil(waiting), "sessions": sessions})
}

// sessionAnswer tells the user's session state after an agent action.
func sessionAnswer(c *call, a *platform.App, openid string) response {
	s, in := c.s.p.KF.Session(a.AppID, openid, c.s.p.Now())
	if !in {
		return ok(map[string]any{"openid": openid, "in_session": false})
	}
	return ok(map[string]any{"openid": openid, "in_session": true, "session": s})
}
