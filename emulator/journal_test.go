package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/platform"
	"github.com/wxemu/wxemu/emulator/wire"
)

var _ = Describe("The typed journal", func() {
	It("records a send by a Go caller, by an agent and over HTTP as the same kind of entry, once each", func() {
		emu := startWithOABot()
		p := emu.Platform()
		ctx := context.Background()
		oa, _ := p.App("oa")
		alice := config.DemoAliceOA

		in, err := p.UserSends(ctx, "oa", alice, wire.Message{MsgType: "text", Content: "人工 kf2@wxemu_demo"})
		Expect(err).NotTo(HaveOccurred())
		Expect(in.Result.Outcome).To(Equal(platform.Transferred))
		s, ok := p.KFSession(oa.AppID, alice)
		Expect(ok).To(BeTrue(), "kf2 auto-accepts")

		mark := p.LastSeq()
		_, err = p.CustomSend(ctx, oa, []byte(fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":"by go"}}`, alice)))
		Expect(err).NotTo(HaveOccurred())
		_, err = p.AgentReply(ctx, "oa", s.Account, alice, "by the agent")
		Expect(err).NotTo(HaveOccurred())

		resp, err := http.Get(emu.URL() + "/cgi-bin/token?grant_type=client_credential&appid=" + oa.AppID + "&secret=" + oa.Secret)
		Expect(err).NotTo(HaveOccurred())
		var tk struct {
			AccessToken string `json:"access_token"`
		}
		Expect(json.NewDecoder(resp.Body).Decode(&tk)).To(Succeed())
		resp.Body.Close()
		body := fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":"by http"}}`, alice)
		resp, err = http.Post(emu.URL()+"/cgi-bin/message/custom/send?access_token="+tk.AccessToken, "application/json", bytes.NewBufferString(body))
		Expect(err).NotTo(HaveOccurred())
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(string(answer)).To(Equal(`{"errcode":0,"errmsg":"ok"}`))

		var sends []platform.Entry
		for _, e := range p.Journal(platform.JournalFilter{Kind: platform.KindAPI, Since: mark}) {
			if e.API.Path == platform.PathCustomSend {
				sends = append(sends, e)
			}
		}
		Expect(sends).To(HaveLen(3), "each send is journaled once")
		var vias, contents []string
		for _, e := range sends {
			Expect(e.Kind()).To(Equal(platform.KindAPI))
			Expect(e.App).To(Equal(oa.AppID))
			Expect(e.User).To(Equal(alice))
			Expect(e.API.Errcode).To(Equal(0))
			Expect(e.API.Send).NotTo(BeNil(), "the decoded send is attached")
			vias = append(vias, e.API.Via)
			contents = append(contents, e.API.Send.Text.Content)
		}
		Expect(vias).To(Equal([]string{platform.ViaGo, platform.ViaAgent, platform.ViaHTTP}))
		Expect(contents).To(Equal([]string{"by go", "by the agent", "by http"}))
		Expect(sends[0].API.Exchange).To(BeNil())
		Expect(sends[1].API.Send.KfAccount).To(Equal(s.Account))
		Expect(sends[2].API.Exchange).NotTo(BeNil(), "the raw exchange of the HTTP call is attached")
		Expect(sends[2].API.RequestBody).To(Equal(body))
		Expect(sends[2].API.ResponseBody).To(Equal(`{"errcode":0,"errmsg":"ok"}`))

		data, err := json.Marshal(sends[2])
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(And(ContainSubstring(`"kind":"api"`), ContainSubstring(`"via":"http"`), ContainSubstring(`"request_body"`), ContainSubstring(`"msgtype":"text"`)))
		Expect(sends[2].Size()).To(BeNumerically(">", len(body)), "an entry knows its size")
	})
})
