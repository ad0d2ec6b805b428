// ScratchPool: a returned scratch is reused, one is made only when none is free, and a lease gives
// its scratch back when an exception leaves its scope.
#include <memory>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "chorus/models/scratch_pool.hpp"

using chorus::models::ScratchPool;

namespace {

struct Buffer {
    int id = 0;
};

}  // namespace

TEST_CASE("a scratch pool reuses returned scratch and makes one only when none is free", "[scratch]") {
    const ScratchPool<Buffer> pool;
    int made = 0;
    const auto make = [&made] { return std::make_unique<Buffer>(Buffer{++made}); };
    const Buffer* first = nullptr;
    {
        const auto a = pool.lease(make);
        first = &*a;
        CHECK(a->id == 1);
        const auto b = pool.lease(make);  // `a` is still out: a second one is made
        CHECK(b->id == 2);
        CHECK(made == 2);
    }
    const auto again = pool.lease(make);
    CHECK(made == 2);
    CHECK((&*again == first || again->id == 2));  // one of the two returned, not a new one

    // An exception in the lease's scope still returns it.
    const int before = made;
    try {
        const auto c = pool.lease(make);
        throw std::runtime_error("evaluation failed");
    } catch (const std::runtime_error&) {
    }
    const auto d = pool.lease(make);
    CHECK(made == before);
}
