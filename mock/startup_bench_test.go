package mock_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// The start-up benchmarks compare a mock at its default options with
// httptest.NewServer in the same run, alternating the two in every
// iteration so that a busy machine slows both alike; the ratio is the
// figure, the times are context:
//
//	go test -run '^$' -bench Startup -benchtime 2000x ./mock/
//	go test -run '^$' -bench IdleServerMemory -benchtime 1x ./mock/

// cleanupTB is a testing.TB for mock.Start that runs its cleanups when
// told to, so that each iteration's server is closed inside the iteration.
type cleanupTB struct {
	testing.TB
	cleanups []func()
}

func (c *cleanupTB) Helper()           {}
func (c *cleanupTB) Cleanup(fn func()) { c.cleanups = append(c.cleanups, fn) }
func (c *cleanupTB) done() {
	for _, fn := range slices.Backward(c.cleanups) {
		fn()
	}
	c.cleanups = c.cleanups[:0]
}

func BenchmarkStartup(b *testing.B) {
	variants := []struct {
		name string
		run  func(b *testing.B)
	}{
		{"New+Close", func(b *testing.B) {
			s, err := mock.New()
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}},
		{"NewServer+Close", func(*testing.B) { mock.NewServer().Close() }},
		{"Start+cleanup", func(b *testing.B) {
			tb := &cleanupTB{TB: b}
			mock.Start(tb)
			tb.done()
		}},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			var base, mine []time.Duration
			for range b.N {
				t0 := time.Now()
				httptest.NewServer(http.NotFoundHandler()).Close()
				t1 := time.Now()
				v.run(b)
				base = append(base, t1.Sub(t0))
				mine = append(mine, time.Since(t1))
			}
			hb, mb := medianDuration(base), medianDuration(mine)
			b.ReportMetric(float64(hb.Nanoseconds())/1e3, "µs-httptest-median")
			b.ReportMetric(float64(mb.Nanoseconds())/1e3, "µs-mock-median")
			b.ReportMetric(float64(mb)/float64(hb), "x-httptest")
		})
	}
}

func medianDuration(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkIdleServerMemory reports the heap that one idle mock.New at the
// default options holds, over 1,000 of them held at once.
func BenchmarkIdleServerMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		servers := make([]*mock.Server, n)
		before := heapInUse()
		for i := range servers {
			s, err := mock.New()
			if err != nil {
				b.Fatal(err)
			}
			servers[i] = s
		}
		held := heapInUse()
		b.ReportMetric(float64(held-before)/n, "heap-B/server")
		for _, s := range servers {
			s.Close()
		}
	}
}
