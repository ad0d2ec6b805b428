#pragma once
// Runs a function on a TBB task arena and completes on an Asio executor: the bridge that keeps
// model evaluations off the I/O thread while the session coroutine simply co_awaits the result.
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include <oneapi/tbb/task_arena.h>
#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "thread_sanitizer.hpp"

namespace chorus::server {

// Completes with (exception_ptr, result of work()): use_awaitable rethrows the exception in the
// coroutine. `work` runs on an arena thread; the completion runs on `executor`, which is kept busy
// meanwhile so that io_context::run() does not return while an evaluation is in flight.
template <typename Work, typename CompletionToken>
auto async_run_in_arena(tbb::task_arena& arena, const asio::any_io_executor& executor, Work work,
                        CompletionToken&& token) {
    using Result = std::invoke_result_t<Work&>;
    auto initiation = [&arena, executor](auto handler, Work task) {
        // TBB may copy the functor and calls it as const: share the move-only handler instead.
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        auto work_guard = std::make_shared<asio::executor_work_guard<asio::any_io_executor>>(executor);
        auto job = [shared_handler, work_guard, task = std::move(task)] {
            tsan_acquire(shared_handler.get());
            std::exception_ptr error;
            Result result{};
            try {
                result = task();
            } catch (...) {
                error = std::current_exception();
            }
            asio::post(work_guard->get_executor(),
                       [shared_handler, work_guard, error, result = std::move(result)]() mutable {
                           work_guard->reset();
                           (*shared_handler)(error, std::move(result));
                       });
        };
        // The hand-off through TBB's queue, made visible to ThreadSanitizer (thread_sanitizer.hpp).
        // Only the move of `job` into TBB's task object happens after the release: tests/tsan.supp
        // suppresses exactly that (frame enqueue_task).
        tsan_release(shared_handler.get());
        arena.enqueue(std::move(job));
    };
    return asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(std::move(initiation),
                                                                                   token, std::move(work));
}

}  // namespace chorus::server
