package mock

import (
	"sync/atomic"
	"time"
)

// MaxClockOffset bounds how far Advance may take the server's clock past
// its base clock in total (100 years), so that times never overflow and
// tokens never get a negative iat.
const MaxClockOffset = 100 * 365 * 24 * time.Hour

// clock is the one clock of a server: tokens are issued and checked,
// lockouts end and sessions are swept by it. It is a base clock plus an
// offset that Advance moves forward.
type clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

func (c *clock) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// advance moves the clock forward by d unless that takes the offset past
// MaxClockOffset, and reports whether it did.
func (c *clock) advance(d time.Duration) bool {
	for {
		cur := c.offset.Load()
		if d > MaxClockOffset-time.Duration(cur) {
			return false
		}
		if c.offset.CompareAndSwap(cur, cur+int64(d)) {
			return true
		}
	}
}

func (c *clock) reset() { c.offset.Store(0) }
