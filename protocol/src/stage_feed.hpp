#pragma once
// The byte-copying loop of both stream decoders (client and server side). A decoder reads a
// message as a sequence of stages, each one contiguous byte range (a scratch buffer, or a vector
// of the message written in place); this fills the current range from whatever bytes arrived and
// hands every completed range to the decoder, which moves on to the next stage.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

namespace chorus::protocol::wire {

// `Stage` has message_ready (stop: the message waits to be taken) and failed. `target()` is the
// current stage's byte range, `filled` how much of it has arrived, `complete()` consumes a full
// range and sets the next stage; if it throws, the decoder is left failed for good, since the
// stream is out of step. Returns the number of bytes consumed.
template <typename Stage, typename Target, typename Complete>
std::size_t feed_stages(std::span<const std::byte> data, Stage& stage, std::size_t& filled, Target&& target,
                        Complete&& complete) {
    std::size_t consumed = 0;
    while (stage != Stage::message_ready && consumed < data.size()) {
        const std::span<std::byte> into = target();
        const std::size_t count = std::min(into.size() - filled, data.size() - consumed);
        std::memcpy(into.data() + filled, data.data() + consumed, count);
        filled += count;
        consumed += count;
        if (filled == into.size()) {
            try {
                complete();
            } catch (...) {
                stage = Stage::failed;
                throw;
            }
        }
    }
    return consumed;
}

}  // namespace chorus::protocol::wire
