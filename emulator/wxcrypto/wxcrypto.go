// Package wxcrypto is WeChat's message security: the signature, msg_signature, the WXBizMsgCrypt
// AES scheme and the XML/JSON envelopes (protocol §1.2, §1.5, §1.6). Of the project it
// imports only the leaf textenc, which escapes strings.
package wxcrypto

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
)

// Every error this package returns wraps exactly one of these, so callers can map a failure to a
// WXBizMsgCrypt code or a journal entry with errors.Is.
var (
	// ErrAESKey means the EncodingAESKey is not 43 characters of standard base64.
	ErrAESKey = errors.New("bad EncodingAESKey")
	// ErrBase64 means the Encrypt field is not standard base64.
	ErrBase64 = errors.New("bad base64")
	// ErrCiphertext means the decoded Encrypt is empty or not a whole number of AES blocks.
	ErrCiphertext = errors.New("bad ciphertext length")
	// ErrPadding means the PKCS#7 padding (block size 32) is malformed. Because the padding is the
	// first thing a wrong key garbles, this is what decrypting with someone else's key gives.
	ErrPadding = errors.New("bad padding (is the EncodingAESKey right?)")
	// ErrPlaintext means the decrypted bytes do not hold random16 ‖ msg_len ‖ msg.
	ErrPlaintext = errors.New("bad plaintext layout")
	// ErrAppID means the appid after the message is not the Cipher's.
	ErrAppID = errors.New("appid mismatch")
	// ErrRandom16 means Encrypt was given a random prefix that is not 16 bytes.
	ErrRandom16 = errors.New("bad random16")
)

// Signature is sha1 over the sorted, concatenated token, timestamp and nonce, in lowercase hex.
func Signature(token, timestamp, nonce string) string {
	parts := [4]string{token, timestamp, nonce}
	sum := sortedSum(&parts, 3)
	return hexString(&sum)
}

// MsgSignature is sha1 over the sorted, concatenated token, timestamp, nonce and Encrypt.
func MsgSignature(token, timestamp, nonce, encrypt string) string {
	parts := [4]string{token, timestamp, nonce, encrypt}
	sum := sortedSum(&parts, 4)
	return hexString(&sum)
}

// VerifySignature reports whether signature is Signature(token, timestamp, nonce). The comparison
// takes the same time wherever the first differing byte is, so a caller probing the emulator
// learns nothing from timing. Only lowercase hex matches: it is what WeChat sends and what the
// SDKs compare against.
func VerifySignature(token, timestamp, nonce, signature string) bool {
	parts := [4]string{token, timestamp, nonce}
	sum := sortedSum(&parts, 3)
	return hexEqual(&sum, signature)
}

// VerifyMsgSignature reports whether msgSignature is MsgSignature(token, timestamp, nonce,
// encrypt), comparing in constant time like VerifySignature.
func VerifyMsgSignature(token, timestamp, nonce, encrypt, msgSignature string) bool {
	parts := [4]string{token, timestamp, nonce, encrypt}
	sum := sortedSum(&parts, 4)
	return hexEqual(&sum, msgSignature)
}

// sortedSum sorts the first n parts byte-wise (PHP sort(SORT_STRING) and Go's < agree on this) and
// hashes their concatenation. The parts are copied through a stack buffer because hashing
// string-to-[]byte conversions would allocate on every call, and this runs for every push.
func sortedSum(parts *[4]string, n int) [sha1.Size]byte {
	p := parts[:n]
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j] < p[j-1]; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
	h := sha1.New()
	var chunk [512]byte
	used := 0
	for _, s := range p {
		for len(s) > 0 {
			k := copy(chunk[used:], s)
			used += k
			s = s[k:]
			if used == len(chunk) {
				h.Write(chunk[:])
				used = 0
			}
		}
	}
	h.Write(chunk[:used])
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}

func hexString(sum *[sha1.Size]byte) string {
	var buf [2 * sha1.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

func hexEqual(sum *[sha1.Size]byte, got string) bool {
	if len(got) != 2*sha1.Size {
		return false
	}
	var want [2 * sha1.Size]byte
	hex.Encode(want[:], sum[:])
	var diff byte
	for i := range want {
		diff |= want[i] ^ got[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}
