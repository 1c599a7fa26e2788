package config

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML the way Go prints one: "500ms", "5s", "30m", "48h".
// A bare number is refused rather than read as seconds, because "timeout: 5" could as well mean
// milliseconds or minutes, and a wrong guess shows up only as a flaky test.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String prints d without zero tails ("48h", not "48h0m0s"), so it reads like what was written.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalYAML writes d as it is read back.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

const durationUnits = "ns, us, ms, s, m or h"

// bareNumberFix says how to write a bare number as a duration. d is the value the key had
// before, its default when the decoder starts from the defaults: its unit is the likeliest meant
// ("session_timeout: 30" means 30m, since the default is 30m).
func bareNumberFix(s string, d time.Duration) string {
	unit := "s"
	switch {
	case d <= 0:
	case d%time.Hour == 0:
		unit = "h"
	case d%time.Minute == 0:
		unit = "m"
	}
	if unit == "s" {
		return fmt.Sprintf("write %ss; a duration needs a unit: %s", s, durationUnits)
	}
	return fmt.Sprintf("write %s%s, the unit of its default %s, or %ss if seconds were meant; a duration needs a unit: %s",
		s, unit, Duration(d), s, durationUnits)
}

// UnmarshalYAML reads a duration; its errors are *Error values without a position, which the
// strict decoder completes.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return &Error{Msg: "expected a duration, got " + describe(n), Fix: "write a number with a unit, e.g. 5s, 30m or 48h"}
	}
	s := strings.TrimSpace(n.Value)
	if isDigits(s) {
		return &Error{
			Msg: fmt.Sprintf("expected a duration, got the bare number %s", s),
			Fix: bareNumberFix(s, time.Duration(*d)),
		}
	}
	if days := strings.TrimSuffix(s, "d"); days != s && isDigits(days) {
		if n, err := strconv.Atoi(days); err == nil && n <= 1000 {
			return &Error{Msg: fmt.Sprintf("expected a duration, got %q", s), Fix: fmt.Sprintf("write %dh; the largest unit is h", n*24)}
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("expected a duration, got %q", s), Fix: "write a number with a unit (" + durationUnits + "), e.g. 5s, 1m30s or 48h"}
	}
	if v < 0 {
		return &Error{Msg: fmt.Sprintf("negative duration %s", s), Fix: "write a positive duration, e.g. " + strings.TrimPrefix(s, "-")}
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a size in bytes, written in YAML as a whole number of bytes ("512") or with a unit.
// Both conventions are in use, so both are accepted and kept apart: KB, MB and GB are powers of
// 1000 (64KB = 64000), KiB, MiB and GiB powers of 1024 (1MiB = 1048576).
type ByteSize int64

// Units of ByteSize.
const (
	KB  ByteSize = 1000
	MB  ByteSize = 1000 * KB
	GB  ByteSize = 1000 * MB
	KiB ByteSize = 1024
	MiB ByteSize = 1024 * KiB
	GiB ByteSize = 1024 * MiB
)

var byteUnits = []struct {
	name string
	size ByteSize
}{
	// Longest names first so that "KiB" is not read as "B".
	{"KiB", KiB}, {"MiB", MiB}, {"GiB", GiB},
	{"KB", KB}, {"MB", MB}, {"GB", GB},
	{"B", 1},
}

const byteUnitNames = "B, KB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based)"

// String prints b with the largest unit that divides it exactly, 1024-based units first.
func (b ByteSize) String() string {
	if b != 0 {
		for _, u := range []struct {
			name string
			size ByteSize
		}{{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"GB", GB}, {"MB", MB}, {"KB", KB}} {
			if b%u.size == 0 {
				return strconv.FormatInt(int64(b/u.size), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML writes b as it is read back.
func (b ByteSize) MarshalYAML() (any, error) {
	if s := b.String(); !isDigits(s) {
		return s, nil
	}
	return int64(b), nil
}

// UnmarshalYAML reads a size; its errors are *Error values without a position, which the strict
// decoder completes.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return &Error{Msg: "expected a size, got " + describe(n), Fix: "write a number of bytes or a number with a unit: " + byteUnitNames}
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseByteSize reads "512", "64KB", "1MiB" or "1.5MiB" (the result must be whole bytes). Unit
// names are case-insensitive: a size here is always in bytes, so "mb" cannot mean megabits.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	num := t
	unit := ByteSize(1)
	for _, u := range byteUnits {
		if len(t) > len(u.name) && strings.EqualFold(t[len(t)-len(u.name):], u.name) {
			num = strings.TrimSpace(t[:len(t)-len(u.name)])
			unit = u.size
			break
		}
	}
	bad := &Error{Msg: fmt.Sprintf("expected a size, got %q", s), Fix: "write a number of bytes or a number with a unit: " + byteUnitNames + ", e.g. 64KiB or 10MB"}
	if num == "" || strings.HasPrefix(num, "+") {
		return 0, bad
	}
	if strings.HasPrefix(num, "-") {
		return 0, &Error{Msg: fmt.Sprintf("negative size %s", t), Fix: "write a positive size, e.g. " + strings.TrimPrefix(t, "-")}
	}
	if isDigits(num) {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/int64(unit) {
			return 0, &Error{Msg: fmt.Sprintf("size %s is too large", t), Fix: "write a size below 8EiB"}
		}
		return ByteSize(n) * unit, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !strings.ContainsAny(num, "0123456789") || strings.ContainsAny(num, "eExXpP_") {
		return 0, bad
	}
	v := f * float64(unit)
	if v >= math.MaxInt64 {
		return 0, &Error{Msg: fmt.Sprintf("size %s is too large", t), Fix: "write a size below 8EiB"}
	}
	if v != math.Trunc(v) {
		return 0, &Error{Msg: fmt.Sprintf("size %s is not a whole number of bytes", t), Fix: "write whole bytes, e.g. " + strconv.FormatInt(int64(v), 10)}
	}
	return ByteSize(v), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// DeriveOpenID gives the openid a user without an explicit one gets: "o" and 27 characters of a
// hash of the appid and the name. It depends on the appid because WeChat gives one person a
// different openid in each app, and a bot that mixes them up should fail here as it would there.
func DeriveOpenID(appID, name string) string {
	sum := sha256.Sum256([]byte("wxemu openid\x00" + appID + "\x00" + name))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}
