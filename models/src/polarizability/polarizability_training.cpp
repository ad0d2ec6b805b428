// Training of polarizability committees (polarizability_training.hpp).
#include "chorus/models/polarizability/polarizability_training.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "../training/labelled_frame_helpers.hpp"
#include "../training/tensor_training_setup.hpp"
#include "chorus/error.hpp"
#include "chorus/models/training/committee_training.hpp"
#include "chorus/models/training/normal_equations.hpp"

namespace chorus::models::polarizability {
namespace {

namespace training = models::training;

Eigen::Matrix3d required_reference(const training::LabelledFrame& labelled) {
    const auto reference = reference_polarizability(labelled.frame);
    if (!reference) {
        throw InputError("frame " + std::to_string(labelled.index) + " of data file " +
                         std::to_string(labelled.file) + " (line " + std::to_string(labelled.frame.line) +
                         ") has no `polarizability` key; polarizability training needs one (9 numbers, row "
                         "by row) on every training and validation frame");
    }
    return *reference;
}

using training::detail::frames_of;
using training::detail::root_mean_square;
using training::detail::standard_deviation;

// One part (isotropic or anisotropic) of the model: its rows of the full design, its own
// normal equations and regulariser.
struct Part {
    Part(std::string part_name, Eigen::Index columns, std::size_t structures,
         const training::CommitteeSampling& sampling)
        : name(std::move(part_name)), committee(columns, structures, sampling) {}
    std::string name;
    training::CommitteeNormalEquations committee;
    training::RegularisationLayout layout;
};

}  // namespace

training::TrainSettings polarizability_train_settings_from_json(const nlohmann::json& document,
                                                                const std::string& origin) {
    training::TrainSettings settings = training::train_settings_from_json(document, origin);
    const auto has = [&document](const char* block, const char* key) {
        return document.is_object() && document.contains(block) && document[block].is_object() &&
               document[block].contains(key);
    };
    if (!has("features", "lambda_soap")) {
        settings.features.cutoff = 4.0;
        settings.features.cutoff_width = 0.5;
        settings.features.lambda_soap = features::OrderTruncation{6, 3};
    }
    if (!has("committee", "fraction")) {
        settings.member_fraction = 0.8;
    }
    if (!has("regulariser", "scale")) {
        settings.penalty_scale = training::PenaltyScale::column;
    }
    return settings;
}

features::FeatureSettings polarizability_feature_settings(features::FeatureSettings settings) {
    if (!settings.lambda_soap) {
        settings.lambda_soap = features::OrderTruncation{6, 3};
    }
    settings.lambda_soap_lambdas = {2};
    settings.nu1_n_max.reset();
    settings.nu2.reset();
    settings.nu2_species_pairs.clear();
    settings.nu3.reset();
    settings.message_passing.reset();
    settings.validate();
    return settings;
}

std::optional<Eigen::Matrix3d> reference_polarizability(const Frame& frame) {
    if (!frame.polarizability) {
        return std::nullopt;
    }
    // The model is symmetric by construction; an antisymmetric part of a label (rounding in the
    // file) could only add an error no weight can remove.
    return Eigen::Matrix3d(0.5 * (*frame.polarizability + frame.polarizability->transpose()));
}

std::vector<PolarizabilityFramePrediction> predict_polarizabilities(const PolarizabilityCommittee& committee,
                                                                    const std::vector<const Frame*>& frames) {
    std::vector<PolarizabilityFramePrediction> predictions;
    predictions.reserve(frames.size());
    for (const Frame* frame : frames) {
        predictions.push_back(
            {frame->system.size(), reference_polarizability(*frame), committee.predict(frame->system)});
    }
    return predictions;
}

PolarizabilityErrorSummary summarise_polarizability_errors(
    const std::vector<PolarizabilityFramePrediction>& predictions, std::size_t calibration_bins) {
    PolarizabilityErrorSummary summary;
    std::vector<double> element_residuals, element_references;
    std::vector<double> distinct_residuals, distinct_sigmas;
    std::vector<double> iso_residuals, iso_sigmas, iso_references;
    std::vector<double> aniso_residuals, aniso_sigmas, aniso_references;
    const double root3 = std::sqrt(3.0);
    for (const PolarizabilityFramePrediction& p : predictions) {
        if (!p.reference) {
            continue;
        }
        ++summary.frames;
        const Eigen::Matrix3d& reference = *p.reference;
        const PolarizabilityPrediction& m = p.prediction;
        for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
                element_residuals.push_back(reference(a, b) - m.mean(a, b));
                element_references.push_back(reference(a, b));
                if (b >= a) {
                    distinct_residuals.push_back(reference(a, b) - m.mean(a, b));
                    distinct_sigmas.push_back(m.sigma(a, b));
                }
            }
        }
        const Vector6d coordinates = irreducible_coordinates(reference);
        iso_residuals.push_back((coordinates[0] - m.coordinates[0]) / root3);
        iso_sigmas.push_back(m.coordinate_sigma[0] / root3);
        iso_references.push_back(coordinates[0] / root3);
        for (int c = 1; c < 6; ++c) {
            aniso_residuals.push_back(coordinates[c] - m.coordinates[c]);
            aniso_sigmas.push_back(m.coordinate_sigma[c]);
            aniso_references.push_back(coordinates[c]);
        }
    }
    if (summary.frames == 0) {
        return summary;
    }
    summary.element_rmse = root_mean_square(element_residuals);
    summary.element_reference_std = standard_deviation(element_references);
    summary.isotropic_rmse = root_mean_square(iso_residuals);
    summary.isotropic_reference_std = standard_deviation(iso_references);
    summary.anisotropic_rmse = root_mean_square(aniso_residuals);
    summary.anisotropic_reference_std = standard_deviation(aniso_references);
    summary.element_calibration =
        engine::uncertainty_statistics(distinct_residuals, distinct_sigmas, calibration_bins);
    summary.isotropic_calibration =
        engine::uncertainty_statistics(iso_residuals, iso_sigmas, calibration_bins);
    summary.anisotropic_calibration =
        engine::uncertainty_statistics(aniso_residuals, aniso_sigmas, calibration_bins);
    return summary;
}

PolarizabilityTrainingResult train_polarizability_committee(
    const std::vector<training::LabelledFrame>& frames, const training::DataSplit& split,
    const training::TrainSettings& settings, const training::ProgressCallback& progress) {
    const auto say = [&progress](const std::string& line) {
        if (progress) {
            progress(line);
        }
    };
    const features::FeatureSettings feature_settings = polarizability_feature_settings(
        training::detail::tensor_training_features(frames, split, settings, "polarizability", 16));
    const features::FeatureCalculator calculator(feature_settings);
    const auto species = static_cast<Eigen::Index>(calculator.species());
    const PolarizabilityFeatureCounts counts = polarizability_feature_counts(feature_settings);
    const Eigen::Index row = counts.row();

    const training::CommitteeSampling sampling{
        .members = settings.members, .fraction = settings.member_fraction, .seed = settings.seed};
    // Isotropic columns: [S atom counts (baselines, hardly penalised), S·Q0 features];
    // anisotropic columns: S·Q2 features. Both channel major within their features.
    Part isotropic("isotropic", species * (1 + counts.lambda0), split.train.size(), sampling);
    isotropic.layout.baseline_columns = species;
    for (Eigen::Index s = 1; s <= species; ++s) {
        isotropic.layout.block_ends.push_back(species + s * counts.lambda0);
    }
    isotropic.layout.scale = settings.penalty_scale;
    Part anisotropic("anisotropic", species * counts.lambda2, split.train.size(), sampling);
    for (Eigen::Index s = 1; s <= species; ++s) {
        anisotropic.layout.block_ends.push_back(s * counts.lambda2);
    }
    anisotropic.layout.scale = settings.penalty_scale;

    features::FeatureWorkspace workspace = calculator.workspace();
    features::FeatureMatrix blocks0, blocks2;
    Eigen::MatrixXd design;
    Eigen::MatrixXd iso_design(1, isotropic.committee.all().features());
    Eigen::MatrixXd aniso_design(5, anisotropic.committee.all().features());
    Eigen::VectorXd iso_target(1);
    Eigen::VectorXd aniso_target(5);
    const Eigen::VectorXd one = Eigen::VectorXd::Ones(1);
    const Eigen::VectorXd five = Eigen::VectorXd::Ones(5);
    // The rows of one structure, split into the two parts (same code for training and validation).
    const auto build_rows = [&](std::size_t frame) {
        const Vector6d target = irreducible_coordinates(required_reference(frames[frame]));
        polarizability_design(calculator, frames[frame].frame.system, workspace, blocks0, blocks2, design);
        for (Eigen::Index s = 0; s < species; ++s) {
            iso_design(0, s) = design(0, s * row);
            iso_design.row(0).segment(species + s * counts.lambda0, counts.lambda0) =
                design.row(0).segment(s * row + 1, counts.lambda0);
            aniso_design.block(0, s * counts.lambda2, 5, counts.lambda2) =
                design.block(1, s * row + 1 + counts.lambda0, 5, counts.lambda2);
        }
        iso_target[0] = target[0] / std::sqrt(3.0);
        aniso_target = target.tail<5>();
    };
    for (std::size_t done = 0; done < split.train.size(); ++done) {
        build_rows(split.train[done]);
        isotropic.committee.add_structure(done, iso_design, iso_target, one);
        anisotropic.committee.add_structure(done, aniso_design, aniso_target, five);
    }
    say("rows: " + std::to_string(split.train.size()) + " structures, " + std::to_string(species * row) +
        " weights per member");

    // λ is scored on the validation rows themselves, built in a second pass once the fits of every
    // λ exist (training/ridge.hpp: a loss from validation normal equations cancels at tiny λ).
    const training::RegulariserPath iso_path =
        training::regulariser_path(isotropic.committee.all(), isotropic.layout, settings.grid);
    const training::RegulariserPath aniso_path =
        training::regulariser_path(anisotropic.committee.all(), anisotropic.layout, settings.grid);
    training::ValidationLosses iso_validation(iso_path);
    training::ValidationLosses aniso_validation(aniso_path);
    for (const std::size_t frame : split.validation) {
        build_rows(frame);
        iso_validation.add_rows(iso_design, iso_target, one);
        aniso_validation.add_rows(aniso_design, aniso_target, five);
    }
    say("validation rows: " + std::to_string(split.validation.size()) + " structures");

    PolarizabilityTrainingResult result;
    PolarizabilityTrainingReport& report = result.report;
    report.counts = counts;
    std::vector<training::CommitteeWeights> solved;
    for (Part* part : {&isotropic, &anisotropic}) {
        const bool iso = part == &isotropic;
        training::RegulariserSelection selection = training::select_regulariser(
            iso ? iso_path : aniso_path, iso ? iso_validation : aniso_validation);
        for (const std::string& line : training::skipped_lambda_lines(selection, " (" + part->name + ")")) {
            say(line);
        }
        std::ostringstream line;
        line << "regulariser (" << part->name << "): lambda " << selection.lambda << " (validation MSE "
             << selection.validation_loss << ")" << (selection.at_grid_edge ? " AT GRID EDGE" : "");
        say(line.str());
        solved.push_back(training::solve_committee(part->committee, part->layout, selection.lambda));
        (iso ? report.isotropic_selection : report.anisotropic_selection) = std::move(selection);
    }

    PolarizabilityCommitteeParameters& parameters = result.parameters;
    parameters.features = feature_settings;
    for (Eigen::Index k = 0; k < solved[0].members.cols(); ++k) {
        Eigen::MatrixXd member(species, row);
        const auto iso = solved[0].members.col(k);
        const auto aniso = solved[1].members.col(k);
        for (Eigen::Index s = 0; s < species; ++s) {
            member(s, 0) = iso[s];
            member.row(s).segment(1, counts.lambda0) =
                iso.segment(species + s * counts.lambda0, counts.lambda0).transpose();
            member.row(s).segment(1 + counts.lambda0, counts.lambda2) =
                aniso.segment(s * counts.lambda2, counts.lambda2).transpose();
        }
        parameters.weights.push_back(std::move(member));
    }

    {
        const PolarizabilityCommittee uncalibrated(parameters);
        std::vector<double> residuals, spreads, iso_residuals, iso_spreads;
        for (const std::size_t i : split.validation) {
            const PolarizabilityPrediction p = uncalibrated.predict_uncalibrated(frames[i].frame.system);
            const Vector6d reference = irreducible_coordinates(required_reference(frames[i]));
            iso_residuals.push_back(reference[0] - p.coordinates[0]);
            iso_spreads.push_back(p.coordinate_sigma[0]);
            for (int c = 1; c < 6; ++c) {
                residuals.push_back(reference[c] - p.coordinates[c]);
                spreads.push_back(p.coordinate_sigma[c]);
            }
        }
        report.calibration = engine::calibrate_alpha(residuals, spreads, settings.members);
        report.isotropic_calibration = engine::calibrate_alpha(iso_residuals, iso_spreads, settings.members);
        parameters.alpha = report.calibration.alpha;
        parameters.alpha_isotropic = report.isotropic_calibration.alpha;
        for (const auto& [name, c] : {std::pair{"λ = 2", &report.calibration},
                                      std::pair{"isotropic", &report.isotropic_calibration}}) {
            std::ostringstream line;
            line << "calibration (" << name << "): alpha " << c->alpha << " (alpha^2 " << c->alpha_squared
                 << ")" << (c->clamped ? " CLAMPED: the spread is far larger than the errors" : "");
            say(line.str());
        }
    }

    const PolarizabilityCommittee calibrated(parameters);
    report.train =
        summarise_polarizability_errors(predict_polarizabilities(calibrated, frames_of(frames, split.train)));
    report.validation = summarise_polarizability_errors(
        predict_polarizabilities(calibrated, frames_of(frames, split.validation)));
    report.test =
        summarise_polarizability_errors(predict_polarizabilities(calibrated, frames_of(frames, split.test)));
    return result;
}

}  // namespace chorus::models::polarizability
