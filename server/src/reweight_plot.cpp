#include "reweight_plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "chorus/engine/reweighting.hpp"
#include "chorus/error.hpp"

extern char** environ;

namespace chorus::server {
namespace {

// A gnuplot single-quoted string: a quote inside is doubled.
std::string quoted(const std::string& text) {
    std::string result = "'";
    for (const char c : text) {
        result += c;
        if (c == '\'') {
            result += '\'';
        }
    }
    return result + "'";
}

// A temporary directory removed when this goes out of scope.
class TemporaryDirectory {
public:
    TemporaryDirectory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "chorus-plot-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw IoError(fmt::format("cannot create a temporary directory for gnuplot ({}); check TMPDIR",
                                      std::strerror(errno)));
        }
        path_ = pattern;
    }
    ~TemporaryDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

std::string read_all(const std::filesystem::path& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// Runs `gnuplot script` with its stdout and stderr in `output`; returns the wait status.
int run_gnuplot(const std::filesystem::path& script, const std::filesystem::path& output) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::string program = "gnuplot";
    std::string argument = script.string();
    char* arguments[] = {program.data(), argument.data(), nullptr};
    pid_t child = 0;
    const int error = ::posix_spawnp(&child, "gnuplot", &actions, nullptr, arguments, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error == ENOENT) {
        throw ConfigError(
            "--plot needs gnuplot, which is not installed (or not on PATH); install it (Debian: "
            "apt-get install gnuplot-nox) or leave out --plot");
    }
    if (error != 0) {
        throw IoError(fmt::format("cannot run gnuplot for --plot: {}", std::strerror(error)));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            throw IoError(fmt::format("waiting for gnuplot failed: {}", std::strerror(errno)));
        }
    }
    return status;
}

}  // namespace

RunningAverages running_averages(const Eigen::MatrixXd& deviations, const Eigen::VectorXd& observable,
                                 double beta, bool exact, int points) {
    const Eigen::Index frames = deviations.rows();
    const Eigen::Index members = deviations.cols();
    std::vector<Eigen::Index> counts;
    for (int j = 1; j <= points; ++j) {
        const auto t = std::max<Eigen::Index>(2, (frames * j + points - 1) / points);
        if (t <= frames && (counts.empty() || t > counts.back())) {
            counts.push_back(t);
        }
    }
    RunningAverages averages;
    averages.frames.resize(static_cast<Eigen::Index>(counts.size()));
    averages.members.resize(static_cast<Eigen::Index>(counts.size()), members);
    averages.mean.resize(static_cast<Eigen::Index>(counts.size()));
    for (std::size_t p = 0; p < counts.size(); ++p) {
        const auto row = static_cast<Eigen::Index>(p);
        const Eigen::Index t = counts[p];
        const Eigen::MatrixXd prefix = deviations.topRows(t);
        const Eigen::MatrixXd values = observable.head(t);
        const engine::ReweightedAverages result = exact ? engine::reweight_exact(prefix, values, beta)
                                                        : engine::reweight_cumulant(prefix, values, beta);
        averages.frames[row] = static_cast<double>(t);
        averages.members.row(row) = result.members.row(0);
        averages.mean[row] = result.member_mean[0];
    }
    return averages;
}

void plot_running_averages(const RunningAverages& averages, const std::string& observable_label,
                           const std::string& path) {
    const std::string extension = std::filesystem::path(path).extension().string();
    std::string terminal;
    if (extension == ".png") {
        terminal = "pngcairo size 1100,650 font 'sans,11'";
    } else if (extension == ".svg") {
        terminal = "svg size 1100,650 dynamic font 'sans,11'";
    } else {
        throw ConfigError(fmt::format("--plot '{}': give a file ending in .png or .svg", path));
    }
    if (averages.frames.size() == 0) {
        throw InputError("--plot: fewer than 2 frames, nothing to plot");
    }
    TemporaryDirectory directory;
    const auto data_path = directory / "running.dat";
    {
        std::ofstream data(data_path);
        data << "# frames member_mean member_1 ... member_M\n";
        for (Eigen::Index p = 0; p < averages.frames.size(); ++p) {
            data << fmt::format("{} {}", averages.frames[p], averages.mean[p]);
            for (Eigen::Index i = 0; i < averages.members.cols(); ++i) {
                data << fmt::format(" {}", averages.members(p, i));
            }
            data << '\n';
        }
        if (!data) {
            throw IoError("cannot write gnuplot's data file in " + data_path.parent_path().string());
        }
    }
    const auto members = averages.members.cols();
    const std::string output_path = std::filesystem::absolute(path).string();
    const auto script_path = directory / "plot.gp";
    {
        std::ofstream script(script_path);
        script << "set terminal " << terminal << "\n"
               << "set output " << quoted(output_path) << "\n"
               << "set title "
               << quoted(fmt::format("running reweighted averages of {} ({} members)", observable_label,
                                     members))
               << " noenhanced\n"
               << "set xlabel 'frames averaged'\n"
               << "set ylabel " << quoted(observable_label) << " noenhanced\n"
               << "set key outside right top noenhanced\n"
               << "set grid\n"
               << "data = " << quoted(data_path.string()) << "\n"
               << "plot for [i=1:" << members
               << "] data using 1:(column(i+2)) with lines lw 1.5 title sprintf('member %d', i), \\\n"
               << "     data using 1:2 with lines lw 3 dt 2 lc rgb 'black' title 'mean over members'\n";
        if (!script) {
            throw IoError("cannot write gnuplot's script in " + script_path.parent_path().string());
        }
    }
    const auto log_path = directory / "gnuplot.log";
    const int status = run_gnuplot(script_path, log_path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw IoError(fmt::format("gnuplot failed (exit status {}) writing '{}':\n{}",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1, path, read_all(log_path)));
    }
    if (!std::filesystem::exists(output_path)) {
        throw IoError(
            fmt::format("gnuplot wrote no '{}'; check that its directory exists and is writable", path));
    }
}

}  // namespace chorus::server
