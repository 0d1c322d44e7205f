package client

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// origin is what decides whether a request goes to the client's server:
// scheme and host, with the port made explicit.
type origin struct{ scheme, host string }

func originOf(u *url.URL) origin {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	return origin{scheme, net.JoinHostPort(host, port)}
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// NormalizeBaseURL checks a server URL as New does and returns it in the
// form BaseURL gives: lower-case scheme and host, no default port, no
// trailing slash. Stores key their accounts by it (package credstore). A
// URL that is not http(s), has no host, or carries credentials, a query or
// a fragment is an error; the error quotes the URL only when it holds no
// credentials.
func NormalizeBaseURL(raw string) (string, error) {
	norm, _, err := parseBaseURL(raw)
	return norm, err
}

// parseBaseURL is NormalizeBaseURL, and the origin requests must go to.
func parseBaseURL(raw string) (string, origin, error) {
	shown := strconv.Quote(raw)
	bad := func(why string) (string, origin, error) {
		return "", origin{}, fmt.Errorf("%s is not a server URL: it %s (want http(s)://host[:port][/path])", shown, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		shown = "the URL" // it may hold a password that did not parse as one
		return bad("does not parse")
	}
	if u.User != nil {
		shown = "the URL"
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("is not http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return bad("has no host")
	case u.User != nil:
		return bad("carries credentials")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("has a query")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return bad("has a fragment")
	}
	host := hostKey(u.Hostname())
	if port := u.Port(); port != "" && port != defaultPort(scheme) {
		host += ":" + port
	}
	norm := scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
	return norm, originOf(u), nil
}

// hostKey returns host (as url.URL.Hostname gives it) lower-cased and ready
// to go back into a URL: "%" (from "%25") encoded again, an IPv6 literal in
// brackets with its zone (case-sensitive, like the interface name it is)
// percent-encoded, so that the URL parses again to the same host (RFC
// 6874). NormalizeBaseURL goes through this too, so BaseURL is the
// credentials file's key.
func hostKey(host string) string {
	if !strings.Contains(host, ":") {
		return strings.ReplaceAll(strings.ToLower(host), "%", "%25")
	}
	addr, zone, hasZone := strings.Cut(host, "%")
	addr = strings.ToLower(addr)
	if !hasZone {
		return "[" + addr + "]"
	}
	var b strings.Builder
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		// Bytes of UTF-8 stay as they are (net/url wants them so);
		// ASCII other than unreserved is percent-encoded.
		if c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return "[" + addr + "%25" + b.String() + "]"
}
