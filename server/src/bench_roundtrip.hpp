#pragma once
// `chorus bench roundtrip`: what one i-PI force call costs through chorus, protocol included.
// An in-process stand-in for i-PI (IpiTestServer) sends POSDATA+GETFORCE pairs in i-PI 3's order to a
// real serve session on another thread and times each round trip; the bare model evaluation of the
// same structure is timed in the same run, so that the protocol's share is visible, with mean forces
// only and with every member's forces, so that the committee's share is visible too. The structure is
// a generated argon box or the first frame of an extxyz file, optionally replicated.
#include "settings.hpp"

namespace chorus::server {

// Prints a table (and writes JSON if asked); returns the exit code.
int run_roundtrip_bench(const RoundtripBenchSettings& settings);

}  // namespace chorus::server
