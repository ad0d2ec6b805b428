#pragma once
// Helpers for the protocol tests: raw byte builders (independent of the encoders, so that error
// paths can be reached with bytes no encoder would write), golden-file comparison, and decoding.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>

#include "chorus/error.hpp"
#include "chorus/protocol/codec.hpp"
#include "test_support.hpp"

namespace chorus::protocol::test {

// Appends raw wire items; used to write malformed messages by hand.
class RawBytes {
public:
    RawBytes& text(std::string_view s) {
        for (const char c : s) {
            bytes_.push_back(static_cast<std::byte>(c));
        }
        return *this;
    }
    RawBytes& header(std::string_view name) {
        std::string padded(name);
        padded.resize(12, ' ');
        return text(padded);
    }
    RawBytes& i32(std::int32_t value) { return raw(&value, sizeof value); }
    RawBytes& f64(double value) { return raw(&value, sizeof value); }
    RawBytes& f64s(std::initializer_list<double> values) {
        for (const double v : values) {
            f64(v);
        }
        return *this;
    }
    RawBytes& repeat_f64(double value, std::size_t count) {
        for (std::size_t k = 0; k < count; ++k) {
            f64(value);
        }
        return *this;
    }
    const Bytes& bytes() const { return bytes_; }

private:
    RawBytes& raw(const void* data, std::size_t size) {
        const auto* p = static_cast<const std::byte*>(data);
        bytes_.insert(bytes_.end(), p, p + size);
        return *this;
    }
    Bytes bytes_;
};

// The message of the ProtocolError that `action` throws; fails the test if it throws nothing.
// Exceptions of any other type propagate and fail the test too.
inline std::string protocol_error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const chorus::ProtocolError& error) {
        return error.what();
    }
    FAIL("expected a chorus::ProtocolError, but nothing was thrown");
    return {};
}

// --- golden files: hex text, 16 bytes per line, '#' lines are comments ---

inline std::string to_hex_lines(const Bytes& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t k = 0; k < bytes.size(); ++k) {
        const auto b = std::to_integer<unsigned>(bytes[k]);
        text += digits[b >> 4];
        text += digits[b & 15];
        text += (k % 16 == 15 || k + 1 == bytes.size()) ? '\n' : ' ';
    }
    return text;
}

inline Bytes read_hex_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    Bytes bytes;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::istringstream words(line);
        std::string word;
        while (words >> word) {
            REQUIRE(word.size() == 2);
            bytes.push_back(static_cast<std::byte>(std::stoul(word, nullptr, 16)));
        }
    }
    return bytes;
}

// Compares `bytes` with tests/data/protocol/<name>.hex byte for byte, or rewrites the file when
// the runner was started with --regenerate.
inline void check_golden(const std::string& name, const std::string& description, const Bytes& bytes) {
    const auto path = chorus::test::data_path("protocol/" + name + ".hex");
    if (chorus::test::regenerate_references()) {
        std::ofstream out(path);
        out << "# " << description << "\n# " << bytes.size()
            << " bytes; regenerate with chorus_protocol_tests --regenerate\n"
            << to_hex_lines(bytes);
        REQUIRE(out.good());
        WARN("regenerated " << path.string());
        return;
    }
    INFO("golden file " << path.string()
                        << " (run with --regenerate to rewrite it after an intended change)");
    REQUIRE(std::filesystem::exists(path));
    const Bytes expected = read_hex_file(path);
    for (std::size_t k = 0; k < std::min(expected.size(), bytes.size()); ++k) {
        INFO("first difference at byte " << k);
        REQUIRE(std::to_integer<unsigned>(bytes[k]) == std::to_integer<unsigned>(expected[k]));
    }
    REQUIRE(bytes.size() == expected.size());
}

inline Bytes golden_bytes(const std::string& name) {
    return read_hex_file(chorus::test::data_path("protocol/" + name + ".hex"));
}

// --- decoding whole buffers, in chunks of `chunk` bytes (0: all at once) ---

template <class Decoder>
auto decode_all(Decoder& decoder, const Bytes& bytes, std::size_t chunk = 0) {
    using Message = typename decltype(decoder.take())::value_type;
    std::vector<Message> messages;
    std::size_t at = 0;
    while (at < bytes.size()) {
        const std::size_t size = chunk == 0 ? bytes.size() - at : std::min(chunk, bytes.size() - at);
        const std::size_t consumed = decoder.feed(std::span(bytes).subspan(at, size));
        at += consumed;
        if (auto message = decoder.take()) {
            messages.push_back(std::move(*message));
        } else {
            REQUIRE(consumed == size);  // no complete message: everything given must be taken
        }
    }
    return messages;
}

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace chorus::protocol::test
