package wxcrypto

import "github.com/wxemu/wxemu/emulator/textenc"

// The envelopes are written by hand rather than with encoding/xml and encoding/json: WeChat puts
// strings in CDATA, which encoding/xml cannot emit for a plain field, it orders the keys as below,
// and these run for every push and reply. Whatever goes in, the result is well-formed: text that
// XML 1.0 or JSON cannot carry becomes U+FFFD.

// AppendRequestXML appends the body of a safe-mode push to an XML developer URL (protocol §1.6):
//
//	<xml><ToUserName><![CDATA[gh_…]]></ToUserName><Encrypt><![CDATA[…]]></Encrypt></xml>
func AppendRequestXML(dst []byte, toUserName, encrypt string) []byte {
	dst = append(dst, "<xml><ToUserName>"...)
	dst = textenc.AppendCDATA(dst, toUserName)
	dst = append(dst, "</ToUserName><Encrypt>"...)
	dst = textenc.AppendCDATA(dst, encrypt)
	return append(dst, "</Encrypt></xml>"...)
}

// AppendRequestJSON appends the body of a safe-mode push to a JSON developer URL (protocol §1.6):
//
//	{"ToUserName":"gh_…","Encrypt":"…"}
func AppendRequestJSON(dst []byte, toUserName, encrypt string) []byte {
	dst = append(dst, `{"ToUserName":`...)
	dst = textenc.AppendJSONStringMinimal(dst, toUserName)
	dst = append(dst, `,"Encrypt":`...)
	dst = textenc.AppendJSONStringMinimal(dst, encrypt)
	return append(dst, '}')
}

// AppendReplyXML appends an encrypted passive reply in XML (protocol §1.6):
//
//	<xml><Encrypt><![CDATA[…]]></Encrypt><MsgSignature><![CDATA[…]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[…]]></Nonce></xml>
func AppendReplyXML(dst []byte, encrypt, msgSignature, timestamp, nonce string) []byte {
	dst = append(dst, "<xml><Encrypt>"...)
	dst = textenc.AppendCDATA(dst, encrypt)
	dst = append(dst, "</Encrypt><MsgSignature>"...)
	dst = textenc.AppendCDATA(dst, msgSignature)
	dst = append(dst, "</MsgSignature><TimeStamp>"...)
	dst = textenc.AppendXMLText(dst, timestamp)
	dst = append(dst, "</TimeStamp><Nonce>"...)
	dst = textenc.AppendCDATA(dst, nonce)
	return append(dst, "</Nonce></xml>"...)
}

// AppendReplyJSON appends an encrypted passive reply in JSON (protocol §1.6):
//
//	{"Encrypt":"…","MsgSignature":"…","TimeStamp":1713424427,"Nonce":"…"}
//
// TimeStamp is a JSON number, as in the official example, whenever timestamp can be written as
// one; anything else (empty, signed, a leading zero) is kept as a string so no input is lost or
// makes invalid JSON.
func AppendReplyJSON(dst []byte, encrypt, msgSignature, timestamp, nonce string) []byte {
	dst = append(dst, `{"Encrypt":`...)
	dst = textenc.AppendJSONStringMinimal(dst, encrypt)
	dst = append(dst, `,"MsgSignature":`...)
	dst = textenc.AppendJSONStringMinimal(dst, msgSignature)
	dst = append(dst, `,"TimeStamp":`...)
	if isJSONUint(timestamp) {
		dst = append(dst, timestamp...)
	} else {
		dst = textenc.AppendJSONStringMinimal(dst, timestamp)
	}
	dst = append(dst, `,"Nonce":`...)
	dst = textenc.AppendJSONStringMinimal(dst, nonce)
	return append(dst, '}')
}

// isJSONUint reports whether s is a JSON number made of digits only. JSON forbids leading zeros,
// so "0123" is not one.
func isJSONUint(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
