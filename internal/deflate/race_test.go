//go:build race

package deflate

// raceEnabled reports whether the race detector is on; it makes sync.Pool
// drop items at random, so allocation counts through pools are not stable.
const raceEnabled = true
