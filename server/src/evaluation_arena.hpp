#pragma once
// The TBB arena that `chorus serve` evaluates in, with the --threads it was asked for. Two TBB
// defaults stand in the way, and both cost a core on this 2-core machine before they were found:
//  - Work handed off by async_run_in_arena runs on worker threads only, and workers never enter
//    the slots an arena reserves for external threads (one by default): an arena of N slots gave
//    handed-off evaluations N − 1 threads.
//  - The process has hardware concurrency − 1 workers unless told otherwise: `--threads 2` with
//    every evaluation handed off had one worker on a 2-core machine.
// Evaluations run by the I/O thread itself (SessionSettings::evaluate_inline, arena.execute) are
// the other way round: that thread needs one reserved slot, or workers lingering after the last
// request could fill every slot and make the call a hand-off again.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

namespace chorus::server {

class EvaluationArena {
public:
    // threads ≥ 1; evaluate_inline says how requests reach the arena (see above).
    EvaluationArena(int threads, bool evaluate_inline);
    EvaluationArena(const EvaluationArena&) = delete;
    EvaluationArena& operator=(const EvaluationArena&) = delete;

    tbb::task_arena& arena() { return arena_; }

private:
    tbb::global_control workers_;  // process-wide while this arena lives
    tbb::task_arena arena_;
};

}  // namespace chorus::server
