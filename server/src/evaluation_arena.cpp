#include "evaluation_arena.hpp"

#include <cstddef>

namespace chorus::server {

// max_allowed_parallelism counts the workers plus one external thread.
EvaluationArena::EvaluationArena(int threads, bool evaluate_inline)
    : workers_(tbb::global_control::max_allowed_parallelism,
               static_cast<std::size_t>(evaluate_inline ? threads : threads + 1)),
      arena_(threads, evaluate_inline ? 1u : 0u) {}

}  // namespace chorus::server
