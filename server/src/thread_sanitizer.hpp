#pragma once
// Happens-before annotations for ThreadSanitizer; empty functions in every other build.
// Debian's libtbb is not built with -fsanitize=thread, so TSan cannot see that enqueueing a task
// and a worker taking it synchronise (atomics inside libtbb.so): everything the I/O thread wrote
// before the enqueue would look racy against the evaluation. A release before the enqueue and an
// acquire on the same key as the task starts tell TSan what TBB guarantees, so the evaluation is
// still checked against anything the I/O thread does afterwards.
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace chorus::server {

inline void tsan_release(const void* key) {
#if defined(__SANITIZE_THREAD__)
    __tsan_release(const_cast<void*>(key));
#else
    static_cast<void>(key);
#endif
}

inline void tsan_acquire(const void* key) {
#if defined(__SANITIZE_THREAD__)
    __tsan_acquire(const_cast<void*>(key));
#else
    static_cast<void>(key);
#endif
}

}  // namespace chorus::server
