//go:build race

package sfu_test

// raceDetector says whether the tests run with -race, which empties
// sync.Pools at random and so allocates where a real build does not.
const raceDetector = true
