#pragma once
// The i-PI socket protocol's messages as plain values (atomic units, as on the wire).
// See shared/protocol.md for the contract this follows.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace chorus::protocol {

inline constexpr std::size_t header_size = 12;

enum class Header { status, ready, have_data, need_init, init, pos_data, get_force, force_ready, exit };

// The 12-byte, space-padded upper-case text of a header, e.g. "POSDATA     ".
std::string_view header_text(Header header);

// Sizes accepted from a peer, checked before anything is allocated.
struct Limits {
    std::int32_t max_atoms = 10'000'000;
    std::int32_t max_init_bytes = 1 << 20;
    std::int32_t max_batch_size = 4096;
    std::int32_t max_extras_bytes = 1 << 30;  // only used when decoding FORCEREADY (tests, test servers)
};

// One structure as i-PI sends it. `cell` is h in row-major order: the lattice vectors are the
// COLUMNS of the 3×3 matrix it spells (i-PI convention). h⁻¹ from the wire is dropped on decoding.
struct WireStructure {
    std::array<double, 9> cell{};
    std::vector<double> positions;  // 3·atoms, atom-major (x0 y0 z0 x1 …), Bohr
};

// --- server → client ---
struct StatusMessage {};
struct GetForceMessage {};
struct ExitMessage {};
struct InitMessage {
    std::int32_t replica_id = 0;
    std::string parameters;  // free text; see parse_init_parameters
};
// Single POSDATA carries one structure; batched POSDATA (after INIT with batch_size:B) carries B.
struct PosDataMessage {
    std::int32_t atoms = 0;
    std::vector<WireStructure> structures;
};
using ServerMessage = std::variant<StatusMessage, InitMessage, PosDataMessage, GetForceMessage, ExitMessage>;

// --- client → server ---
// One answer per structure. Energy Hartree, forces Hartree/Bohr (3·atoms, atom-major),
// virial Hartree (row-major, W = −∂E/∂ε), extras: free bytes (chorus sends JSON).
struct ForceResult {
    double energy = 0.0;
    std::vector<double> forces;
    std::array<double, 9> virial{};
    std::string extras;
};
struct StatusReply {
    Header state = Header::ready;  // ready, need_init or have_data
};
struct ForceReadyMessage {
    std::int32_t atoms = 0;
    std::vector<ForceResult> results;  // 1, or B when batched
};
using ClientMessage = std::variant<StatusReply, ForceReadyMessage>;

// The INIT string: comma-separated `key:value` items (i-PI appends `batch_size:N` when batching).
// Parsed tolerantly: items without a colon are kept as keys with empty values, whitespace trimmed.
struct InitParameters {
    std::optional<std::int32_t> batch_size;
    std::vector<std::pair<std::string, std::string>> items;
};
// Throws ProtocolError only for a batch_size that is not a positive integer within limits.
InitParameters parse_init_parameters(std::string_view text, const Limits& limits = {});

}  // namespace chorus::protocol
