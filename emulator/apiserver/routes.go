package apiserver

import "net/http"

var (
	get     = []string{http.MethodGet}
	post    = []string{http.MethodPost}
	getPost = []string{http.MethodGet, http.MethodPost}
	put     = []string{http.MethodPut}
)

// routes is the one place paths are written down. Tests loop over it.
func (s *Server) routes() []Route {
	return []Route{
		// Access tokens (protocol §4.3).
		{get, "/cgi-bin/token", Public, getToken},
		{post, "/cgi-bin/stable_token", Public, getStableToken},

		// Customer-service messages (protocol §4.1, §4.2).
		{post, "/cgi-bin/message/custom/send", TokenRequired, sendCustomMessage},
		{post, "/cgi-bin/message/custom/typing", TokenRequired, setTyping},
		{post, "/cgi-bin/message/custom/business/typing", TokenRequired, setTyping},

		// Temporary media (protocol §4.4).
		{post, "/cgi-bin/media/upload", TokenRequired, uploadMedia},
		{get, "/cgi-bin/media/get", TokenRequired, getMedia},

		// Customer-service accounts, sessions and records (protocol §5).
		{post, "/customservice/kfaccount/add", TokenRequired, addKfAccount},
		{post, "/customservice/kfaccount/update", TokenRequired, updateKfAccount},
		{getPost, "/customservice/kfaccount/del", TokenRequired, deleteKfAccount},
		{post, "/customservice/kfaccount/inviteworker", TokenRequired, inviteKfWorker},
		{post, "/customservice/kfaccount/uploadheadimg", TokenRequired, uploadKfHeadImg},
		{get, "/cgi-bin/customservice/getkflist", TokenRequired, getKfList},
		{get, "/cgi-bin/customservice/getonlinekflist", TokenRequired, getOnlineKfList},
		{post, "/customservice/kfsession/create", TokenRequired, createKfSession},
		{post, "/customservice/kfsession/close", TokenRequired, closeKfSession},
		{get, "/customservice/kfsession/getsession", TokenRequired, getKfSession},
		{get, "/customservice/kfsession/getsessionlist", TokenRequired, getKfSessionList},
		{get, "/customservice/kfsession/getwaitcase", TokenRequired, getKfWaitCase},
		{post, "/customservice/msgrecord/getmsglist", TokenRequired, getKfMsgList},

		// The control plane.
		{get, "/_emu/v1/routes", Control, listRoutes},
		{get, "/_emu/v1/apps", Control, listApps},
		{get, "/_emu/v1/users", Control, listUsers},
		{post, "/_emu/v1/users/{openid}/send", Control, userSends},
		{post, "/_emu/v1/users/{openid}/trigger", Control, userTriggers},
		{get, "/_emu/v1/users/{openid}/transcript", Control, userTranscript},
		{get, "/_emu/v1/users/{openid}/grants", Control, userGrants},
		{get, "/_emu/v1/media/{id}", Control, downloadMedia},
		{get, "/_emu/v1/agents", Control, listAgents},
		{get, "/_emu/v1/agents/{account}/inbox", Control, agentInbox},
		{post, "/_emu/v1/agents/{account}/accept", Control, agentAccept},
		{post, "/_emu/v1/agents/{account}/reply", Control, agentReply},
		{post, "/_emu/v1/agents/{account}/close", Control, agentClose},
		{post, "/_emu/v1/agents/{account}/switch", Control, agentSwitch},
		{post, "/_emu/v1/agents/{account}/status", Control, agentStatus},
		{post, "/_emu/v1/agents/{account}/invitation", Control, agentInvitation},
		{get, "/_emu/v1/queue", Control, kfQueue},
		{get, "/_emu/v1/clock", Control, getClock},
		{post, "/_emu/v1/clock/advance", Control, advanceClock},
		{get, "/_emu/v1/journal", Control, listJournal},
		{get, "/_emu/v1/journal/stream", Control, streamJournal},
		{post, "/_emu/v1/reset", Control, reset},
		{get, "/_emu/v1/state", Control, exportState},
		{put, "/_emu/v1/state", Control, importState},
	}
}

// Routes lists the routing table: method(s), path and access of every route.
func (s *Server) Routes() []Route { return s.routes() }
