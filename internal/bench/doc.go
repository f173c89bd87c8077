// Package bench is the root of the wsup comparison benchmark module. It holds
// no code of its own: see cmd/compare (the driver), cmd/echoserver (one echo
// server per library), cmd/loadgen (the neutral raw-TCP load generator) and
// docs/performance.md at the repository root. Its tests check that every
// server echoes correctly and that the generator verifies every byte.
package bench
