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
	accessExp int64 // unix seconds: the access token's exp (0: unknown, from an old state file)
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
	peak int // the most entries m held since it was last rebuilt
	// grace holds, while a rotation grace runs, the pair each rotation of
	// this shard's sessions issued, by the rotated session's id. It is
	// empty unless a grace is set.
	grace map[id]graceEntry
	_     [24]byte // keep shards on separate cache lines
}

// graceEntry is what a rotation issued, kept for the grace only.
type graceEntry struct {
	next id
	pair []byte // the token result of next
	at   int64  // unix nanoseconds on the server's clock
}

// liveShards is how many independently locked maps hold the count of live
// sessions of each account.
const liveShards = 16

type liveShard struct {
	mu sync.Mutex
	m  map[id]int
	_  [40]byte
}

type sessions struct {
	seed   maphash.Seed
	shards [sessionShards]sessionShard
	// live counts the live sessions of each account (for session-leak
	// findings): login and mint add one, logout, revocation and the sweep
	// take theirs away; a rotation changes nothing.
	live [liveShards]liveShard
}

func newSessions() *sessions {
	s := &sessions{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = map[id]session{}
		s.shards[i].grace = map[id]graceEntry{}
	}
	for i := range s.live {
		s.live[i].m = map[id]int{}
	}
	return s
}

// addLive adds d to the count of live sessions of account and returns the
// new count.
func (s *sessions) addLive(account id, d int) int {
	sh := &s.live[maphash.Bytes(s.seed, account[:])%liveShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.m[account] + d
	if n <= 0 {
		delete(sh.m, account)
		return 0
	}
	sh.m[account] = n
	return n
}

// recount sets the counts of live sessions from the sessions held (after
// loading a state file).
func (s *sessions) recount(now int64) {
	counts := map[id]int{}
	s.each(func(_ id, sess session) {
		if !sess.rotated && now < sess.expiresAt {
			counts[sess.account]++
		}
	})
	for acc, n := range counts {
		s.addLive(acc, n)
	}
}

// get returns the session or tombstone sid.
func (s *sessions) get(sid id) (session, bool) {
	sh := s.shard(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sess, ok := sh.m[sid]
	return sess, ok
}

// discard deletes sid without counting it: for a successor stored by a
// rotation that did not happen.
func (s *sessions) discard(sid id) {
	sh := s.shard(sid)
	sh.mu.Lock()
	delete(sh.m, sid)
	sh.mu.Unlock()
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
	rotated        rotateResult = iota
	rotateNotFound              // no such live session, or it expired
	rotateReuse                 // a rotated session: its chain was revoked
	rotateGrace                 // a rotated session within the grace: answer its rotation's pair again
)

// rotation is what rotate did.
type rotation struct {
	result rotateResult
	old    session // the session found (rotated, reuse, grace)
	pair   []byte  // rotateGrace: the pair the rotation issued
}

// rotate makes the live session oldID a tombstone whose successor is next,
// which the caller has already stored. now is in unix nanoseconds. When
// pair is not nil (a grace is set), it is kept as what this rotation
// issued, for the grace.
//
// If oldID was rotated before, its refresh token is presented again. That
// is answered with the pair the rotation issued when grace (nanoseconds)
// has not passed since, and the successor is still the live end of the
// chain (the token is the immediately previous one). Otherwise it is reuse:
// every live session descended from it is revoked.
func (s *sessions) rotate(oldID, next id, now int64, pair []byte, grace int64) rotation {
	sh := s.shard(oldID)
	sh.mu.Lock()
	old, ok := sh.m[oldID]
	switch {
	case !ok || now/1e9 >= old.expiresAt:
		sh.mu.Unlock()
		return rotation{result: rotateNotFound}
	case old.rotated:
		g, ok := sh.grace[oldID]
		sh.mu.Unlock()
		if ok && g.next == old.successor && now-g.at < grace {
			if succ, ok := s.get(old.successor); ok && !succ.rotated && now/1e9 < succ.expiresAt {
				return rotation{result: rotateGrace, old: old, pair: g.pair}
			}
		}
		s.revokeChain(old.successor)
		return rotation{result: rotateReuse, old: old}
	}
	old.rotated, old.successor = true, next
	sh.m[oldID] = old
	if pair != nil {
		sh.grace[oldID] = graceEntry{next: next, pair: pair, at: now}
	}
	sh.mu.Unlock()
	return rotation{result: rotated, old: old}
}

// forgetGrace drops the pair kept for the rotation of oldID to next.
func (s *sessions) forgetGrace(oldID, next id) {
	sh := s.shard(oldID)
	sh.mu.Lock()
	if g, ok := sh.grace[oldID]; ok && g.next == next {
		delete(sh.grace, oldID)
	}
	sh.mu.Unlock()
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
		if ok && !sess.rotated {
			s.addLive(sess.account, -1)
		}
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
	sess, ok := sh.m[sid]
	if !ok || sess.rotated || now >= sess.expiresAt {
		sh.mu.Unlock()
		return false
	}
	delete(sh.m, sid)
	sh.mu.Unlock()
	s.addLive(sess.account, -1)
	return true
}

// sweep deletes sessions and tombstones whose refresh token has expired at
// now (unix seconds), and the pairs kept for a grace that has passed, and
// returns how many sessions and tombstones it deleted.
func (s *sessions) sweep(now int64, grace time.Duration) int {
	n := 0
	var gone []id // accounts of the live sessions deleted
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sid, sess := range sh.m {
			if now >= sess.expiresAt {
				delete(sh.m, sid)
				n++
				if !sess.rotated {
					gone = append(gone, sess.account)
				}
			}
		}
		for sid, g := range sh.grace {
			if now*1e9-g.at >= int64(grace) {
				delete(sh.grace, sid)
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
	for _, acc := range gone {
		s.addLive(acc, -1)
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
		sh.grace = map[id]graceEntry{}
		sh.peak = 0
		sh.mu.Unlock()
	}
	for i := range s.live {
		sh := &s.live[i]
		sh.mu.Lock()
		sh.m = map[id]int{}
		sh.mu.Unlock()
	}
}
