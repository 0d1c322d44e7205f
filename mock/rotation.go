package mock

import (
	"net/http"
	"time"
)

// refresh rotates the session of a refresh token. Within the rotation grace
// (Settings.RefreshGrace), the immediately previous refresh token is
// answered with the pair its rotation issued, without a new rotation and
// without counting as reuse; any other rotated token is reuse.
func (s *Server) refresh(r *http.Request) ([]byte, *Error) {
	token, e := bearerToken(r.Header.Get("Authorization"))
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	c, e := s.signer.check(token, now, typeRefresh)
	if e != nil {
		if e == errTokenExpired {
			s.noteExpired(c, "refresh", now)
		}
		return nil, e
	}
	sid, ok := parseID(c.SessionID)
	acc := s.accounts.byAccountID(c.Subject)
	if !ok || acc == nil {
		return nil, errSessionNotFound
	}
	grace := s.settings.refreshGrace()
	// The successor is stored before the old session is marked rotated, so
	// a concurrent reuse of the old token always finds it to revoke.
	next := newRawID()
	s.sessions.put(next, session{account: acc.key, createdAt: now.Unix(), expiresAt: now.Add(s.cfg.refreshTTL).Unix(),
		accessExp: now.Add(s.cfg.accessTTL).Unix()})
	var is issued
	var keep []byte
	if grace > 0 {
		// Signed before the rotation, so that the pair is kept in the same
		// step: a retry that sees the rotation also sees its pair.
		is = s.signer.issue(acc.id, next.String(), now, s.cfg.accessTTL, s.cfg.refreshTTL)
		keep = is.result
	}
	rot := s.sessions.rotate(sid, next, now.UnixNano(), keep, int64(grace))
	switch rot.result {
	case rotated:
	case rotateGrace:
		s.sessions.discard(next)
		return rot.pair, nil
	default:
		s.sessions.discard(next)
		if rot.result == rotateReuse {
			s.log.Warn("refresh token reused; session chain revoked", "account", acc.username)
			s.note(Finding{Kind: FindingReuse, Time: now, Route: "refresh", SessionID: c.SessionID, Username: acc.username,
				Message: "a refresh token that was already rotated was presented again; the session chain is revoked"})
		}
		return nil, errSessionNotFound
	}
	if keep != nil {
		// Kept for the grace only, on the real clock as well (the server's
		// clock only runs faster): the sweep drops it by the server's clock.
		time.AfterFunc(grace, func() { s.sessions.forgetGrace(sid, next) })
	} else {
		is = s.signer.issue(acc.id, next.String(), now, s.cfg.accessTTL, s.cfg.refreshTTL)
	}
	if old := rot.old; old.accessExp > old.createdAt {
		lifetime := time.Duration(old.accessExp-old.createdAt) * time.Second
		if left := time.Unix(old.accessExp, 0).Sub(now); 2*left > lifetime {
			s.noteEarlyRefresh(Finding{Time: now, Route: "refresh", SessionID: c.SessionID, Username: acc.username}, left, lifetime)
		}
	}
	return is.result, nil
}

func (s *Server) logout(r *http.Request) ([]byte, *Error) {
	token, e := bearerToken(r.Header.Get("Authorization"))
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	c, e := s.signer.check(token, now, typeAccess, typeRefresh)
	if e != nil {
		if e == errTokenExpired {
			s.noteExpired(c, "logout", now)
		}
		return nil, e
	}
	sid, ok := parseID(c.SessionID)
	if !ok || !s.sessions.remove(sid, now.Unix()) {
		if sess, found := s.sessions.get(sid); ok && found && sess.rotated && c.Type == typeRefresh {
			s.note(Finding{Kind: FindingReuse, Time: now, Route: "logout", SessionID: c.SessionID, Username: s.usernameOf(c.Subject),
				Message: "a refresh token that was already rotated was presented again"})
		}
		return nil, errSessionNotFound
	}
	return emptyResult, nil
}

// noteExpired records an expired-token finding for the token of c.
func (s *Server) noteExpired(c *claims, route string, now time.Time) {
	if c == nil {
		return
	}
	exp := time.Unix(c.ExpiresAt, 0)
	s.note(Finding{Kind: FindingExpiredToken, Time: now, Route: route, SessionID: c.SessionID, Username: s.usernameOf(c.Subject),
		Message: "an expired " + c.Type + " token was presented, " + now.Sub(exp).Round(time.Second).String() + " after its expiry"})
}

// usernameOf names the account of an id, "" when it is gone.
func (s *Server) usernameOf(accountID string) string {
	if acc := s.accounts.byAccountID(accountID); acc != nil {
		return acc.username
	}
	return ""
}

// sessionCreated counts a new live session of acc, and notes a
// session-leak when a login takes the account over the threshold.
func (s *Server) sessionCreated(acc *account, sessionID string, now time.Time, viaLogin bool) {
	n := s.sessions.addLive(acc.key, 1)
	if limit := s.settings.leakThreshold(); viaLogin && n == limit+1 {
		s.note(Finding{Kind: FindingSessionLeak, Time: now, Route: "login", SessionID: sessionID, Username: acc.username,
			Message: "the account has more than " + itoa(limit) + " live sessions: logins that are never logged out"})
	}
}
