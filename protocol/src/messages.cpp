#include "chorus/protocol/messages.hpp"

#include <charconv>
#include <string>

#include "chorus/error.hpp"

namespace chorus::protocol {
namespace {

std::string_view trim(std::string_view text) {
    constexpr std::string_view blanks = " \t\r\n";
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

std::int32_t parse_batch_size(std::string_view value, const Limits& limits) {
    std::int64_t parsed = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (value.empty() || error != std::errc{} || end != value.data() + value.size() || parsed < 1) {
        throw ProtocolError("INIT parameter batch_size:'" + std::string(value) +
                            "' is not a positive integer; check the batch_size of the server's socket");
    }
    if (parsed > limits.max_batch_size) {
        throw ProtocolError("INIT parameter batch_size:" + std::to_string(parsed) + " exceeds the limit of " +
                            std::to_string(limits.max_batch_size) +
                            " structures per batch; use a smaller batch_size on the server's socket");
    }
    return static_cast<std::int32_t>(parsed);
}

}  // namespace

std::string_view header_text(Header header) {
    switch (header) {
        case Header::status:
            return "STATUS      ";
        case Header::ready:
            return "READY       ";
        case Header::have_data:
            return "HAVEDATA    ";
        case Header::need_init:
            return "NEEDINIT    ";
        case Header::init:
            return "INIT        ";
        case Header::pos_data:
            return "POSDATA     ";
        case Header::get_force:
            return "GETFORCE    ";
        case Header::force_ready:
            return "FORCEREADY  ";
        case Header::exit:
            return "EXIT        ";
    }
    return "            ";  // unreachable for valid enumerators; keeps -Wreturn-type quiet
}

InitParameters parse_init_parameters(std::string_view text, const Limits& limits) {
    // C and Fortran peers send NUL-terminated or NUL-padded strings (ASE sends a single zero byte):
    // the text ends at the first NUL.
    text = text.substr(0, text.find('\0'));

    InitParameters parameters;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        const auto colon = item.find(':');
        const std::string_view key = trim(item.substr(0, colon));
        const std::string_view value =
            colon == std::string_view::npos ? std::string_view{} : trim(item.substr(colon + 1));
        if (key == "batch_size") {
            parameters.batch_size = parse_batch_size(value, limits);
        }
        parameters.items.emplace_back(key, value);
    }
    return parameters;
}

}  // namespace chorus::protocol
