package wire

// The two ways of reading XML, apart, so that the tests can hold them to the same results.

// ParseXMLFast reads the fast way only; ok is false when it gave up or failed.
func ParseXMLFast(body []byte, reply bool) (v any, ok bool) {
	var err error
	if reply {
		v, err = readReplyXML(newFastXMLReader(body))
	} else {
		v, err = readMessageXML(newFastXMLReader(body))
	}
	return v, err == nil
}

// ParseXMLSlow reads with encoding/xml only.
func ParseXMLSlow(body []byte, reply bool) (any, error) {
	if reply {
		return readReplyXML(newXMLReader(body))
	}
	return readMessageXML(newXMLReader(body))
}
