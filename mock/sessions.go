package mock

import (
	"hash/maphash"
	"maps"
	"sort"
	"sync"
	"time"
)

// session is a login session. A refresh rotates it: the old session becomes
// a tombstone pointing at its successor and stays until its refresh token
// would have expired, so that presenting that refresh token again is seen
// as reuse.
type session struct {
	id        string
	account   *account
	createdAt int64 // unix seconds
	expiresAt int64 // unix seconds: the refresh token's exp
	successor string
	rotated   bool // a tombstone
}

// Session is a live session as the control plane lists it.
type Session struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// sessionShards is how many independently locked maps hold the sessions,
// so that parallel requests do not queue on one mutex.
const sessionShards = 64

type sessionShard struct {
	mu   sync.Mutex
	m    map[string]*session
	peak int      // the most entries m held since it was last rebuilt
	_    [32]byte // keep shards on separate cache lines
}

type sessions struct {
	seed   maphash.Seed
	shards [sessionShards]sessionShard
}

func newSessions() *sessions {
	s := &sessions{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = map[string]*session{}
	}
	return s
}

func (s *sessions) shard(id string) *sessionShard {
	return &s.shards[maphash.String(s.seed, id)%sessionShards]
}

func (s *sessions) put(sess *session) {
	sh := s.shard(sess.id)
	sh.mu.Lock()
	sh.m[sess.id] = sess
	sh.peak = max(sh.peak, len(sh.m))
	sh.mu.Unlock()
}

// rotateResult says what rotate found.
type rotateResult int

const (
	rotated rotateResult = iota
	rotateNotFound
	rotateReuse
)

// rotate makes the live session oldID a tombstone whose successor is next,
// which the caller has already stored. If oldID was rotated before, the
// refresh token is being reused: every live session descended from it is
// revoked.
func (s *sessions) rotate(oldID string, next *session, now int64) rotateResult {
	sh := s.shard(oldID)
	sh.mu.Lock()
	old := sh.m[oldID]
	switch {
	case old == nil || now >= old.expiresAt:
		sh.mu.Unlock()
		return rotateNotFound
	case old.rotated:
		succ := old.successor
		sh.mu.Unlock()
		s.revokeChain(succ)
		return rotateReuse
	}
	old.rotated, old.successor = true, next.id
	sh.mu.Unlock()
	return rotated
}

// revokeChain deletes every live session in the rotation chain starting at
// id. Tombstones stay, so later reuse is still seen.
func (s *sessions) revokeChain(id string) {
	for id != "" {
		sh := s.shard(id)
		sh.mu.Lock()
		sess := sh.m[id]
		next := ""
		if sess != nil {
			if sess.rotated {
				next = sess.successor
			} else {
				delete(sh.m, id)
			}
		}
		sh.mu.Unlock()
		id = next
	}
}

// remove deletes the live session id and reports whether it was there
// (and not expired at now).
func (s *sessions) remove(id string, now int64) bool {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sess := sh.m[id]
	if sess == nil || sess.rotated || now >= sess.expiresAt {
		return false
	}
	delete(sh.m, id)
	return true
}

// sweep deletes sessions and tombstones whose refresh token has expired at
// now, and returns how many it deleted.
func (s *sessions) sweep(now int64) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for id, sess := range sh.m {
			if now >= sess.expiresAt {
				delete(sh.m, id)
				n++
			}
		}
		// Go maps never shrink: once most entries are gone, copy the rest
		// into a new map so the memory of the expired ones is returned.
		if len(sh.m) < sh.peak/4 {
			m := make(map[string]*session, len(sh.m))
			maps.Copy(m, sh.m)
			sh.m = m
			sh.peak = len(sh.m)
		}
		sh.mu.Unlock()
	}
	return n
}

// each calls fn for every session and tombstone, one shard locked at a time.
func (s *sessions) each(fn func(*session)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, sess := range sh.m {
			fn(sess)
		}
		sh.mu.Unlock()
	}
}

func (s *sessions) list(now int64) []Session {
	var out []Session
	s.each(func(sess *session) {
		if sess.rotated || now >= sess.expiresAt {
			return
		}
		out = append(out, Session{
			ID:        sess.id,
			Username:  sess.account.username,
			CreatedAt: time.Unix(sess.createdAt, 0).UTC(),
			ExpiresAt: time.Unix(sess.expiresAt, 0).UTC(),
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].ID < out[j].ID
		}
		return out[i].CreatedAt.Before(out[j].CreatedAt)
	})
	return out
}

// count returns how many sessions and tombstones are held.
func (s *sessions) count() (live, tombstones int) {
	s.each(func(sess *session) {
		if sess.rotated {
			tombstones++
		} else {
			live++
		}
	})
	return live, tombstones
}

func (s *sessions) clear() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.m = map[string]*session{}
		sh.peak = 0
		sh.mu.Unlock()
	}
}
