#pragma once
// gnuplot, driven as an external tool by `chorus eval --plot`: the data files and a script are
// written first, so that a missing gnuplot still leaves everything needed to plot by hand.
#include <filesystem>
#include <string>

namespace chorus::server {

// Runs `script` (a file name inside `directory`) with `directory` as the working directory.
// Throws IoError when gnuplot fails or is missing, naming the script and the data directory.
void run_gnuplot(const std::filesystem::path& directory, const std::string& script);

}  // namespace chorus::server
