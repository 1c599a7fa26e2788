package apiserver

import (
	"github.com/wxemu/wxemu/emulator/platform"
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

// agentRequest reads the body of an agent route (which may be empty when the app is the only
// one and no field is needed) and resolves its app.
func (c *call) agentRequest(needOpenID bool) (agentRequest, *platform.App, error) {
	var req agentRequest
	if len(c.body) > 0 {
		if err := c.decodeControl(&req, `{"app":"oa","openid":"…"}`); err != nil {
			return req, nil, err
		}
	}
	a, err := c.appParam(req.App)
	if err != nil {
		return req, nil, err
	}
	if req.OpenID != "" {
		c.user = req.OpenID
	}
	if needOpenID && req.OpenID == "" {
		return req, nil, platform.BadRequest(`"openid" is missing: the user the agent acts on`)
	}
	return req, a, nil
}

// AgentInfo is an agent as the control API shows it.
type AgentInfo struct {
	platform.Agent
	App      string             `json:"app"`
	Sessions []platform.Session `json:"sessions"`
	Waiting  []platform.Waiting `json:"waiting"` // users assigned to this agent, not yet accepted
}

func agentInfo(c *call, a *platform.App, ag platform.Agent) AgentInfo {
	info := AgentInfo{Agent: ag, App: a.AppID, Sessions: nonNil(c.s.p.KFSessions(a.AppID, ag.Account)), Waiting: []platform.Waiting{}}
	_, waiting := c.s.p.KFWaitCase(a.AppID)
	for _, w := range waiting {
		if w.Account == ag.Account {
			info.Waiting = append(info.Waiting, w)
		}
	}
	return info
}

// listAgents serves GET /_emu/v1/agents?app=…: every agent, its state and sessions.
func listAgents(c *call) (any, error) {
	apps := c.s.p.Apps()
	if key := c.query("app"); key != "" {
		a, err := c.appParam(key)
		if err != nil {
			return nil, err
		}
		apps = []*platform.App{a}
	}
	out := []AgentInfo{}
	for _, a := range apps {
		for _, ag := range c.s.p.Agents(a.AppID) {
			out = append(out, agentInfo(c, a, ag))
		}
	}
	return map[string]any{"agents": out}, nil
}

// agentInbox serves GET /_emu/v1/agents/{account}/inbox?app=…: what the agent received and sent.
func agentInbox(c *call) (any, error) {
	a, err := c.appParam(c.query("app"))
	if err != nil {
		return nil, err
	}
	account := c.pathVar("account")
	ag, found := c.s.p.Agent(a.AppID, account)
	if !found {
		return nil, platform.NotFound("app %s has no kf account %q", a.AppID, account)
	}
	return map[string]any{"agent": agentInfo(c, a, ag), "messages": nonNil(c.s.p.KFRecordsOf(a.AppID, account))}, nil
}

// agentAccept serves POST /_emu/v1/agents/{account}/accept {"app","openid"}.
func agentAccept(c *call) (any, error) {
	req, a, err := c.agentRequest(true)
	if err != nil {
		return nil, err
	}
	if err := c.s.p.AgentAccept(c.ctx, a.AppID, c.pathVar("account"), req.OpenID); err != nil {
		return nil, err
	}
	return sessionAnswer(c, a, req.OpenID), nil
}

// agentReply serves POST /_emu/v1/agents/{account}/reply {"app","openid","text"}: the agent's
// message reaches the user as a customer-service message, within the window and its quota. A
// refusal WeChat's API would give (a closed window, a used-up quota) is the answer, not a
// failure of the call: {"delivered": false, "errcode": …}.
func agentReply(c *call) (any, error) {
	req, a, err := c.agentRequest(true)
	if err != nil {
		return nil, err
	}
	if _, err := c.s.p.AgentReply(c.ctx, a.AppID, c.pathVar("account"), req.OpenID, req.Text); err != nil {
		code, detail, mapped := platform.Answer(err)
		if !mapped {
			return nil, err
		}
		msg, _ := wire.Errmsg(code)
		return map[string]any{"delivered": false, "errcode": code, "errmsg": msg, "detail": detail}, nil
	}
	return map[string]any{"delivered": true, "errcode": 0, "errmsg": "ok"}, nil
}

// agentClose serves POST /_emu/v1/agents/{account}/close {"app","openid"}.
func agentClose(c *call) (any, error) {
	req, a, err := c.agentRequest(true)
	if err != nil {
		return nil, err
	}
	if err := c.s.p.AgentClose(c.ctx, a.AppID, c.pathVar("account"), req.OpenID); err != nil {
		return nil, err
	}
	return sessionAnswer(c, a, req.OpenID), nil
}

// agentSwitch serves POST /_emu/v1/agents/{account}/switch {"app","openid","to"}.
func agentSwitch(c *call) (any, error) {
	req, a, err := c.agentRequest(true)
	if err != nil {
		return nil, err
	}
	if req.To == "" {
		return nil, platform.BadRequest(`"to" is missing: the kf account that takes over`)
	}
	if err := c.s.p.AgentSwitch(c.ctx, a.AppID, c.pathVar("account"), req.To, req.OpenID); err != nil {
		return nil, err
	}
	return sessionAnswer(c, a, req.OpenID), nil
}

// agentStatus serves POST /_emu/v1/agents/{account}/status {"app","online","auto_accept","capacity"}.
func agentStatus(c *call) (any, error) {
	req, a, err := c.agentRequest(false)
	if err != nil {
		return nil, err
	}
	if req.Online == nil && req.AutoAccept == nil && req.Capacity == nil {
		return nil, platform.BadRequest(`give at least one of "online", "auto_accept", "capacity"`)
	}
	ag, err := c.s.p.AgentSet(c.ctx, a.AppID, c.pathVar("account"), platform.AgentStatus{Online: req.Online, AutoAccept: req.AutoAccept, Capacity: req.Capacity})
	if err != nil {
		return nil, err
	}
	return agentInfo(c, a, ag), nil
}

// agentInvitation serves POST /_emu/v1/agents/{account}/invitation {"app","accept":true}: the
// invited personal WeChat confirms (or rejects) the binding of inviteworker.
func agentInvitation(c *call) (any, error) {
	req, a, err := c.agentRequest(false)
	if err != nil {
		return nil, err
	}
	if req.Accept == nil {
		return nil, platform.BadRequest(`"accept" is missing: true to bind, false to reject`)
	}
	ag, err := c.s.p.AgentRespondInvite(a.AppID, c.pathVar("account"), *req.Accept)
	if err != nil {
		return nil, err
	}
	return agentInfo(c, a, ag), nil
}

// kfQueue serves GET /_emu/v1/queue?app=…: the users waiting and the sessions of an app.
func kfQueue(c *call) (any, error) {
	a, err := c.appParam(c.query("app"))
	if err != nil {
		return nil, err
	}
	count, waiting := c.s.p.KFWaitCase(a.AppID)
	sessions := []platform.Session{}
	for _, ag := range c.s.p.Agents(a.AppID) {
		sessions = append(sessions, c.s.p.KFSessions(a.AppID, ag.Account)...)
	}
	return map[string]any{"app": a.AppID, "count": count, "waiting": nonNil(waiting), "sessions": sessions}, nil
}

// sessionAnswer tells the user's session state after an agent action.
func sessionAnswer(c *call, a *platform.App, openid string) map[string]any {
	s, in := c.s.p.KFSession(a.AppID, openid)
	if !in {
		return map[string]any{"openid": openid, "in_session": false}
	}
	return map[string]any{"openid": openid, "in_session": true, "session": s}
}
