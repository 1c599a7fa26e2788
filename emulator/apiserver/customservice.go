package apiserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wxemu/wxemu/emulator/wire"
)

// kfBody is the JSON body of the kf account and session APIs.
type kfBody struct {
	KfAccount string `json:"kf_account"`
	Nickname  string `json:"nickname"`
	InviteWX  string `json:"invite_wx"`
	OpenID    string `json:"openid"`
}

// kfRequest decodes a kf API body: empty → 44002, not JSON → 47001 (protocol §9).
func (c *call) kfRequest() (kfBody, *response) {
	var b kfBody
	if len(c.body) == 0 {
		r := c.s.apiError(wire.CodeEmptyPostData, "the body is empty")
		return b, &r
	}
	if err := json.Unmarshal(c.body, &b); err != nil {
		r := c.s.apiError(wire.CodeDataFormatError, "the body is not JSON: "+err.Error())
		return b, &r
	}
	return b, nil
}

// kfEnabled answers 65400 for an app that has not enabled the kf function.
func (c *call) kfEnabled() *response {
	if c.app.KFEnabled != nil && !*c.app.KFEnabled {
		r := c.s.apiError(wire.CodeKfNotEnabled, "app "+c.app.Alias+" has kf_enabled: false in the config")
		return &r
	}
	return nil
}

// missing answers 61451 invalid parameter for a required field the body lacks.
func (c *call) missing(field string) response {
	return c.s.apiError(wire.CodeKfInvalidParameter, field+" is missing")
}

// kfAccountCall is the common shape of the kf account APIs: kf enabled, a JSON body naming a
// kf_account, the change, then the plain success body.
func kfAccountCall(c *call, change func(b kfBody) error) response {
	if r := c.kfEnabled(); r != nil {
		return *r
	}
	b, errRes := c.kfRequest()
	if errRes != nil {
		return *errRes
	}
	if b.KfAccount == "" {
		return c.missing("kf_account")
	}
	if err := change(b); err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}

// addKfAccount serves POST /customservice/kfaccount/add (protocol §5.1).
func addKfAccount(c *call) response {
	return kfAccountCall(c, func(b kfBody) error {
		_, err := c.s.p.KF.AddAccount(c.app.AppID, c.app.WeChatID, b.KfAccount, b.Nickname)
		return err
	})
}

// updateKfAccount serves POST /customservice/kfaccount/update.
func updateKfAccount(c *call) response {
	return kfAccountCall(c, func(b kfBody) error {
		_, err := c.s.p.KF.UpdateAccount(c.app.AppID, b.KfAccount, b.Nickname)
		return err
	})
}

// deleteKfAccount serves /customservice/kfaccount/del, by GET ?kf_account= (old docs and most
// SDKs) and by POST {"kf_account":…} (new docs) (protocol §5.1, §10.19).
func deleteKfAccount(c *call) response {
	if r := c.kfEnabled(); r != nil {
		return *r
	}
	account := c.query("kf_account")
	if c.r.Method == http.MethodPost && account == "" {
		b, errRes := c.kfRequest()
		if errRes != nil {
			return *errRes
		}
		account = b.KfAccount
	}
	if account == "" {
		return c.missing("kf_account")
	}
	events, err := c.s.p.KF.DeleteAccount(c.app.AppID, account, c.s.p.Now())
	c.s.p.ApplyKF(c.r.Context(), c.app, events)
	if err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}

// inviteKfWorker serves POST /customservice/kfaccount/inviteworker.
func inviteKfWorker(c *call) response {
	return kfAccountCall(c, func(b kfBody) error {
		_, err := c.s.p.KF.Invite(c.app.AppID, b.KfAccount, b.InviteWX, c.s.p.Now())
		return err
	})
}

// uploadKfHeadImg serves POST /customservice/kfaccount/uploadheadimg?kf_account=…, multipart
// with a JPG in part "media".
func uploadKfHeadImg(c *call) response {
	if r := c.kfEnabled(); r != nil {
		return *r
	}
	account := c.query("kf_account")
	if account == "" {
		return c.missing("kf_account")
	}
	if _, ok := c.s.p.KF.Agent(c.app.AppID, account, c.s.p.Now()); !ok {
		return c.s.apiError(wire.CodeKfAccountInvalid, "no kf account "+account)
	}
	if !isMultipart(c.r) {
		return c.s.apiError(wire.CodeMediaDataMissing, "the body is not multipart/form-data with a part named media")
	}
	if err := c.r.ParseMultipartForm(maxUploadBody); err != nil {
		return c.s.apiError(wire.CodeMediaDataMissing, "multipart body: "+err.Error())
	}
	file, _, err := c.r.FormFile("media")
	if err != nil {
		return c.s.apiError(wire.CodeMediaDataMissing, "no part named media")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, 5<<20+1))
	if err != nil {
		return c.s.apiError(wire.CodeMediaDataMissing, "read part media: "+err.Error())
	}
	switch {
	case len(data) == 0:
		return c.s.apiError(wire.CodeEmptyMediaData, "the head image is empty")
	case len(data) > 5<<20:
		return c.s.apiError(wire.CodeMediaSizeLimit, "the head image is larger than 5 MB")
	case len(data) < 3 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff:
		return c.s.apiError(wire.CodeKfInvalidFileType, "the head image must be a JPG")
	}
	// The image itself is not kept: the URL has the shape of WeChat's CDN links.
	url := "http://mmbiz.qpic.cn/mmbiz/wxemu/" + c.app.AppID + "/" + account + "/300?wx_fmt=jpeg"
	if err := c.s.p.KF.SetHeadImg(c.app.AppID, account, url); err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}

// kfID writes a kf_id as a number, or as a string when configured (protocol §5.1, §10.1).
func (c *call) kfID(id int) any {
	if c.s.p.Config().API.KFIDType == "string" {
		return strconv.Itoa(id)
	}
	return id
}

// getKfList serves GET /cgi-bin/customservice/getkflist.
func getKfList(c *call) response {
	if r := c.kfEnabled(); r != nil {
		return *r
	}
	now := c.s.p.Now()
	list := []map[string]any{}
	for _, ag := range c.s.p.KF.Agents(c.app.AppID, now) {
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
	return ok(map[string]any{"kf_list": list})
}

// getOnlineKfList serves GET /cgi-bin/customservice/getonlinekflist.
func getOnlineKfList(c *call) response {
	if r := c.kfEnabled(); r != nil {
		return *r
	}
	list := []map[string]any{}
	for _, ag := range c.s.p.KF.Agents(c.app.AppID, c.s.p.Now()) {
		if !ag.Online || ag.WeChat == "" {
			continue
		}
		list = append(list, map[string]any{"kf_account": ag.Account, "status": 1, "kf_id": c.kfID(ag.ID), "accepted_case": ag.Accepted})
	}
	return ok(map[string]any{"kf_online_list": list})
}

// sessionRequest reads the body of kfsession/create and close.
func (c *call) sessionRequest() (kfBody, *response) {
	b, errRes := c.kfRequest()
	if errRes != nil {
		return b, errRes
	}
	switch {
	case b.KfAccount == "":
		r := c.missing("kf_account")
		return b, &r
	case b.OpenID == "":
		r := c.missing("openid")
		return b, &r
	}
	return b, nil
}

// createKfSession serves POST /customservice/kfsession/create (protocol §5.2).
func createKfSession(c *call) response {
	b, errRes := c.sessionRequest()
	if errRes != nil {
		return *errRes
	}
	if err := c.s.p.KFCreate(c.r.Context(), c.app, b.KfAccount, b.OpenID); err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}

// closeKfSession serves POST /customservice/kfsession/close.
func closeKfSession(c *call) response {
	b, errRes := c.sessionRequest()
	if errRes != nil {
		return *errRes
	}
	if err := c.s.p.KFClose(c.r.Context(), c.app, b.KfAccount, b.OpenID); err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}

// getKfSession serves GET /customservice/kfsession/getsession?openid=….
// Deviation: with no session the answer is kf_account "" and createtime 0 (protocol §10.11).
func getKfSession(c *call) response {
	c.s.p.Tick() // sessions past their 30 minutes end here with their journal entry, not silently
	openid := c.query("openid")
	if openid == "" {
		return c.missing("openid")
	}
	s, ok := c.s.p.KF.Session(c.app.AppID, openid, c.s.p.Now())
	if !ok {
		return ok0(map[string]any{"createtime": 0, "kf_account": ""})
	}
	return ok0(map[string]any{"createtime": s.Created.Unix(), "kf_account": s.Account})
}

// getKfSessionList serves GET /customservice/kfsession/getsessionlist?kf_account=….
func getKfSessionList(c *call) response {
	c.s.p.Tick() // sessions past their 30 minutes end here with their journal entry, not silently
	account := c.query("kf_account")
	if account == "" {
		return c.missing("kf_account")
	}
	if _, ok := c.s.p.KF.Agent(c.app.AppID, account, c.s.p.Now()); !ok {
		return c.s.apiError(wire.CodeKfAccountInvalid, "no kf account "+account)
	}
	list := []map[string]any{}
	for _, s := range c.s.p.KF.Sessions(c.app.AppID, account, c.s.p.Now()) {
		list = append(list, map[string]any{"createtime": s.Created.Unix(), "openid": s.OpenID})
	}
	return ok0(map[string]any{"sessionlist": list})
}

// getKfWaitCase serves GET /customservice/kfsession/getwaitcase: at most 100, earliest first.
func getKfWaitCase(c *call) response {
	c.s.p.Tick() // sessions past their 30 minutes end here with their journal entry, not silently
	count, waiting := c.s.p.KF.WaitCase(c.app.AppID, c.s.p.Now())
	list := []map[string]any{}
	for _, w := range waiting {
		list = append(list, map[string]any{"latest_time": w.Latest.Unix(), "openid": w.OpenID})
	}
	return ok0(map[string]any{"count": count, "waitcaselist": list})
}

// getKfMsgList serves POST /customservice/msgrecord/getmsglist (protocol §5.3).
func getKfMsgList(c *call) response {
	var req struct {
		StartTime int64 `json:"starttime"`
		EndTime   int64 `json:"endtime"`
		MsgID     int64 `json:"msgid"`
		Number    int   `json:"number"`
	}
	if len(c.body) == 0 {
		return c.s.apiError(wire.CodeEmptyPostData, "the body is empty")
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return c.s.apiError(wire.CodeKfParamInvalid, "the body is not the getmsglist JSON: "+err.Error())
	}
	list, next, err := c.s.p.KF.Records(c.app.AppID, time.Unix(req.StartTime, 0), time.Unix(req.EndTime, 0), req.MsgID, req.Number)
	if err != nil {
		return c.s.fromError(err)
	}
	records := []map[string]any{}
	for _, r := range list {
		records = append(records, map[string]any{"openid": r.OpenID, "opercode": r.Opercode, "text": r.Text, "time": r.Time.Unix(), "worker": r.Worker})
	}
	return ok(map[string]any{"recordlist": records, "number": len(records), "msgid": next})
}

// ok0 answers a list with errcode 0 and errmsg ok beside it, which some SDKs check for
// (protocol §5: including both is harmless).
func ok0(v map[string]any) response {
	v["errcode"] = 0
	v["errmsg"] = "ok"
	return ok(v)
}
