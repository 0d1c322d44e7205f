package mock

import (
	"sync/atomic"
	"time"
)

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

func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func (c *clock) reset() { c.offset.Store(0) }
