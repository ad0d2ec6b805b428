#include "gnuplot.hpp"

#include <cstdlib>

#include "chorus/error.hpp"

namespace chorus::server {

void run_gnuplot(const std::filesystem::path& directory, const std::string& script) {
    const std::string command = "cd '" + directory.string() + "' && gnuplot " + script;
    if (std::system(command.c_str()) != 0) {
        throw IoError("gnuplot failed on " + (directory / script).string() +
                      " (is gnuplot with the pngcairo terminal installed?); the data files are in " +
                      directory.string());
    }
}

}  // namespace chorus::server
