// libFuzzer target: parse_init_parameters, the INIT text (comma-separated key:value items, i-PI's
// batch_size among them). It may only throw ProtocolError, and only for a bad batch_size.
// Seeds: corpus/init_parameters.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chorus/protocol/messages.hpp"
#include "fuzz_support.hpp"

namespace {
constexpr chorus::protocol::Limits fuzz_limits{.max_batch_size = 64};
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using chorus::fuzz::check;
    const std::string_view text = chorus::fuzz::as_text(data, size);
    chorus::protocol::InitParameters parameters;
    const bool parsed = chorus::fuzz::succeeds_or_throws<chorus::ProtocolError>(
        [&] { parameters = chorus::protocol::parse_init_parameters(text, fuzz_limits); });
    if (!parsed) {
        check(text.find("batch_size") != std::string_view::npos, "only a batch_size item is an error");
        return 0;
    }
    if (parameters.batch_size) {
        check(*parameters.batch_size >= 1 && *parameters.batch_size <= fuzz_limits.max_batch_size,
              "batch_size is a positive integer within the limit");
    }
    const std::string_view before_nul = text.substr(0, text.find('\0'));
    for (const auto& [key, value] : parameters.items) {
        check(key.find(',') == std::string::npos && value.find(',') == std::string::npos,
              "items are split at every comma");
        check(before_nul.find(key) != std::string_view::npos, "keys come from the text before the first NUL");
    }
    return 0;
}
