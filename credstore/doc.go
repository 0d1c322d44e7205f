// Package credstore keeps the token pairs of logged-in accounts in a file,
// the one dyorctl uses, so that the CLI, the TUI and any Go program share a
// login.
//
// # File
//
// The store is <dir>/credentials.json (DefaultDir: $DYOR_CONFIG_DIR, else
// <os.UserConfigDir()>/dyorctl):
//
//	{
//	  "version": 1,
//	  "servers": {
//	    "https://www.dyorbackend.tk": {
//	      "active": "john@API",
//	      "accounts": {
//	        "john@API": {"access": "eyJ…", "refresh": "eyJ…", "clock_offset_ms": 42000}
//	      }
//	    }
//	  }
//	}
//
// Servers are keyed by NormalizeServer's form of their URL; each may hold
// several accounts, one of them active. Only tokens, usernames and the
// server's clock offset (client.Tokens.ClockOffset, omitted when zero;
// files without it load as zero) are kept, never a password. The claims shown by Accounts are read from the tokens
// without checking their signatures.
//
// The directory is created with mode 0700 on the first change (an existing
// directory is left as it is); the file is written with mode 0600,
// atomically: a temporary file in the same directory is written, synced and
// renamed over the old one, and the directory is synced.
//
// Every change prepares its write before it does anything else: under the
// lock, the temporary file is created and filled to the file's size plus
// room for a new account. So a full disk, a file size limit or a read-only
// directory stops a refresh or a login before it reaches the server
// (ErrUnwritable: nothing was sent, the stored tokens are still good),
// instead of after the server rotated or created a session that then
// cannot be saved. A write that still fails after the change was made is
// ErrUnsaved.
//
// A file that is not valid JSON, has another version, or holds a token that
// cannot be read is reported with an error matching ErrCorrupt that names
// the file, and is never written over: move it away and log in again. So
// is one that is not a regular file (a named pipe, a link to /dev/zero) or
// is larger than MaxFileSize: it is never read, so it can neither hang a
// process nor fill its memory. A file that cannot be read is reported with
// its path too.
//
// # Locking
//
// Every change (Save, Delete, Update, Login, Switch, Remove) takes an exclusive
// lock on <dir>/credentials.lock (github.com/gofrs/flock: flock(2) on Unix,
// LockFileEx on Windows), re-reads the file, changes it and writes it before
// letting go; Update runs its function under that lock, which is what the
// client's refresh rule needs (package client, "Refreshing"). So several
// processes, and several Stores in one process, can share one directory.
// Reads take no lock: the file is only ever replaced whole. Waiting for the
// lock ends when the context does.
package credstore
