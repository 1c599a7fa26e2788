package wxcrypto_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/wxemu/wxemu/emulator/wxcrypto"
)

var sentinels = []error{
	wxcrypto.ErrAESKey, wxcrypto.ErrBase64, wxcrypto.ErrCiphertext, wxcrypto.ErrPadding,
	wxcrypto.ErrPlaintext, wxcrypto.ErrAppID, wxcrypto.ErrRandom16,
}

type fuzzCipher struct {
	c   *wxcrypto.Cipher
	key []byte
}

// vectorCiphers returns one Cipher per key and appid in the vectors, vector A's first.
func vectorCiphers(tb testing.TB, v vectorFile) []fuzzCipher {
	var out []fuzzCipher
	seen := map[string]bool{}
	for _, m := range v.Messages {
		if seen[m.EncodingAESKey+m.AppID] {
			continue
		}
		seen[m.EncodingAESKey+m.AppID] = true
		c, err := wxcrypto.NewCipher(m.EncodingAESKey, m.AppID)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fuzzCipher{c: c, key: aesKey(m.EncodingAESKey)})
	}
	return out
}

// FuzzDecrypt feeds Decrypt both arbitrary Encrypt text, which mostly exercises base64 and length
// checks, and arbitrary plaintext encrypted under vector A's key, which reaches the padding,
// msg_len and appid checks that random ciphertext almost never gets past.
func FuzzDecrypt(f *testing.F) {
	vectors := loadVectors()
	ciphers := vectorCiphers(f, vectors)
	for _, m := range vectors.Messages {
		raw, err := rawDecrypt(aesKey(m.EncodingAESKey), m.Encrypt)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Encrypt, raw)
	}
	f.Add("", []byte{})
	f.Add("====", bytes.Repeat([]byte{32}, 32))
	f.Add(encryptA[:len(encryptA)-4], plaintext(0xFFFFFFFF, appIDA))

	f.Fuzz(func(t *testing.T, encrypt string, plain []byte) {
		for _, fc := range ciphers {
			checkDecrypt(t, fc, encrypt)
		}
		if n := len(plain) - len(plain)%16; n > 0 {
			checkDecrypt(t, ciphers[0], rawEncrypt(ciphers[0].key, plain[:n]))
		}
	})
}

func checkDecrypt(t *testing.T, fc fuzzCipher, encrypt string) {
	msg, appID, err := fc.c.Decrypt(encrypt)
	if err != nil {
		matched := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				matched++
			}
		}
		if matched != 1 {
			t.Fatalf("Decrypt(%q) error %q wraps %d sentinels, want 1", encrypt, err, matched)
		}
		if errors.Is(err, wxcrypto.ErrAppID) && appID == fc.c.AppID() {
			t.Fatalf("Decrypt(%q) reports an appid mismatch but found the right appid %q", encrypt, appID)
		}
		return
	}
	if appID != fc.c.AppID() {
		t.Fatalf("Decrypt(%q) succeeded with appid %q, want %q", encrypt, appID, fc.c.AppID())
	}

	raw, err := rawDecrypt(fc.key, encrypt)
	if err != nil {
		t.Fatalf("Decrypt(%q) succeeded on what the reference cannot decrypt: %v", encrypt, err)
	}
	again, err := fc.c.Encrypt(raw[:16], msg)
	if err != nil {
		t.Fatalf("re-encrypting %q: %v", msg, err)
	}
	// A sender may pad to 16 rather than 32 or write non-canonical base64; whenever it padded as
	// WeChat does, the re-encryption must be the very same ciphertext.
	orig, _ := base64.StdEncoding.DecodeString(encrypt)
	ct, _ := base64.StdEncoding.DecodeString(again)
	if len(ct) == len(orig) && !bytes.Equal(ct, orig) {
		t.Fatalf("re-encrypting the message from %q gave a different ciphertext %q", encrypt, again)
	}
	back, backAppID, err := fc.c.Decrypt(again)
	if err != nil || !bytes.Equal(back, msg) || backAppID != appID {
		t.Fatalf("round trip of %q: got %q, %q, %v", msg, back, backAppID, err)
	}
}

// FuzzRoundTrip checks Encrypt against the reference and Decrypt against Encrypt, for any message
// and any appid.
func FuzzRoundTrip(f *testing.F) {
	for _, m := range loadVectors().Messages {
		if m.Msg != nil {
			f.Add([]byte(*m.Msg), m.AppID)
		}
	}
	f.Add([]byte{}, "")
	f.Add(bytes.Repeat([]byte{0}, 26), appIDA)
	f.Add([]byte("]]>\x00\xff"), "应用")

	key := aesKey(keyA)
	f.Fuzz(func(t *testing.T, msg []byte, appID string) {
		c, err := wxcrypto.NewCipher(keyA, appID)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(msg)
		random16 := sum[:16]
		encrypt, err := c.Encrypt(random16, msg)
		if err != nil {
			t.Fatal(err)
		}
		if want := refEncrypt(key, random16, msg, appID); encrypt != want {
			t.Fatalf("Encrypt(%q) for appid %q = %q, reference gives %q", msg, appID, encrypt, want)
		}
		got, gotAppID, err := c.Decrypt(encrypt)
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(%q)) for appid %q: %v", msg, appID, err)
		}
		if !bytes.Equal(got, msg) || gotAppID != appID {
			t.Fatalf("Decrypt(Encrypt(%q)) for appid %q = %q, %q", msg, appID, got, gotAppID)
		}
	})
}
