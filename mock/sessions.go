package mock

import (
	"hash/maphash"
	"maps"
	"sort"
	"sync"
	"time"
)

// session is a login session, stored by its id. A refresh rotates it: the
// old session becomes a tombstone pointing at its successor and stays until
// its refresh token would have expired, so that presenting that refresh
// token again is seen as reuse.
//
// A session holds no pointers (ids are 16-byte arrays, not strings), so the
// maps that hold them are never scanned by the garbage collector: a server
// with a million sessions collects as fast as an empty one.
type session struct {
	account   id    // the account's id
	createdAt int64 // unix seconds
	expiresAt int64 // unix seconds: the refresh token's exp
	successor id    // set when rotated
	rotated   bool  // a tombstone
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
	m    map[id]session
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
		s.shards[i].m = map[id]session{}
	}
	return s
}

func (s *sessions) shard(sid id) *sessionShard {
	return &s.shards[maphash.Bytes(s.seed, sid[:])%sessionShards]
}

func (s *sessions) put(sid id, sess session) {
	sh := s.shard(sid)
	sh.mu.Lock()
	sh.m[sid] = sess
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
func (s *sessions) rotate(oldID, next id, now int64) rotateResult {
	sh := s.shard(oldID)
	sh.mu.Lock()
	old, ok := sh.m[oldID]
	switch {
	case !ok || now >= old.expiresAt:
		sh.mu.Unlock()
		return rotateNotFound
	case old.rotated:
		sh.mu.Unlock()
		s.revokeChain(old.successor)
		return rotateReuse
	}
	old.rotated, old.successor = true, next
	sh.m[oldID] = old
	sh.mu.Unlock()
	return rotated
}

// revokeChain deletes every live session in the rotation chain starting at
// id. Tombstones stay, so later reuse is still seen.
func (s *sessions) revokeChain(sid id) {
	for {
		sh := s.shard(sid)
		sh.mu.Lock()
		sess, ok := sh.m[sid]
		if ok && !sess.rotated {
			delete(sh.m, sid)
		}
		sh.mu.Unlock()
		if !ok || !sess.rotated {
			return
		}
		sid = sess.successor
	}
}

// remove deletes the live session id and reports whether it was there
// (and not expired at now).
func (s *sessions) remove(sid id, now int64) bool {
	sh := s.shard(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sess, ok := sh.m[sid]
	if !ok || sess.rotated || now >= sess.expiresAt {
		return false
	}
	delete(sh.m, sid)
	return true
}

// sweep deletes sessions and tombstones whose refresh token has expired at
// now, and returns how many it deleted.
func (s *sessions) sweep(now int64) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sid, sess := range sh.m {
			if now >= sess.expiresAt {
				delete(sh.m, sid)
				n++
			}
		}
		// Go maps never shrink: once most entries are gone, copy the rest
		// into a new map so the memory of the expired ones is returned.
		if len(sh.m) < sh.peak/4 {
			m := make(map[id]session, len(sh.m))
			maps.Copy(m, sh.m)
			sh.m = m
			sh.peak = len(sh.m)
		}
		sh.mu.Unlock()
	}
	return n
}

// each calls fn for every session and tombstone, one shard locked at a time.
func (s *sessions) each(fn func(id, session)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sid, sess := range sh.m {
			fn(sid, sess)
		}
		sh.mu.Unlock()
	}
}

// list returns the live sessions, oldest first; username names their
// accounts, and a session whose account is gone is left out.
func (s *sessions) list(now int64, username func(account id) (string, bool)) []Session {
	type entry struct {
		sid  id
		sess session
	}
	var live []entry
	s.each(func(sid id, sess session) {
		if !sess.rotated && now < sess.expiresAt {
			live = append(live, entry{sid, sess})
		}
	})
	out := make([]Session, 0, len(live))
	for _, e := range live { // names are looked up with no shard locked
		name, ok := username(e.sess.account)
		if !ok {
			continue
		}
		out = append(out, Session{
			ID:        e.sid.String(),
			Username:  name,
			CreatedAt: time.Unix(e.sess.createdAt, 0).UTC(),
			ExpiresAt: time.Unix(e.sess.expiresAt, 0).UTC(),
		})
	}
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
	s.each(func(_ id, sess session) {
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
		sh.m = map[id]session{}
		sh.peak = 0
		sh.mu.Unlock()
	}
}
