// Package wxcrypto is WeChat's message security: the signature, msg_signature, the WXBizMsgCrypt
// AES scheme and the XML/JSON envelopes (protocol §1.2, §1.5, §1.6). It imports nothing of the
// project.
package wxcrypto

// Signature is sha1 over the sorted, concatenated token, timestamp and nonce, in lowercase hex.
func Signature(token, timestamp, nonce string) string { panic("unimplemented") }

// MsgSignature is sha1 over the sorted, concatenated token, timestamp, nonce and Encrypt.
func MsgSignature(token, timestamp, nonce, encrypt string) string { panic("unimplemented") }

// Cipher encrypts and decrypts for one app.
type Cipher struct{}

// NewCipher checks the 43-character EncodingAESKey and returns a Cipher for appID.
func NewCipher(encodingAESKey, appID string) (*Cipher, error) { panic("unimplemented") }

// Encrypt returns base64(AES-256-CBC(random16 ‖ len(msg) ‖ msg ‖ appid, PKCS#7/32)).
// random16 must be 16 bytes.
func (c *Cipher) Encrypt(random16, msg []byte) (string, error) { panic("unimplemented") }

// Decrypt reverses Encrypt and returns msg and the appid found after it. It returns an error
// wrapping ErrAppID (with the appid found) when the appid is not this Cipher's.
func (c *Cipher) Decrypt(encrypt string) (msg []byte, appID string, err error) { panic("unimplemented") }
