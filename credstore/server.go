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
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && port != defaultPort(scheme) {
		host += ":" + port
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
