package apiserver

import (
	"net/http"
	"strconv"
	"time"
)

// kfBody is the JSON body of the kf account and session APIs.
type kfBody struct {
	KfAccount string `json:"kf_account"`
	Nickname  string `json:"nickname"`
	InviteWX  string `json:"invite_wx"`
	OpenID    string `json:"openid"`
}

// kfRequest decodes the body of a kf account or session API (protocol §9).
func (c *call) kfRequest() (kfBody, error) {
	var b kfBody
	err := c.decode(&b)
	return b, err
}

// addKfAccount serves POST /customservice/kfaccount/add (protocol §5.1).
func addKfAccount(c *call) (any, error) {
	b, err := c.kfRequest()
	if err != nil {
		return nil, err
	}
	if _, err := c.s.p.KFAddAccount(c.ctx, c.app, b.KfAccount, b.Nickname); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// updateKfAccount serves POST /customservice/kfaccount/update.
func updateKfAccount(c *call) (any, error) {
	b, err := c.kfRequest()
	if err != nil {
		return nil, err
	}
	if _, err := c.s.p.KFUpdateAccount(c.ctx, c.app, b.KfAccount, b.Nickname); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// deleteKfAccount serves /customservice/kfaccount/del, by GET ?kf_account= (old docs and most
// SDKs) and by POST {"kf_account":…} (new docs) (protocol §5.1, §10.19).
func deleteKfAccount(c *call) (any, error) {
	account := c.query("kf_account")
	if c.r.Method == http.MethodPost && account == "" {
		b, err := c.kfRequest()
		if err != nil {
			return nil, err
		}
		account = b.KfAccount
	}
	if err := c.s.p.KFDeleteAccount(c.ctx, c.app, account); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// inviteKfWorker serves POST /customservice/kfaccount/inviteworker.
func inviteKfWorker(c *call) (any, error) {
	b, err := c.kfRequest()
	if err != nil {
		return nil, err
	}
	if _, err := c.s.p.KFInvite(c.ctx, c.app, b.KfAccount, b.InviteWX); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// uploadKfHeadImg serves POST /customservice/kfaccount/uploadheadimg?kf_account=…, multipart
// with a JPG in part "media".
func uploadKfHeadImg(c *call) (any, error) {
	data, _, present, err := c.mediaPart()
	if err != nil {
		return nil, err
	}
	if err := c.s.p.KFSetHeadImg(c.ctx, c.app, c.query("kf_account"), data, present); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// kfID writes a kf_id as a number, or as a string when configured (protocol §5.1, §10.1).
func (c *call) kfID(id int) any {
	if c.s.p.Config().API.KFIDType == "string" {
		return strconv.Itoa(id)
	}
	return id
}

// getKfList serves GET /cgi-bin/customservice/getkflist.
func getKfList(c *call) (any, error) {
	agents, err := c.s.p.KFAgents(c.app)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, ag := range agents {
		item := map[string]any{"kf_account": ag.Account, "kf_nick": ag.Nickname, "kf_id": c.kfID(ag.ID), "kf_headimgurl": ag.HeadImgURL}
		if ag.WeChat != "" {
			item["kf_wx"] = ag.WeChat
		}
		if ag.InviteStatus != "" {
			item["invite_wx"] = ag.InviteWX
			item["invite_expire_time"] = ag.InviteExpires.Unix()
			item["invite_status"] = ag.InviteStatus
		}
		list = append(list, item)
	}
	return map[string]any{"kf_list": list}, nil
}

// getOnlineKfList serves GET /cgi-bin/customservice/getonlinekflist.
func getOnlineKfList(c *call) (any, error) {
	agents, err := c.s.p.KFAgents(c.app)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, ag := range agents {
		if !ag.Online || ag.WeChat == "" {
			continue
		}
		list = append(list, map[string]any{"kf_account": ag.Account, "status": 1, "kf_id": c.kfID(ag.ID), "accepted_case": ag.Accepted})
	}
	return map[string]any{"kf_online_list": list}, nil
}

// createKfSession serves POST /customservice/kfsession/create (protocol §5.2).
func createKfSession(c *call) (any, error) {
	b, err := c.kfRequest()
	if err != nil {
		return nil, err
	}
	if err := c.s.p.KFCreate(c.ctx, c.app, b.KfAccount, b.OpenID); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// closeKfSession serves POST /customservice/kfsession/close.
func closeKfSession(c *call) (any, error) {
	b, err := c.kfRequest()
	if err != nil {
		return nil, err
	}
	if err := c.s.p.KFClose(c.ctx, c.app, b.KfAccount, b.OpenID); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// getKfSession serves GET /customservice/kfsession/getsession?openid=….
// Deviation: with no session the answer is kf_account "" and createtime 0 (protocol §10.11).
func getKfSession(c *call) (any, error) {
	s, in, err := c.s.p.KFGetSession(c.app, c.query("openid"))
	if err != nil {
		return nil, err
	}
	if !in {
		return withOK(map[string]any{"createtime": 0, "kf_account": ""}), nil
	}
	return withOK(map[string]any{"createtime": s.Created.Unix(), "kf_account": s.Account}), nil
}

// getKfSessionList serves GET /customservice/kfsession/getsessionlist?kf_account=….
func getKfSessionList(c *call) (any, error) {
	sessions, err := c.s.p.KFGetSessionList(c.app, c.query("kf_account"))
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, s := range sessions {
		list = append(list, map[string]any{"createtime": s.Created.Unix(), "openid": s.OpenID})
	}
	return withOK(map[string]any{"sessionlist": list}), nil
}

// getKfWaitCase serves GET /customservice/kfsession/getwaitcase: at most 100, earliest first.
func getKfWaitCase(c *call) (any, error) {
	count, waiting := c.s.p.KFWaitCase(c.app.AppID)
	list := []map[string]any{}
	for _, w := range waiting {
		list = append(list, map[string]any{"latest_time": w.Latest.Unix(), "openid": w.OpenID})
	}
	return withOK(map[string]any{"count": count, "waitcaselist": list}), nil
}

// getKfMsgList serves POST /customservice/msgrecord/getmsglist (protocol §5.3).
func getKfMsgList(c *call) (any, error) {
	var req struct {
		StartTime int64 `json:"starttime"`
		EndTime   int64 `json:"endtime"`
		MsgID     int64 `json:"msgid"`
		Number    int   `json:"number"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	list, next, err := c.s.p.KFRecords(c.app, time.Unix(req.StartTime, 0), time.Unix(req.EndTime, 0), req.MsgID, req.Number)
	if err != nil {
		return nil, err
	}
	records := []map[string]any{}
	for _, r := range list {
		records = append(records, map[string]any{"openid": r.OpenID, "opercode": r.Opercode, "text": r.Text, "time": r.Time.Unix(), "worker": r.Worker})
	}
	return map[string]any{"recordlist": records, "number": len(records), "msgid": next}, nil
}

// withOK adds errcode 0 and errmsg ok beside a list, which some SDKs check for (protocol §5:
// including both is harmless).
func withOK(v map[string]any) map[string]any {
	v["errcode"] = 0
	v["errmsg"] = "ok"
	return v
}
