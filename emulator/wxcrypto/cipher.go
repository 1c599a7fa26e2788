package wxcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

const (
	// keyChars is the length of an EncodingAESKey: 32 bytes in base64 without its one '='.
	keyChars = 43
	// padBlock is the PKCS#7 block size WXBizMsgCrypt pads to. It is not AES's 16: the official
	// samples chose 32, and every SDK followed (protocol §1.5 step 3).
	padBlock = 32
	// headerLen is random16 ‖ msg_len.
	headerLen = 16 + 4
)

// Cipher encrypts and decrypts for one app. It is safe for concurrent use: apart from a pool of
// scratch buffers it holds only the expanded key, the IV and the appid, none of which change after
// NewCipher.
type Cipher struct {
	block      cipher.Block
	iv         [aes.BlockSize]byte
	appID      string
	appIDBytes []byte // appID, converted once so Encrypt does not convert it on every call

	scratch sync.Pool // of *[encChunk]byte, Encrypt's working buffers
}

// NewCipher checks the 43-character EncodingAESKey and returns a Cipher for appID.
func NewCipher(encodingAESKey, appID string) (*Cipher, error) {
	if len(encodingAESKey) != keyChars {
		if n := utf8.RuneCountInString(encodingAESKey); n != keyChars {
			return nil, fmt.Errorf("new cipher: EncodingAESKey has %d characters, want %d: %w", n, keyChars, ErrAESKey)
		}
		return nil, fmt.Errorf("new cipher: EncodingAESKey has characters outside base64: %w", ErrAESKey)
	}
	// The appended '=' makes 44 characters, a whole base64 quantum. The decoder is deliberately
	// lenient about the two unused bits of the last character, as the SDKs are: vector C's key
	// (protocol §1.7) has them set. key has room for 33 bytes because DecodedLen(44) ignores the '='.
	var key [33]byte
	n, err := base64.StdEncoding.Decode(key[:], []byte(encodingAESKey+"="))
	if err != nil {
		return nil, fmt.Errorf("new cipher: EncodingAESKey is not base64 (%v): %w", err, ErrAESKey)
	}
	if n != 32 {
		// A key that already ends in '=' gets a second one and decodes short.
		return nil, fmt.Errorf("new cipher: EncodingAESKey decodes to %d bytes, want 32: %w", n, ErrAESKey)
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		// Unreachable: any 32-byte key is valid for AES-256.
		return nil, fmt.Errorf("new cipher: %v: %w", err, ErrAESKey)
	}
	c := &Cipher{block: block, appID: appID, appIDBytes: []byte(appID)}
	copy(c.iv[:], key[:aes.BlockSize])
	return c, nil
}

// AppID is the appid this Cipher appends when encrypting and expects when decrypting.
func (c *Cipher) AppID() string { return c.appID }

// encChunk is how much plaintext Encrypt handles at a time: a whole number of AES blocks and of
// 3-byte base64 groups, so only the final chunk can need base64 padding.
const encChunk = 24 * aes.BlockSize

// Encrypt returns base64(AES-256-CBC(random16 ‖ len(msg) ‖ msg ‖ appid, PKCS#7/32)).
// random16 must be 16 bytes.
//
// The plaintext is never assembled whole: it is laid out a chunk at a time in a pooled buffer,
// encrypted there and base64-encoded straight into the result, so for a message of any size the
// returned string is the only allocation.
func (c *Cipher) Encrypt(random16, msg []byte) (string, error) {
	if len(random16) != 16 {
		return "", fmt.Errorf("encrypt: random16 is %d bytes, want 16: %w", len(random16), ErrRandom16)
	}
	if uint64(len(msg)) > math.MaxUint32 {
		return "", fmt.Errorf("encrypt: message of %d bytes does not fit msg_len: %w", len(msg), ErrPlaintext)
	}
	msgLen := uint32(len(msg))
	appID := c.appIDBytes
	total := headerLen + len(msg) + len(appID)
	pad := padBlock - total%padBlock
	total += pad

	// The AES block is behind an interface, so any buffer handed to it escapes: a stack array
	// would be heap-allocated on every call anyway, and the pool makes that once per P instead.
	chunk, _ := c.scratch.Get().(*[encChunk]byte)
	if chunk == nil {
		chunk = new([encChunk]byte)
	}
	defer c.scratch.Put(chunk)

	var out strings.Builder
	out.Grow(base64.StdEncoding.EncodedLen(total))
	var encoded [encChunk / 3 * 4]byte
	prev := c.iv
	for done := 0; done < total; {
		buf := chunk[:min(encChunk, total-done)]
		k := 0
		if done == 0 {
			copy(buf, random16)
			binary.BigEndian.PutUint32(buf[16:], msgLen)
			k = headerLen
		}
		m := copy(buf[k:], msg)
		msg, k = msg[m:], k+m
		m = copy(buf[k:], appID)
		appID, k = appID[m:], k+m
		for ; k < len(buf); k++ {
			buf[k] = byte(pad)
		}

		for off := 0; off < len(buf); off += aes.BlockSize {
			blk := buf[off : off+aes.BlockSize]
			subtle.XORBytes(blk, blk, prev[:])
			c.block.Encrypt(blk, blk)
			copy(prev[:], blk)
		}
		n := base64.StdEncoding.EncodedLen(len(buf))
		base64.StdEncoding.Encode(encoded[:n], buf)
		out.Write(encoded[:n])
		done += len(buf)
	}
	return out.String(), nil
}

// Decrypt reverses Encrypt and returns msg and the appid found after it. It returns an error
// wrapping ErrAppID (with the appid found) when the appid is not this Cipher's; msg and the appid
// found are returned with that error too, because a message encrypted for the wrong app is worth
// showing to whoever debugs it.
//
// The result shares the one buffer Decrypt allocates for the decoded bytes; msg's capacity ends
// where msg does, so appending to it cannot overwrite anything.
func (c *Cipher) Decrypt(encrypt string) (msg []byte, appID string, err error) {
	buf, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, "", fmt.Errorf("decrypt: Encrypt is not base64 (%v): %w", err, ErrBase64)
	}
	if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, "", fmt.Errorf("decrypt: ciphertext is %d bytes, want a positive multiple of %d: %w",
			len(buf), aes.BlockSize, ErrCiphertext)
	}
	c.decryptCBC(buf)

	pad := int(buf[len(buf)-1])
	if pad < 1 || pad > padBlock {
		return nil, "", fmt.Errorf("decrypt: pad byte %d is outside 1..%d: %w", pad, padBlock, ErrPadding)
	}
	if pad > len(buf) {
		return nil, "", fmt.Errorf("decrypt: pad byte %d is more than the %d-byte plaintext: %w", pad, len(buf), ErrPadding)
	}
	for i, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, "", fmt.Errorf("decrypt: the last byte says %d bytes of padding, but byte %d from the end is %d: %w",
				pad, pad-i, b, ErrPadding)
		}
	}
	plain := buf[:len(buf)-pad]
	if len(plain) < headerLen {
		return nil, "", fmt.Errorf("decrypt: plaintext is %d bytes, too short for random16 and msg_len (%d): %w",
			len(plain), headerLen, ErrPlaintext)
	}
	n := binary.BigEndian.Uint32(plain[16:headerLen])
	rest := plain[headerLen:]
	if uint64(n) > uint64(len(rest)) {
		return nil, "", fmt.Errorf("decrypt: msg_len %d is more than the %d bytes after it: %w", n, len(rest), ErrPlaintext)
	}
	msg = rest[:n:n]
	if found := rest[n:]; string(found) != c.appID {
		appID = string(found)
		return msg, appID, fmt.Errorf("decrypt: message is for appid %q, this cipher is for %q: %w", appID, c.appID, ErrAppID)
	}
	return msg, c.appID, nil
}

// decryptCBC decrypts buf in place. Going from the last block to the first leaves each block's
// predecessor still ciphertext when it is needed, so no copy of the ciphertext is kept.
func (c *Cipher) decryptCBC(buf []byte) {
	for off := len(buf) - aes.BlockSize; off >= 0; off -= aes.BlockSize {
		blk := buf[off : off+aes.BlockSize]
		c.block.Decrypt(blk, blk)
		if off == 0 {
			subtle.XORBytes(blk, blk, c.iv[:])
		} else {
			subtle.XORBytes(blk, blk, buf[off-aes.BlockSize:off])
		}
	}
}
