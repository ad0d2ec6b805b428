// Training of dipole committees (dipole_training.hpp).
#include "chorus/models/dipole/dipole_training.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "../training/labelled_frame_helpers.hpp"
#include "../training/tensor_training_setup.hpp"
#include "chorus/error.hpp"
#include "chorus/models/training/committee_training.hpp"
#include "chorus/models/training/normal_equations.hpp"

namespace chorus::models::dipole {
namespace {

namespace training = models::training;

const Eigen::Vector3d& reference_dipole(const training::LabelledFrame& labelled) {
    if (!labelled.frame.dipole) {
        throw InputError("frame " + std::to_string(labelled.index) + " of data file " +
                         std::to_string(labelled.file) + " (line " + std::to_string(labelled.frame.line) +
                         ") has no `dipole` key; dipole training needs a dipole (e·Å) on every training and "
                         "validation frame");
    }
    return *labelled.frame.dipole;
}

using training::detail::frames_of;
using training::detail::root_mean_square;
using training::detail::standard_deviation;

}  // namespace

features::OrderTruncation default_dipole_lambda_soap() { return {6, 3}; }

training::TrainSettings dipole_train_settings_from_json(const nlohmann::json& document,
                                                        const std::string& origin) {
    training::TrainSettings settings = training::train_settings_from_json(document, origin);
    const auto has = [&document](const char* block, const char* key) {
        return document.is_object() && document.contains(block) && document[block].is_object() &&
               document[block].contains(key);
    };
    if (!has("features", "lambda_soap")) {
        settings.features.cutoff = default_dipole_cutoff;
        settings.features.cutoff_width = 0.5;
        settings.features.lambda_soap = default_dipole_lambda_soap();
    }
    if (!has("committee", "fraction")) {
        settings.member_fraction = default_dipole_member_fraction;
    }
    if (!has("regulariser", "scale")) {
        settings.penalty_scale = training::PenaltyScale::column;
    }
    return settings;
}

features::FeatureSettings dipole_feature_settings(features::FeatureSettings settings) {
    if (!settings.lambda_soap) {
        settings.lambda_soap = default_dipole_lambda_soap();
    }
    settings.lambda_soap_lambdas = {1};
    settings.nu1_n_max.reset();
    settings.nu2.reset();
    settings.nu2_species_pairs.clear();
    settings.nu3.reset();
    settings.message_passing.reset();
    settings.validate();
    return settings;
}

std::vector<DipoleFramePrediction> predict_dipoles(const DipoleCommittee& committee,
                                                   const std::vector<const Frame*>& frames) {
    std::vector<DipoleFramePrediction> predictions;
    predictions.reserve(frames.size());
    for (const Frame* frame : frames) {
        predictions.push_back({frame->system.size(), frame->dipole, committee.predict(frame->system)});
    }
    return predictions;
}

DipoleErrorSummary summarise_dipole_errors(const std::vector<DipoleFramePrediction>& predictions,
                                           std::size_t calibration_bins) {
    DipoleErrorSummary summary;
    std::vector<double> residuals;
    std::vector<double> sigmas;
    std::array<std::vector<double>, 3> residuals_xyz;
    std::array<std::vector<double>, 3> sigmas_xyz;
    std::vector<double> references;
    std::vector<double> norm_residuals;
    std::vector<double> norm_sigmas;
    std::vector<double> norm_references;
    for (const DipoleFramePrediction& p : predictions) {
        if (!p.reference) {
            continue;
        }
        ++summary.frames;
        for (int d = 0; d < 3; ++d) {
            const double residual = (*p.reference)[d] - p.prediction.mean[d];
            residuals.push_back(residual);
            sigmas.push_back(p.prediction.sigma[d]);
            residuals_xyz[static_cast<std::size_t>(d)].push_back(residual);
            sigmas_xyz[static_cast<std::size_t>(d)].push_back(p.prediction.sigma[d]);
            references.push_back((*p.reference)[d]);
        }
        norm_residuals.push_back(p.reference->norm() - p.prediction.norm);
        norm_sigmas.push_back(p.prediction.norm_sigma);
        norm_references.push_back(p.reference->norm());
    }
    if (summary.frames == 0) {
        return summary;
    }
    summary.component_rmse = root_mean_square(residuals);
    summary.component_reference_std = standard_deviation(references);
    summary.norm_rmse = root_mean_square(norm_residuals);
    summary.norm_reference_std = standard_deviation(norm_references);
    summary.component_calibration = engine::uncertainty_statistics(residuals, sigmas, calibration_bins);
    summary.norm_calibration = engine::uncertainty_statistics(norm_residuals, norm_sigmas, calibration_bins);
    for (std::size_t d = 0; d < 3; ++d) {
        summary.rmse_xyz[d] = root_mean_square(residuals_xyz[d]);
        summary.calibration_xyz[d] =
            engine::uncertainty_statistics(residuals_xyz[d], sigmas_xyz[d], calibration_bins);
    }
    return summary;
}

DipoleTrainingResult train_dipole_committee(const std::vector<training::LabelledFrame>& frames,
                                            const training::DataSplit& split,
                                            const training::TrainSettings& settings,
                                            const training::ProgressCallback& progress) {
    const auto say = [&progress](const std::string& line) {
        if (progress) {
            progress(line);
        }
    };
    const features::FeatureSettings feature_settings = dipole_feature_settings(
        training::detail::tensor_training_features(frames, split, settings, "dipole", 8));
    const features::FeatureCalculator calculator(feature_settings);
    const auto species = static_cast<Eigen::Index>(calculator.species());
    const auto features =
        static_cast<Eigen::Index>(features::equivariant_feature_names(feature_settings, 1).size());
    const Eigen::Index columns = species * features;

    training::RegularisationLayout layout;
    layout.baseline_columns = 0;
    for (Eigen::Index s = 1; s <= species; ++s) {
        layout.block_ends.push_back(s * features);
    }
    layout.scale = settings.penalty_scale;

    DipoleTrainingResult result;
    DipoleTrainingReport& report = result.report;
    report.feature_count = static_cast<std::size_t>(features);
    report.weight_count = static_cast<std::size_t>(columns);

    training::CommitteeNormalEquations committee_equations(
        columns, split.train.size(),
        {.members = settings.members, .fraction = settings.member_fraction, .seed = settings.seed});
    features::FeatureWorkspace workspace = calculator.workspace();
    features::FeatureMatrix blocks;
    Eigen::MatrixXd design;
    const Eigen::Vector3d unit_weights = Eigen::Vector3d::Ones();
    for (std::size_t done = 0; done < split.train.size(); ++done) {
        const std::size_t frame = split.train[done];
        const Eigen::Vector3d& target = reference_dipole(frames[frame]);
        dipole_design(calculator, frames[frame].frame.system, workspace, blocks, design);
        committee_equations.add_structure(done, design, target, unit_weights);
    }
    say("rows: " + std::to_string(split.train.size()) + " structures, " + std::to_string(columns) +
        " weights per member");

    // λ is scored on the validation rows themselves, built in a second pass once the fits of every
    // λ exist (training/ridge.hpp: a loss from validation normal equations cancels at tiny λ).
    const training::RegulariserPath path =
        training::regulariser_path(committee_equations.all(), layout, settings.grid);
    training::ValidationLosses validation(path);
    for (const std::size_t frame : split.validation) {
        const Eigen::Vector3d& target = reference_dipole(frames[frame]);
        dipole_design(calculator, frames[frame].frame.system, workspace, blocks, design);
        validation.add_rows(design, target, unit_weights);
    }
    say("validation rows: " + std::to_string(split.validation.size()) + " structures");

    report.selection = training::select_regulariser(path, validation);
    for (const std::string& line : training::skipped_lambda_lines(report.selection)) {
        say(line);
    }
    {
        std::ostringstream line;
        line << "regulariser: lambda " << report.selection.lambda << " (validation MSE "
             << report.selection.validation_loss << " (e·Å)²)"
             << (report.selection.at_grid_edge ? " AT GRID EDGE" : "");
        say(line.str());
    }
    const training::CommitteeWeights weights =
        training::solve_committee(committee_equations, layout, report.selection.lambda);

    DipoleCommitteeParameters& parameters = result.parameters;
    parameters.features = feature_settings;
    for (Eigen::Index k = 0; k < weights.members.cols(); ++k) {
        Eigen::MatrixXd member(species, features);
        for (Eigen::Index s = 0; s < species; ++s) {
            member.row(s) = weights.members.col(k).segment(s * features, features).transpose();
        }
        parameters.weights.push_back(std::move(member));
    }

    // α on the validation components of the uncalibrated committee.
    {
        const DipoleCommittee uncalibrated(parameters);
        std::vector<double> residuals;
        std::vector<double> spreads;
        for (const std::size_t i : split.validation) {
            const DipolePrediction p = uncalibrated.predict_uncalibrated(frames[i].frame.system);
            const Eigen::Vector3d& reference = *frames[i].frame.dipole;
            for (int d = 0; d < 3; ++d) {
                residuals.push_back(reference[d] - p.mean[d]);
                spreads.push_back(p.sigma[d]);
            }
        }
        report.calibration = engine::calibrate_alpha(residuals, spreads, settings.members);
        parameters.alpha = report.calibration.alpha;
        std::ostringstream line;
        line << "calibration: alpha " << report.calibration.alpha << " (alpha^2 "
             << report.calibration.alpha_squared << ")"
             << (report.calibration.clamped ? " CLAMPED: the spread is far larger than the errors" : "");
        say(line.str());
    }

    const DipoleCommittee calibrated(parameters);
    report.train = summarise_dipole_errors(predict_dipoles(calibrated, frames_of(frames, split.train)));
    report.validation =
        summarise_dipole_errors(predict_dipoles(calibrated, frames_of(frames, split.validation)));
    report.test = summarise_dipole_errors(predict_dipoles(calibrated, frames_of(frames, split.test)));
    return result;
}

}  // namespace chorus::models::dipole
