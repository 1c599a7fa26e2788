package platform

import (
	"github.com/tidwall/gjson"

	"github.com/wxemu/wxemu/emulator/state"
	"github.com/wxemu/wxemu/emulator/wire"
)

// SendRecord is one call of /cgi-bin/message/custom/send for a user, as the journal holds it:
// what the bot tried to send and the errcode WeChat answered.
type SendRecord struct {
	Seq       uint64 `json:"seq"`
	MsgType   string `json:"msgtype"`
	Content   string `json:"content,omitempty"` // text.content of a text message
	KfAccount string `json:"kf_account,omitempty"`
	Errcode   int    `json:"errcode"`
	Errmsg    string `json:"errmsg"`
	Detail    string `json:"detail,omitempty"`
	Body      string `json:"body"`
}

// LastSeq is the sequence number of the newest journal entry: mark it before an action to find
// what the action caused.
func (p *Platform) LastSeq() uint64 {
	_, _, last, _ := p.Journal.Stats()
	return last
}

// SendsSince lists the customer-service sends of app to openid journaled after seq, in order,
// including those WeChat refused.
func (p *Platform) SendsSince(appID, openid string, seq uint64) []SendRecord {
	var out []SendRecord
	for _, e := range p.Journal.List(state.JournalFilter{App: appID, User: openid, Kind: state.EntryAPI, Since: seq}) {
		call, ok := e.Data.(*state.APICall)
		if !ok || call.Path != "/cgi-bin/message/custom/send" {
			continue
		}
		body := gjson.Parse(call.RequestBody)
		msg, _ := wire.Errmsg(call.Errcode)
		out = append(out, SendRecord{
			Seq:       e.Seq,
			MsgType:   body.Get("msgtype").String(),
			Content:   body.Get("text.content").String(),
			KfAccount: body.Get("customservice.kf_account").String(),
			Errcode:   call.Errcode,
			Errmsg:    msg,
			Detail:    call.Detail,
			Body:      call.RequestBody,
		})
	}
	return out
}

// PushesSince lists the push results journaled for a user after seq: what the bot received.
func (p *Platform) PushesSince(appID, openid string, seq uint64) []state.Entry {
	return p.Journal.List(state.JournalFilter{App: appID, User: openid, Kind: state.EntryPush, Since: seq})
}
