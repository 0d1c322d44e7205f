package timefmt

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{time.Second, "1s"},
		{9*time.Second + 999*time.Millisecond, "9s"}, // rounded down, not up
		{59 * time.Second, "59s"},
		{time.Minute, "1m 0s"},
		{14*time.Minute + 32*time.Second, "14m 32s"},
		{59*time.Minute + 59*time.Second, "59m 59s"},
		{time.Hour, "1h 0m"},
		{2*time.Hour + 5*time.Minute + 59*time.Second, "2h 5m"},
		{23*time.Hour + 59*time.Minute, "23h 59m"},
		{24 * time.Hour, "1d 0h 0m"},
		{6*24*time.Hour + 23*time.Hour + 59*time.Minute + 59*time.Second, "6d 23h 59m"},
		{7 * 24 * time.Hour, "7d 0h 0m"},
		{400 * 24 * time.Hour, "400d 0h 0m"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
