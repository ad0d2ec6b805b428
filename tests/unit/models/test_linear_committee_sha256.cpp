// SHA-256 against the FIPS 180-4 / NIST example vectors, including the padding edge cases.
#include <string>

#include <catch2/catch.hpp>

#include "chorus/models/sha256.hpp"

using chorus::models::Sha256;
using chorus::models::sha256_hex;

TEST_CASE("SHA-256 reproduces the FIPS 180-4 example digests", "[sha256]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
                     "rlmnopqrsmnopqrst"
                     "nopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("SHA-256 of a million 'a' fed in uneven pieces", "[sha256]") {
    Sha256 hash;
    const std::string piece(997, 'a');  // not a multiple of the 64-byte block
    std::size_t fed = 0;
    while (fed + piece.size() <= 1'000'000) {
        hash.update(piece);
        fed += piece.size();
    }
    hash.update(std::string(1'000'000 - fed, 'a'));
    CHECK(hash.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 padding boundaries (55, 56 and 64 bytes) differ and are stable", "[sha256]") {
    // 55 bytes fit the length in one block, 56 need a second: both paths must run.
    CHECK(sha256_hex(std::string(55, 'a')) ==
          "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    CHECK(sha256_hex(std::string(56, 'a')) ==
          "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    CHECK(sha256_hex(std::string(64, 'a')) ==
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}
