#pragma once
// `chorus bench roundtrip --committee-table --model FILE --structure FILE.xyz`: what a linear
// committee costs, as one table (issue 8). All rows are timed in the same run, each with a ratio to
// its same-run baseline, so that a busy machine shifts them together:
//   - mean forces + member energies at M = 1, 8, 32 (members of the model file taken or repeated in
//     memory; ratio to M = 1);
//   - every member's forces and virials, by the one-pass path and by one adjoint pass per member
//     (the previous algorithm; both relative to the mean-forces row of the same M);
//   - the socket round trip (UNIX and TCP with extras energies, UNIX with full) of the model as given,
//     each call paired with the direct evaluation of its frame: their difference is the protocol's cost;
//   - 64 beads through one serve process on one evaluation thread, over 64 connections (against
//     one connection) and in i-PI's batched mode on one connection (against the 64 connections);
//   - one against --threads threads on the structure replicated 2×2×2;
//   - the cost and memory per atom from the structure up to --max-atoms (replicated n×n×n; memory
//     is the growth of the resident set over the evaluation, per atom).
// Timed calls: --calls on the structure as given, fewer on larger ones (same atoms × calls).
#include "settings.hpp"

namespace chorus::server {

// Prints the table (and writes JSON with --json); returns the exit code. Throws ConfigError when the
// model is not a linear committee or no structure is given.
int run_committee_bench(const RoundtripBenchSettings& settings);

}  // namespace chorus::server
