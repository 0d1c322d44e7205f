package credstore

import (
	"fmt"
	"net/url"
	"strings"
)

// NormalizeServer returns the key under which raw's accounts are stored:
// lower-case scheme and host, no default port, no trailing slash, no query
// or fragment. It is what client.Client.BaseURL returns for the same URL.
// A URL that is not http(s), has no host or carries credentials is an error.
func NormalizeServer(raw string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("server URL %q %s (want http(s)://host[:port][/path])", raw, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("does not parse")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("is not http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return bad("has no host")
	case u.User != nil:
		return bad("must not carry credentials")
	}
	host := hostKey(u.Hostname())
	if port := u.Port(); port != "" && port != defaultPort(scheme) {
		host += ":" + port
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// hostKey returns host (as url.URL.Hostname gives it) lower-cased and ready
// to go back into a URL: "%" (from "%25") encoded again, an IPv6 literal in
// brackets with its zone (case-sensitive, like the interface name it is)
// percent-encoded, so that the key parses again to the same host (RFC 6874).
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

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
