#pragma once
// SHA-256 (FIPS 180-4) for the checksums of model files and the hashes of training data files.
// Integrity, not security: it detects corrupted or hand-edited model files and names exactly which
// data a model was trained on. Small and dependency-free so that chorus needs no crypto library.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace chorus::models {

class Sha256 {
public:
    Sha256();
    // Feeds more bytes; may be called any number of times before digest().
    void update(std::string_view bytes);
    // Lower-case hexadecimal digest (64 characters) of everything fed so far. Ends the hash:
    // call it once.
    std::string hex_digest();

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t length_ = 0;  // bytes fed
};

// Hex digest of a string.
std::string sha256_hex(std::string_view bytes);
// Hex digest of a file's bytes, streamed. Throws IoError when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace chorus::models
