package mock_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// BenchmarkLiveSessionMemory holds 1,000,000 live sessions minted through
// the Go API and reports the heap they take per session; then it lets them
// expire, sweeps, and reports what is left. It also reports how long one
// full garbage collection takes while they are held: the marking work that
// the sessions add to every collection cycle of a busy server.
//
//	go test -run '^$' -bench LiveSessionMemory -benchtime 1x ./mock/
func BenchmarkLiveSessionMemory(b *testing.B) {
	const sessions = 1_000_000
	for range b.N {
		s, err := mock.New(mock.WithBcryptCost(4), mock.WithRefreshTTL(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		before := heapInUse()
		for range sessions {
			if _, err := s.MintSession(mock.ExampleUsername, 0, 0); err != nil {
				b.Fatal(err)
			}
		}
		held := heapInUse()
		t0 := time.Now()
		runtime.GC()
		gc := time.Since(t0)
		if err := s.Advance(time.Hour); err != nil { // expires them all, and sweeps
			b.Fatal(err)
		}
		after := heapInUse()
		b.ReportMetric(float64(held-before)/sessions, "B/session")
		b.ReportMetric(float64(after-before)/sessions, "B/session-after-sweep")
		b.ReportMetric(float64(gc.Microseconds())/1000, "ms/GC-held")
		runtime.KeepAlive(s)
		s.Close()
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
