package wxcrypto_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// vectorFile mirrors testdata/vectors.json.
type vectorFile struct {
	Signatures []signatureVector `json:"signatures"`
	Messages   []messageVector   `json:"messages"`
}

type signatureVector struct {
	Name      string `json:"name"`
	Source    string `json:"source"`
	Token     string `json:"token"`
	Timestamp string `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Signature string `json:"signature"`
}

type messageVector struct {
	Name           string            `json:"name"`
	Source         string            `json:"source"`
	Token          string            `json:"token"`
	EncodingAESKey string            `json:"encodingAESKey"`
	AppID          string            `json:"appID"`
	Timestamp      string            `json:"timestamp"`
	Nonce          string            `json:"nonce"`
	Random16       string            `json:"random16"`  // empty when the source does not give it
	MsgLen         int               `json:"msgLen"`    // 0 when the source does not give it
	PlainLen       int               `json:"plainLen"`  // random16 ‖ msg_len ‖ msg ‖ appid, 0 when not given
	CipherLen      int               `json:"cipherLen"` // 0 when not given
	Msg            *string           `json:"msg"`       // nil when the source gives only MsgFields
	MsgFields      map[string]string `json:"msgFields"`
	Encrypt        string            `json:"encrypt"`
	MsgSignature   string            `json:"msgSignature"`
	ReplyXML       string            `json:"replyXML"` // the source's whole reply envelope, when it has one
}

// loadVectors runs while the spec tree is built, because the rows become specs; a broken file
// fails the suite there.
func loadVectors() vectorFile {
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		panic(err)
	}
	var v vectorFile
	if err := json.Unmarshal(data, &v); err != nil {
		panic(fmt.Errorf("testdata/vectors.json: %w", err))
	}
	return v
}

// The functions below are a second, deliberately naive implementation built on crypto/cipher's CBC
// modes, so the package is checked against something other than itself.

func aesKey(encodingAESKey string) []byte {
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		panic(fmt.Sprintf("test key %q: %v", encodingAESKey, err))
	}
	return key
}

// refSignature is the protocol reference's sketch: sort, join, sha1, hex.
func refSignature(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// refEncrypt builds random16 ‖ msg_len ‖ msg ‖ appid, pads it to 32 and encrypts it.
func refEncrypt(key, random16, msg []byte, appID string) string {
	buf := append([]byte(nil), random16...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, appID...)
	pad := 32 - len(buf)%32
	for range pad {
		buf = append(buf, byte(pad))
	}
	return rawEncrypt(key, buf)
}

// rawEncrypt encrypts plain as it is, with no padding, so specs can build any plaintext.
func rawEncrypt(key, plain []byte) string {
	if len(plain)%aes.BlockSize != 0 {
		panic("rawEncrypt: plaintext is not whole blocks")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

// rawDecrypt decrypts without looking at padding or layout, to see what Decrypt was given.
func rawDecrypt(key []byte, encrypt string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, err
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("ciphertext is %d bytes", len(ct))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(out, ct)
	return out, nil
}
