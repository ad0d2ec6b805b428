#pragma once
// `chorus reweight --plot FILE.png|FILE.svg`: the running reweighted average of one observable
// for every member (and their mean) against the number of frames used, so a user sees whether the
// averages have settled and how far apart the members are. Drawn by gnuplot, run as a tool: a
// data file and a script go to a temporary directory, gnuplot's exit status is checked.
#include <string>

#include <Eigen/Core>

namespace chorus::server {

struct RunningAverages {
    Eigen::VectorXd frames;   // frame counts t at which the prefix [0, t) was averaged
    Eigen::MatrixXd members;  // frames.size() × M: ⟨a⟩_i over the first t frames
    Eigen::VectorXd mean;     // mean over members
};

// At up to `points` frame counts spread evenly over the trajectory (from 2 frames on), the same
// estimator as the final result (exact or CEA) applied to the prefix.
RunningAverages running_averages(const Eigen::MatrixXd& deviations, const Eigen::VectorXd& observable,
                                 double beta, bool exact, int points = 200);

// Writes the plot; the terminal follows the extension (.png: pngcairo, .svg: svg). Throws
// ConfigError for another extension or when gnuplot is not installed, IoError when gnuplot fails
// (its output is in the message).
void plot_running_averages(const RunningAverages& averages, const std::string& observable_label,
                           const std::string& path);

}  // namespace chorus::server
