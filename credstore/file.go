package credstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

// MaxFileSize is the largest credentials file read: a few thousand
// accounts. A bigger file, or one that is not a regular file (a named
// pipe, a link to /dev/zero), is refused as unusable rather than read
// without end.
const MaxFileSize = 1 << 20

// state is the file's content in memory, with the tokens' claims read.
type state struct {
	servers map[string]*serverState
}

type serverState struct {
	active   string                   // "" when none
	accounts map[string]client.Tokens // by username, with Username set
}

func (se *serverState) has(username string) bool {
	_, ok := se.accounts[username]
	return ok
}

func (st *state) active(server string) (client.Tokens, bool) {
	se := st.servers[server]
	if se == nil || se.active == "" {
		return client.Tokens{}, false
	}
	t, ok := se.accounts[se.active]
	return t, ok
}

// put stores t under its username and makes it active.
func (st *state) put(server string, t client.Tokens) {
	se := st.servers[server]
	if se == nil {
		se = &serverState{accounts: make(map[string]client.Tokens)}
		st.servers[server] = se
	}
	se.accounts[t.Username] = t
	se.active = t.Username
}

// remove deletes an account and reports whether there was one.
func (st *state) remove(server, username string) bool {
	se := st.servers[server]
	if se == nil || !se.has(username) {
		return false
	}
	delete(se.accounts, username)
	if se.active == username {
		se.active = ""
	}
	if len(se.accounts) == 0 {
		delete(st.servers, server)
	}
	return true
}

// The file's layout.
type fileJSON struct {
	Version int                    `json:"version"`
	Servers map[string]*serverJSON `json:"servers"`
}

type serverJSON struct {
	Active   string                 `json:"active"`
	Accounts map[string]accountJSON `json:"accounts"`
}

type accountJSON struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
	// ClockOffsetMS is client.Tokens.ClockOffset in milliseconds. Absent
	// (files written before it existed) means zero; readers that predate
	// it ignore it.
	ClockOffsetMS int64 `json:"clock_offset_ms,omitempty"`
}

// read reads and checks the file; a missing file is an empty store.
func (s *Store) read() (*state, error) {
	st := &state{servers: make(map[string]*serverState)}
	corrupt := func(format string, args ...any) (*state, error) {
		return nil, &corruptError{path: s.path, why: fmt.Sprintf(format, args...)}
	}
	data, err := readRegular(s.path, MaxFileSize)
	var nr *notRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil
	case errors.As(err, &nr):
		return corrupt("%s", nr.why)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read the credential store %s: %w", s.path, err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return corrupt("empty")
	}
	if trimmed[0] != '{' {
		return corrupt("not a JSON object")
	}
	// Read the version first so that a future layout is reported as such.
	var head struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return corrupt("%s", jsonProblem(err))
	}
	if string(head.Version) != "1" {
		if head.Version == nil {
			return corrupt("no version")
		}
		return corrupt("unknown version %s, this program reads version %d", clip(string(head.Version)), fileVersion)
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return corrupt("%s", jsonProblem(err))
	}
	// Every key counts for duplicates, empty or not, so that the verdict
	// does not depend on the order the map is walked in.
	seen := make(map[string]bool, len(f.Servers))
	for rawServer, sj := range f.Servers {
		server, err := NormalizeServer(rawServer)
		if err != nil {
			return corrupt("bad server %q", clip(rawServer))
		}
		if seen[server] {
			return corrupt("server %s listed twice", server)
		}
		seen[server] = true
		if sj == nil {
			continue
		}
		se := &serverState{active: sj.Active, accounts: make(map[string]client.Tokens, len(sj.Accounts))}
		for name, aj := range sj.Accounts {
			if name == "" {
				return corrupt("an account of %s has no username", server)
			}
			t, err := client.ParseTokens(aj.Access, aj.Refresh)
			if err != nil {
				return corrupt("the tokens of %q on %s: %v", clip(name), server, err)
			}
			t.Username = name
			t.ClockOffset = time.Duration(aj.ClockOffsetMS) * time.Millisecond
			se.accounts[name] = t
		}
		if len(se.accounts) > 0 {
			st.servers[server] = se
		}
	}
	return st, nil
}

// notRegularError is a file that readRegular refuses to read.
type notRegularError struct{ why string }

func (e *notRegularError) Error() string { return e.why }

// readRegular reads the file at path if it is a regular file of at most
// limit bytes. Anything else (a named pipe, whose open and read would wait
// for a writer forever; a device such as /dev/zero, which never ends; a
// directory) is a *notRegularError, and so is a bigger file: the read ends
// either way, quickly and in bounded memory.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}
	}
	if !fi.Mode().IsRegular() {
		return nil, &notRegularError{"not a regular file but " + fileKind(fi.Mode())}
	}
	tooBig := &notRegularError{fmt.Sprintf("larger than the limit of %s", sizeText(limit))}
	if fi.Size() > limit {
		return nil, tooBig
	}
	// The size may change after Stat: read one byte past the limit to see.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooBig
	}
	return data, nil
}

// fileKind names the kind of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}

// sizeText is a byte count in words: "1 MiB", "64 KiB", "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// jsonProblem says in words what is wrong with the file's JSON.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not valid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%q holds a JSON %s where the layout has something else", typ.Field, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("a JSON %s where the layout has something else", typ.Value)
	}
	return "not valid JSON: " + err.Error()
}

// clip shortens text from the file for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func (st *state) marshal() ([]byte, error) {
	f := fileJSON{Version: fileVersion, Servers: make(map[string]*serverJSON, len(st.servers))}
	for server, se := range st.servers {
		if len(se.accounts) == 0 {
			continue
		}
		sj := &serverJSON{Active: se.active, Accounts: make(map[string]accountJSON, len(se.accounts))}
		for name, t := range se.accounts {
			sj.Accounts[name] = accountJSON{Access: t.Access, Refresh: t.Refresh, ClockOffsetMS: t.ClockOffset.Milliseconds()}
		}
		f.Servers[server] = sj
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
