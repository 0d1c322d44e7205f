package credstore

import (
	"net/url"

	"github.com/dyor-exchange/dyorctl/client"
)

// NormalizeServer returns the key under which raw's accounts are stored:
// client.NormalizeBaseURL's form of raw with any query or fragment dropped,
// so that a store and a client always agree on the key. A URL that is not
// http(s), has no host or carries credentials is an error.
func NormalizeServer(raw string) (string, error) {
	if u, err := url.Parse(raw); err == nil {
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		raw = u.String()
	}
	return client.NormalizeBaseURL(raw)
}
