//go:build !unix

package credstore

// openNonblock is 0 where named pipes do not block an open the same way.
const openNonblock = 0
