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
		{get, "/cgi-bin/token", Public, NoBody, getToken},
		{post, "/cgi-bin/stable_token", Public, JSONBody, getStableToken},

		// Customer-service messages (protocol §4.1, §4.2).
		{post, "/cgi-bin/message/custom/send", TokenRequired, JSONBody, sendCustomMessage},
		{post, "/cgi-bin/message/custom/typing", TokenRequired, JSONBody, setTyping},
		{post, "/cgi-bin/message/custom/business/typing", TokenRequired, JSONBody, setTyping},

		// Temporary media (protocol §4.4).
		{post, "/cgi-bin/media/upload", TokenRequired, MultipartBody, uploadMedia},
		{get, "/cgi-bin/media/get", TokenRequired, NoBody, getMedia},

		// Customer-service accounts, sessions and records (protocol §5).
		{post, "/customservice/kfaccount/add", TokenRequired, JSONBody, addKfAccount},
		{post, "/customservice/kfaccount/update", TokenRequired, JSONBody, updateKfAccount},
		{getPost, "/customservice/kfaccount/del", TokenRequired, JSONBody, deleteKfAccount},
		{post, "/customservice/kfaccount/inviteworker", TokenRequired, JSONBody, inviteKfWorker},
		{post, "/customservice/kfaccount/uploadheadimg", TokenRequired, MultipartBody, uploadKfHeadImg},
		{get, "/cgi-bin/customservice/getkflist", TokenRequired, NoBody, getKfList},
		{get, "/cgi-bin/customservice/getonlinekflist", TokenRequired, NoBody, getOnlineKfList},
		{post, "/customservice/kfsession/create", TokenRequired, JSONBody, createKfSession},
		{post, "/customservice/kfsession/close", TokenRequired, JSONBody, closeKfSession},
		{get, "/customservice/kfsession/getsession", TokenRequired, NoBody, getKfSession},
		{get, "/customservice/kfsession/getsessionlist", TokenRequired, NoBody, getKfSessionList},
		{get, "/customservice/kfsession/getwaitcase", TokenRequired, NoBody, getKfWaitCase},
		{post, "/customservice/msgrecord/getmsglist", TokenRequired, JSONBody, getKfMsgList},

		// The control plane.
		{get, "/_emu/v1/routes", Control, NoBody, listRoutes},
		{get, "/_emu/v1/apps", Control, NoBody, listApps},
		{post, "/_emu/v1/apps/{app}/tokens/expire", Control, NoBody, expireTokens},
		{post, "/_emu/v1/apps/{app}/tokens/revoke", Control, NoBody, revokeTokens},
		{get, "/_emu/v1/users", Control, NoBody, listUsers},
		{post, "/_emu/v1/users/{openid}/send", Control, JSONBody, userSends},
		{post, "/_emu/v1/users/{openid}/trigger", Control, JSONBody, userTriggers},
		{get, "/_emu/v1/users/{openid}/transcript", Control, NoBody, userTranscript},
		{get, "/_emu/v1/users/{openid}/grants", Control, NoBody, userGrants},
		{get, "/_emu/v1/media/{id}", Control, NoBody, downloadMedia},
		{get, "/_emu/v1/agents", Control, NoBody, listAgents},
		{get, "/_emu/v1/agents/{account}/inbox", Control, NoBody, agentInbox},
		{post, "/_emu/v1/agents/{account}/accept", Control, JSONBody, agentAccept},
		{post, "/_emu/v1/agents/{account}/reply", Control, JSONBody, agentReply},
		{post, "/_emu/v1/agents/{account}/close", Control, JSONBody, agentClose},
		{post, "/_emu/v1/agents/{account}/switch", Control, JSONBody, agentSwitch},
		{post, "/_emu/v1/agents/{account}/status", Control, JSONBody, agentStatus},
		{post, "/_emu/v1/agents/{account}/invitation", Control, JSONBody, agentInvitation},
		{get, "/_emu/v1/queue", Control, NoBody, kfQueue},
		{get, "/_emu/v1/clock", Control, NoBody, getClock},
		{post, "/_emu/v1/clock/advance", Control, JSONBody, advanceClock},
		{get, "/_emu/v1/journal", Control, NoBody, listJournal},
		{get, "/_emu/v1/journal/stream", Control, NoBody, streamJournal},
		{post, "/_emu/v1/reset", Control, NoBody, reset},
		{get, "/_emu/v1/state", Control, NoBody, exportState},
		{put, "/_emu/v1/state", Control, StateBody, importState},
		{get, "/_emu/v1/recording", Control, NoBody, recordingStatus},
		{post, "/_emu/v1/recording/start", Control, JSONBody, startRecording},
		{post, "/_emu/v1/recording/stop", Control, NoBody, stopRecording},
		{post, "/_emu/v1/faults", Control, JSONBody, addFaults},
		{get, "/_emu/v1/faults", Control, NoBody, listFaults},
		{del, "/_emu/v1/faults", Control, NoBody, clearFaults},
		{del, "/_emu/v1/faults/{id}", Control, NoBody, deleteFault},

		// The control plane's routes for the web console (console.go serves its files).
		{get, "/_emu/v1/journal/{seq}", Control, NoBody, journalEntry},
		{post, "/_emu/v1/journal/{seq}/replay", Control, NoBody, replayEntry},
		{post, "/_emu/v1/journal/{seq}/resend", Control, JSONBody, resendEntry},
		{get, "/_emu/v1/expiries", Control, NoBody, listExpiries},
		{post, "/_emu/v1/clock/next", Control, NoBody, advanceToExpiry},
		{get, "/_emu/v1/apps/{app}/tokens", Control, NoBody, appTokens},
		{get, "/_emu/v1/apps/{app}/media", Control, NoBody, appMedia},
		{get, "/_emu/v1/errcodes", Control, NoBody, listErrcodes},
		{get, "/_emu/v1/rules", Control, NoBody, listRules},
	}
}

// Routes lists the routing table: method(s), path, access and body of every route.
func (s *Server) Routes() []Route { return s.routes() }
