package credstore

import (
	"errors"
	"net/url"
	"strings"

	"github.com/dyor-exchange/dyorctl/client"
)

// NormalizeServer returns the key under which raw's accounts are stored:
// lower-case scheme and host, no default port, no trailing slash, no query
// or fragment. It is exactly what client.Client.BaseURL returns for the
// same URL (the client's rules decide), so a store and a client always
// agree on the key. A URL that is not http(s), has no host or carries
// credentials is an error.
func NormalizeServer(raw string) (string, error) {
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			// Not quoted: user information is a password as often as not.
			return "", errors.New("a server URL must not carry a user name or password (the URL is not shown)")
		}
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		raw = u.String()
	}
	c, err := client.New(raw)
	if err != nil {
		return "", errors.New(strings.TrimPrefix(err.Error(), "client: "))
	}
	return c.BaseURL(), nil
}
