package mock

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// account is a registered user. Its mutable fields are guarded by
// accounts.mu.
type account struct {
	id          string // key written out
	key         id
	username    string
	hash        []byte    // nil while seed is pending
	seed        *seedHash // a seed account whose hash is made on first use
	failures    int       // consecutive wrong passwords
	lockedUntil time.Time // zero when not locked

	// verified is the login cache: a keyed digest (loginDigest) of the
	// current hash and the last password that verified against it, so a
	// later login with the same password skips bcrypt. It lives in memory
	// only; a new hash never matches it.
	verified    [sha256.Size]byte
	hasVerified bool
}

// seedHash is the bcrypt hash of a seed account, made when it is first
// needed (a login, a state save) rather than when the server starts: a
// server that nobody logs in to with a password costs no bcrypt at all.
type seedHash struct {
	mu       sync.Mutex // held while hashing: logins of this account wait for it
	password string     // the seed's password, as the server's options hold it anyway
	cost     int
	hash     []byte
}

// get returns the hash, making it first; made reports that this call made
// it (and so paid for bcrypt).
func (sh *seedHash) get() (hash []byte, made bool, e *Error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.hash != nil {
		return sh.hash, false, nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(sh.password), sh.cost)
	if err != nil {
		return nil, false, apiErr(CodeInternal, "could not hash the password")
	}
	sh.hash = h
	return h, true, nil
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

	cache    bool      // the login cache is on
	digests  sync.Pool // of hash.Hash: HMAC-SHA256 keyed with the server's login-cache key
	bcrypts  atomic.Int64
	cacheHit atomic.Int64
}

func newAccounts(cache bool, cacheKey []byte) *accounts {
	a := &accounts{byName: map[string]*account{}, byID: map[string]*account{}, cache: cache}
	a.digests.New = func() any { return hmac.New(sha256.New, cacheKey) }
	return a
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
	a.mu.RLock()
	unlocked := acc.lockedUntil.IsZero()
	a.mu.RUnlock()
	if unlocked { // the usual case, under the shared lock only
		return false
	}
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

// addSeed stores a seed account whose hash is made on first use.
func (a *accounts) addSeed(username, password string, cost int) *Error {
	key := newRawID()
	acc := &account{id: key.String(), key: key, username: username,
		seed: &seedHash{password: password, cost: cost}}
	return a.insert(acc)
}

// hashOf returns the account's hash, read under the lock, making it first
// for a pending seed; made is that seed when this call made its hash.
func (a *accounts) hashOf(acc *account) (hash []byte, made *seedHash, e *Error) {
	a.mu.RLock()
	hash, seed := acc.hash, acc.seed
	a.mu.RUnlock()
	if hash != nil {
		return hash, nil, nil
	}
	hash, fresh, e := seed.get()
	if e != nil {
		return nil, nil, e
	}
	a.mu.Lock()
	if acc.seed == seed { // the account drops the seed's password once it is hashed
		acc.hash, acc.seed = hash, nil
	}
	a.mu.Unlock()
	if fresh {
		made = seed
	}
	return hash, made, nil
}

// hashSeeds makes the hash of every pending seed, before a state save.
func (a *accounts) hashSeeds() *Error {
	a.mu.RLock()
	var pending []*account
	for _, acc := range a.byName {
		if acc.hash == nil {
			pending = append(pending, acc)
		}
	}
	a.mu.RUnlock()
	for _, acc := range pending {
		if _, _, e := a.hashOf(acc); e != nil {
			return e
		}
	}
	return nil
}

// loginDigest is the login cache's digest of a password for a hash: an
// HMAC with a key that is random per server and never leaves its memory.
// The hash is part of it, so a new password hash invalidates the entry.
func (a *accounts) loginDigest(pwHash []byte, password string) (sum [sha256.Size]byte) {
	h := a.digests.Get().(hash.Hash)
	h.Reset()
	h.Write(pwHash)
	h.Write([]byte{0})
	h.Write([]byte(password))
	h.Sum(sum[:0])
	a.digests.Put(h)
	return sum
}

// checkPassword reports whether password is acc's. Without the login
// cache, or for a password not seen to verify before, it costs one bcrypt
// at the server's cost, as it always did; with it, a password that verified
// before for the same hash costs one HMAC. A wrong password always pays
// bcrypt.
func (a *accounts) checkPassword(acc *account, password string) (bool, *Error) {
	hash, made, e := a.hashOf(acc)
	if e != nil {
		return false, e
	}
	var digest [sha256.Size]byte
	if a.cache {
		digest = a.loginDigest(hash, password)
		a.mu.RLock()
		hit := acc.hasVerified && hmac.Equal(acc.verified[:], digest[:])
		a.mu.RUnlock()
		if hit {
			a.cacheHit.Add(1)
			return true, nil
		}
	}
	var ok bool
	a.bcrypts.Add(1)
	if made != nil {
		// This call has just paid bcrypt to make the seed's hash from its
		// password: comparing with that password (at most 72 bytes, so
		// exactly what bcrypt compares) gives bcrypt's verdict without
		// paying for it twice.
		ok = subtle.ConstantTimeCompare([]byte(password), []byte(made.password)) == 1
	} else {
		ok = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	}
	if ok && a.cache {
		a.mu.Lock()
		if string(acc.hash) == string(hash) {
			acc.verified, acc.hasVerified = digest, true
		}
		a.mu.Unlock()
	}
	return ok, nil
}

// recordLogin updates the count of consecutive failures after a password
// check, and reports whether this failure locked the account.
func (a *accounts) recordLogin(acc *account, ok bool, now time.Time, threshold int, lockFor time.Duration) (locked bool) {
	if ok {
		a.mu.RLock()
		clean := acc.failures == 0
		a.mu.RUnlock()
		if clean { // nothing to reset: repeated good logins share the lock
			return false
		}
	}
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
