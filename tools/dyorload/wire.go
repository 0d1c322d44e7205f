package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// requester sends one request and returns the status and body. The body is
// valid until the next call. One requester belongs to one worker.
type requester interface {
	do(ctx context.Context, method, path, body, auth string) (status int, respBody []byte, err error)
	close()
}

// newRequester returns a worker's requester for base: a lean HTTP/1.1
// client on one keep-alive connection ("wire"), or net/http's client.
func newRequester(kind, base string) (requester, error) {
	switch kind {
	case "wire":
		u, err := url.Parse(base)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("-client wire needs an http:// URL, not %q", base)
		}
		return &wireClient{host: u.Host, prefix: strings.TrimSuffix(u.Path, "/")}, nil
	case "net/http":
		return &httpClient{client: newClient(1), base: base}, nil
	}
	return nil, fmt.Errorf("unknown -client %q: want wire or net/http", kind)
}

// wireClient is a minimal HTTP/1.1 client on one keep-alive connection, as
// load generators such as wrk use, so that the generator spends as little
// of the shared CPU as it can. It reads responses framed by Content-Length
// (what both dyormock and the floor send) and refuses anything else.
type wireClient struct {
	host, prefix string
	conn         net.Conn
	r            *bufio.Reader
	w            *bufio.Writer
	stop         func() bool // unregisters the context watch
	body         []byte
}

func (c *wireClient) close() {
	if c.conn != nil {
		c.stop()
		_ = c.conn.Close()
		c.conn = nil
	}
}

func (c *wireClient) dial(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.host)
	if err != nil {
		return err
	}
	c.conn, c.r, c.w = conn, bufio.NewReaderSize(conn, 8<<10), bufio.NewWriterSize(conn, 4<<10)
	// The end of the run (or ^C) cuts a request in flight.
	c.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (c *wireClient) do(ctx context.Context, method, path, body, auth string) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return 0, nil, err
		}
	}
	status, keep, err := c.roundTrip(method, path, body, auth)
	if err != nil || !keep {
		c.close() // the next request dials afresh
	}
	if err != nil {
		return 0, nil, err
	}
	return status, c.body, nil
}

func (c *wireClient) roundTrip(method, path, body, auth string) (status int, keepAlive bool, err error) {
	w := c.w
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(c.prefix)
	w.WriteString(path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(c.host)
	w.WriteString("\r\nUser-Agent: dyorload\r\n")
	if auth != "" {
		w.WriteString("Authorization: ")
		w.WriteString(auth)
		w.WriteString("\r\n")
	}
	if body != "" || method == http.MethodPost {
		w.WriteString("Content-Type: application/json\r\nContent-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.WriteString(body)
	if err := w.Flush(); err != nil {
		return 0, false, err
	}
	return c.readResponse()
}

var errFraming = errors.New("response without Content-Length (the wire client reads only Content-Length framing)")

// readResponse reads a status line, headers and a Content-Length body.
func (c *wireClient) readResponse() (status int, keepAlive bool, err error) {
	line, err := c.line()
	if err != nil {
		return 0, false, err
	}
	proto, rest, _ := bytes.Cut(line, []byte(" "))
	code, _, _ := bytes.Cut(rest, []byte(" "))
	status, err = strconv.Atoi(string(code))
	if !bytes.HasPrefix(proto, []byte("HTTP/1.")) || err != nil || len(code) != 3 {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	keepAlive, length := true, -1
	for {
		line, err := c.line()
		if err != nil {
			return 0, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			return 0, false, errFraming
		case asciiEqualFold(name, "Connection"):
			keepAlive = !asciiEqualFold(value, "close")
		}
	}
	if length < 0 {
		return 0, false, errFraming
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return 0, false, err
	}
	return status, keepAlive, nil
}

// line returns the next CRLF-terminated line without its CRLF; it is valid
// until the next read.
func (c *wireClient) line() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("response header line too long")
		}
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")), nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// httpClient is net/http's client, for comparison with the wire client.
type httpClient struct {
	client *http.Client
	base   string
	body   []byte
}

func (c *httpClient) close() { c.client.CloseIdleConnections() }

func (c *httpClient) do(ctx context.Context, method, path, body, auth string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	buf := bytes.NewBuffer(c.body[:0])
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return 0, nil, err
	}
	c.body = buf.Bytes()
	return resp.StatusCode, c.body, nil
}
