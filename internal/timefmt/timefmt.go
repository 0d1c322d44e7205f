// Package timefmt writes durations the way dyorctl shows them to people, in
// the CLI and in the app alike: "6d 23h 59m", "2h 5m", "14m 32s", "9s".
package timefmt

import (
	"fmt"
	"time"
)

// Duration writes d rounded down to the second, in at most its three
// largest units and without the seconds once it is an hour or more: "45s",
// "14m 32s", "2h 5m", "6d 23h 59m". Rounding down means a countdown never
// shows a second that has not yet begun, and reads "0s" only in its last
// second. Anything under a second, negative included, is "0s".
func Duration(d time.Duration) string {
	s := int64(d / time.Second)
	if s <= 0 {
		return "0s"
	}
	days, hours, mins, secs := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm %ds", mins, secs)
	}
	return fmt.Sprintf("%ds", secs)
}
