package apiserver

// sendCustomMessage serves POST /cgi-bin/message/custom/send (protocol §4.1, §6).
func sendCustomMessage(c *call) (any, error) {
	if _, err := c.s.p.CustomSend(c.ctx, c.app, c.body); err != nil {
		return nil, err
	}
	return okBody(), nil
}

// setTyping serves POST /cgi-bin/message/custom/typing and /business/typing (protocol §4.2).
func setTyping(c *call) (any, error) {
	if _, err := c.s.p.Typing(c.ctx, c.app, c.body); err != nil {
		return nil, err
	}
	return okBody(), nil
}
