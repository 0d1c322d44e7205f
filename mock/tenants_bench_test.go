package mock_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// BenchmarkNewTenant creates tenants through POST /_mock/tenants at the
// default options, 1,000 at a time (the default limit), and reports the
// median time of one creation:
//
//	go test -run '^$' -bench NewTenant -benchtime 3000x ./mock/
func BenchmarkNewTenant(b *testing.B) {
	s := newBenchServer(b)
	h := s.Handler()
	took := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	for range b.N {
		if len(s.Tenants()) == mock.DefaultMaxTenants {
			b.StopTimer()
			for _, t := range s.Tenants() {
				_ = s.DeleteTenant(t.ID)
			}
			b.StartTimer()
		}
		t0 := time.Now()
		serve(b, h, httptest.NewRequest(http.MethodPost, "/_mock/tenants", nil))
		took = append(took, time.Since(t0))
	}
	b.ReportMetric(float64(medianDuration(took).Nanoseconds())/1e6, "ms/tenant-median")
}

// BenchmarkTenantMemory holds 1,000 idle tenants of one server and reports
// the heap each takes:
//
//	go test -run '^$' -bench TenantMemory -benchtime 1x ./mock/
func BenchmarkTenantMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		s, err := mock.New(mock.WithMaxTenants(n))
		if err != nil {
			b.Fatal(err)
		}
		before := heapInUse()
		for range n {
			if _, err := s.NewTenant(); err != nil {
				b.Fatal(err)
			}
		}
		held := heapInUse()
		b.ReportMetric(float64(held-before)/n, "heap-B/tenant")
		runtime.KeepAlive(s)
		s.Close()
	}
}
