package mock

import (
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// account is a registered user. Its mutable fields are guarded by
// accounts.mu.
type account struct {
	id          string // key written out
	key         id
	username    string
	hash        []byte
	failures    int       // consecutive wrong passwords
	lockedUntil time.Time // zero when not locked
}

// Account is an account as the control plane lists it: never its hash.
type Account struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	LockedUntil *time.Time `json:"locked_until"`
}

type accounts struct {
	mu     sync.RWMutex
	byName map[string]*account
	byID   map[string]*account
}

func newAccounts() *accounts {
	return &accounts{byName: map[string]*account{}, byID: map[string]*account{}}
}

func (a *accounts) lookup(username string) *account {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.byName[username]
}

func (a *accounts) byAccountID(id string) *account {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.byID[id]
}

// add hashes the password (outside the lock) and stores a new account.
func (a *accounts) add(username, password string, cost int) (*account, *Error) {
	if a.lookup(username) != nil {
		return nil, errUsernameTaken
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, apiErr(CodeInternal, "could not hash the password")
	}
	key := newRawID()
	acc := &account{id: key.String(), key: key, username: username, hash: hash}
	return acc, a.insert(acc)
}

func (a *accounts) insert(acc *account) *Error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byName[acc.username] != nil {
		return errUsernameTaken
	}
	a.byName[acc.username] = acc
	a.byID[acc.id] = acc
	return nil
}

// lockedAt reports whether acc is locked at now; a lockout that has run out
// is ended here, with the count of failures.
func (a *accounts) lockedAt(acc *account, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc.lockedUntil.IsZero() {
		return false
	}
	if now.Before(acc.lockedUntil) {
		return true
	}
	acc.lockedUntil, acc.failures = time.Time{}, 0
	return false
}

// hashOf returns the account's hash, read under the lock.
func (a *accounts) hashOf(acc *account) []byte {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return acc.hash
}

// recordLogin updates the count of consecutive failures after a password
// check, and reports whether this failure locked the account.
func (a *accounts) recordLogin(acc *account, ok bool, now time.Time, threshold int, lockFor time.Duration) (locked bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok {
		acc.failures = 0
		return false
	}
	acc.failures++
	if threshold > 0 && acc.failures >= threshold {
		acc.lockedUntil = now.Add(lockFor)
		return true
	}
	return false
}

func (a *accounts) list(now time.Time) []Account {
	a.mu.RLock()
	out := make([]Account, 0, len(a.byName))
	for _, acc := range a.byName {
		v := Account{ID: acc.id, Username: acc.username}
		if !acc.lockedUntil.IsZero() && now.Before(acc.lockedUntil) {
			t := acc.lockedUntil.UTC()
			v.LockedUntil = &t
		}
		out = append(out, v)
	}
	a.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

func (a *accounts) clear() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byName = map[string]*account{}
	a.byID = map[string]*account{}
}
