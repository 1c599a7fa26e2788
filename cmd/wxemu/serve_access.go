package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/wxemu/wxemu/emulator/apiserver"
)

// controlTokenEnv names the variable the remote commands read the control plane's token from.
const controlTokenEnv = "WXEMU_CONTROL_TOKEN"

// repeated is a flag given any number of times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// accessFlags are serve's flags about who may drive the control plane.
type accessFlags struct {
	origins repeated
	hosts   repeated
	token   string
}

func (a *accessFlags) register(fs *flag.FlagSet) {
	fs.Var(&a.origins, "cors-origin", "let web pages of this `ORIGIN` (e.g. http://localhost:3000) call the control API, with CORS answers; repeatable (default none)")
	fs.Var(&a.hosts, "host", "answer the control API under this host `NAME` too (besides localhost, loopback and the bound address); repeatable")
	fs.StringVar(&a.token, "control-token", "", "require `TOKEN` as Authorization: Bearer on the control API (default: none on loopback, generated otherwise)")
}

// access builds the control plane's rule for serve on listen. Bound to anything but loopback,
// a token is required: whoever reaches the port could otherwise read every secret and reset.
// generated says the token was made here, to be printed.
func (a *accessFlags) access(listen string) (ca apiserver.ControlAccess, generated bool, err error) {
	for _, o := range a.origins {
		if err := apiserver.CheckOrigin(o); err != nil {
			return ca, false, fmt.Errorf("--cors-origin: %w", err)
		}
	}
	for _, h := range a.hosts {
		if h == "" || strings.ContainsAny(h, ":/ ") {
			return ca, false, fmt.Errorf("--host %q: give a host name without scheme or port, e.g. wxemu.test", h)
		}
	}
	ca = apiserver.ControlAccess{Origins: a.origins, Hosts: a.hosts, Token: a.token}
	if ca.Token == "" && !isLoopback(listen) {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return ca, false, fmt.Errorf("generate a control token: %w", err)
		}
		ca.Token, generated = hex.EncodeToString(b[:]), true
	}
	return ca, generated, nil
}

// isLoopback says whether a listen address reaches this machine only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// warnExposed says loudly, on stderr, that the control plane is reachable from the network.
func warnExposed(stderr io.Writer, listen, token string, generated bool) {
	fmt.Fprintf(stderr, "\nWARNING: wxemu serve listens on %s, beyond this machine. Its control API can reset state and\n", listen)
	fmt.Fprintln(stderr, "read every app's secret, so it requires a token: send Authorization: Bearer TOKEN, or set")
	fmt.Fprintf(stderr, "$%s for the wxemu commands.\n", controlTokenEnv)
	if generated {
		fmt.Fprintf(stderr, "control token (generated; fix one with --control-token): %s\n", token)
	}
	fmt.Fprintln(stderr, "wxemu holds no real credentials but is not hardened: expose it only on a network you trust.")
	fmt.Fprintln(stderr)
}
