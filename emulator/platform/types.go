package platform

import (
	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/push"
	"github.com/wxemu/wxemu/emulator/rules"
	"github.com/wxemu/wxemu/emulator/state"
)

// The values the platform hands out. They are the state package's and the journal's own types,
// named here so that callers (the API server, the harness) need no package but this one: the
// stores behind them are the platform's alone, and every value returned is a copy.
type (
	// User is a user of one app, as WeChat knows them.
	User = state.User
	// Grant is an open window for customer-service messages, with what is left of its quota.
	Grant = state.Grant
	// Line is one line of a user's transcript: what the person on the phone saw or did.
	Line = state.Line
	// Token is an access_token.
	Token = state.Token
	// Media is a temporary media file.
	Media = state.Media
	// Agent is a kf account and the person behind it.
	Agent = state.Agent
	// Session is a user served by an agent.
	Session = state.Session
	// Waiting is a user transferred to customer service and not yet accepted.
	Waiting = state.Waiting
	// KFRecord is one line of getmsglist.
	KFRecord = state.Record
	// KFEvent is a change of a user's kf state, with its cause.
	KFEvent = state.KFEvent
	// CustomSend is a customer-service message that passed the schema.
	CustomSend = rules.CustomSend
	// Typing is a typing command that passed the schema.
	Typing = rules.Typing
	// Outcome is what came of a push: nothing shown, a reply, a transfer or a failure.
	Outcome = push.Outcome
	// PushResult is a push to the bot: attempts, answer and verdict.
	PushResult = push.Result
	// Tamper spoils a push's signatures, for the signature probe.
	Tamper = push.Tamper

	// Entry is one record of the journal.
	Entry = journal.Entry
	// JournalFilter selects journal entries.
	JournalFilter = journal.Filter
	// FunctionLog is what a cloud function printed.
	FunctionLog = journal.Log
	// JournalStats says how full the journal is.
	JournalStats = journal.Stats
)

// Who a transcript line comes from, and the kinds of lines.
const (
	FromUser   = state.FromUser
	FromBot    = state.FromBot
	FromAgent  = state.FromAgent
	FromSystem = state.FromSystem

	LineMessage = state.LineMessage
	LineEvent   = state.LineEvent
	LineReply   = state.LineReply
	LineCustom  = state.LineCustom
	LineSystem  = state.LineSystem
	LineFault   = state.LineFault
)

// The outcomes of a push.
const (
	None        = push.None
	Replied     = push.Replied
	Transferred = push.Transferred
	Failed      = push.Failed
)

// Kinds of journal entries.
const (
	KindPush    = journal.KindPush
	KindAPI     = journal.KindAPI
	KindKF      = journal.KindKF
	KindState   = journal.KindState
	KindControl = journal.KindControl
	KindUnknown = journal.KindUnknown
	KindLog     = journal.KindLog
)
