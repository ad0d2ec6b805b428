#pragma once
// `chorus query ADDR REQUEST [KEY=VALUE...]`: the client of the control API of `chorus serve
// --control` (README "Control API"). Sends one request, prints the response as a readable table, or
// the raw JSON line with --json.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace chorus::server {

struct QuerySettings {
    std::string address;                 // as --control: PATH, unix:PATH, tcp:HOST:PORT
    std::string request;                 // status, uncertainty, reweight, capture, metrics
    std::vector<std::string> arguments;  // KEY=VALUE; VALUE is JSON when it parses as JSON, else a string
    bool json = false;
    std::optional<std::string> token;  // --token / CHORUS_CONTROL_TOKEN
    double timeout_seconds = 30.0;
};

// The request line (without '\n') the settings describe. Throws ConfigError for an argument
// without '='.
std::string build_query_line(const QuerySettings& settings);

// 0 for an {"ok": true} response, 1 for an error response (printed to `err`). Throws IoError when
// the server cannot be reached or does not answer in time.
int run_query(const QuerySettings& settings, std::ostream& out, std::ostream& err);

}  // namespace chorus::server
