package apiserver

// sendCustomMessage serves POST /cgi-bin/message/custom/send (protocol §4.1, §6).
func sendCustomMessage(c *call) response {
	if _, err := c.s.p.CustomSend(c.app, c.body); err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}

// setTyping serves POST /cgi-bin/message/custom/typing and /business/typing (protocol §4.2).
func setTyping(c *call) response {
	if _, err := c.s.p.Typing(c.app, c.body); err != nil {
		return c.s.fromError(err)
	}
	return okErrcode()
}
