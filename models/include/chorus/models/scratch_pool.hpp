#pragma once
// Per-evaluation scratch of a const model that many threads evaluate at once. A pool rather than
// thread-local storage: TBB may run another evaluation on a thread that is waiting inside the
// feature calculator's own parallel loop, which would then share its scratch. A Lease gives its
// scratch back on every path, exceptions included. `Scratch` may be incomplete where the pool is
// declared; it must be complete where lease() and the owner's destructor are instantiated.
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace chorus::models {

template <typename Scratch>
class ScratchPool {
public:
    class Lease {
    public:
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { pool_.give_back(std::move(scratch_)); }

        Scratch& operator*() const { return *scratch_; }
        Scratch* operator->() const { return scratch_.get(); }

    private:
        friend class ScratchPool;
        Lease(const ScratchPool& pool, std::unique_ptr<Scratch> scratch)
            : pool_(pool), scratch_(std::move(scratch)) {}

        const ScratchPool& pool_;
        std::unique_ptr<Scratch> scratch_;
    };

    // A scratch from the pool, or make()'s new std::unique_ptr<Scratch> when none is free.
    template <typename Make>
    Lease lease(Make&& make) const {
        {
            const std::lock_guard lock(mutex_);
            if (!free_.empty()) {
                std::unique_ptr<Scratch> scratch = std::move(free_.back());
                free_.pop_back();
                return Lease(*this, std::move(scratch));
            }
        }
        return Lease(*this, std::forward<Make>(make)());
    }

private:
    void give_back(std::unique_ptr<Scratch> scratch) const {
        const std::lock_guard lock(mutex_);
        free_.push_back(std::move(scratch));
    }

    mutable std::mutex mutex_;
    mutable std::vector<std::unique_ptr<Scratch>> free_;
};

}  // namespace chorus::models
