package platform

import "github.com/wxemu/wxemu/emulator/wire"

// KFGetSession is /customservice/kfsession/getsession: the session serving a user, if any. An
// empty openid is 61451 invalid parameter.
func (p *Platform) KFGetSession(app *App, openid string) (Session, bool, error) {
	if err := requireFields("openid", openid); err != nil {
		return Session{}, false, err
	}
	s, ok := p.KFSession(app.AppID, openid)
	return s, ok, nil
}

// KFGetSessionList is /customservice/kfsession/getsessionlist: an agent's sessions, oldest
// first. An empty kf_account is 61451 invalid parameter, an unknown one 65401.
func (p *Platform) KFGetSessionList(app *App, account string) ([]Session, error) {
	if err := requireFields("kf_account", account); err != nil {
		return nil, err
	}
	if _, ok := p.Agent(app.AppID, account); !ok {
		return nil, apiError(wire.CodeKfAccountInvalid, "no kf account %s", account)
	}
	return p.KFSessions(app.AppID, account), nil
}
