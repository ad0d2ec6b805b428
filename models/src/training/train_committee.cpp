#include "chorus/models/training/train_committee.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>

#include "chorus/error.hpp"
#include "chorus/models/features/feature_calculator.hpp"
#include "chorus/models/training/radial_contraction.hpp"
#include "labelled_frame_helpers.hpp"

namespace chorus::models::training {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Feature blocks of one species, by correlation order: the runs of equal name prefix ("nu1",
// "ps", "bs", "mp"), which feature_settings.hpp lists contiguously.
struct OrderBlock {
    std::string order;
    Eigen::Index end = 0;  // exclusive, within one species' F features
};

std::vector<OrderBlock> order_blocks(const std::vector<std::string>& names) {
    std::vector<OrderBlock> blocks;
    for (std::size_t j = 0; j < names.size(); ++j) {
        const std::string order = names[j].substr(0, names[j].find(':'));
        if (blocks.empty() || blocks.back().order != order) {
            blocks.push_back({order, 0});
        }
        blocks.back().end = static_cast<Eigen::Index>(j + 1);
    }
    return blocks;
}

RegularisationLayout layout_for(const TrainSettings& settings, Eigen::Index species, Eigen::Index features,
                                const std::vector<OrderBlock>& blocks) {
    RegularisationLayout layout;
    layout.baseline_columns = species;
    layout.scale = settings.penalty_scale;
    for (Eigen::Index s = 0; s < species; ++s) {
        for (const OrderBlock& block : blocks) {
            layout.block_ends.push_back(species + s * features + block.end);
            const auto found = settings.order_lambdas.find(block.order);
            layout.block_lambdas.push_back(found == settings.order_lambdas.end() ? 1.0 : found->second);
        }
    }
    return layout;
}

// The weighted rows of one structure (train_committee.hpp, step 1).
struct StructureRows {
    Eigen::MatrixXd design;
    Eigen::VectorXd targets;
    Eigen::VectorXd weights;
};

class RowBuilder {
public:
    RowBuilder(const features::FeatureCalculator& calculator, const ExpectedErrors& errors)
        : calculator_(calculator), workspace_(calculator.workspace()), errors_(errors) {}

    const StructureRows& rows(const LabelledFrame& labelled) {
        const Frame& frame = labelled.frame;
        const auto species = static_cast<Eigen::Index>(calculator_.species());
        const auto columns = species + static_cast<Eigen::Index>(calculator_.size()) * species;
        const auto atoms = static_cast<Eigen::Index>(frame.system.size());
        const double n = static_cast<double>(atoms);
        const bool energy = errors_.energy_per_atom > 0.0 && frame.energy.has_value();
        const bool forces = errors_.force > 0.0 && frame.forces.has_value();
        const bool virial =
            errors_.virial_per_atom > 0.0 && frame.virial.has_value() && frame.system.periodic();
        if (!energy && !forces) {
            throw InputError("frame " + std::to_string(labelled.index) + " of data file " +
                             std::to_string(labelled.file) + " (line " + std::to_string(frame.line) +
                             ") has neither an energy nor forces to train on; label it or remove it");
        }
        calculator_.design(frame.system, workspace_, design_);
        const Eigen::Index count = (energy ? 1 : 0) + (forces ? 3 * atoms : 0) + (virial ? 9 : 0);
        rows_.design.setZero(count, columns);
        rows_.targets.resize(count);
        rows_.weights.resize(count);
        Eigen::Index row = 0;
        if (energy) {
            for (const int z : frame.system.atomic_numbers()) {
                rows_.design(row, calculator_.settings().channel(z)) += 1.0 / n;
            }
            rows_.design.row(row).tail(columns - species) = design_.energy.transpose() / n;
            rows_.targets[row] = *frame.energy / n;
            rows_.weights[row] = 1.0 / (errors_.energy_per_atom * errors_.energy_per_atom);
            ++row;
        }
        if (forces) {
            rows_.design.block(row, species, 3 * atoms, columns - species) = design_.forces;
            rows_.targets.segment(row, 3 * atoms) = frame.forces->reshaped();
            rows_.weights.segment(row, 3 * atoms).setConstant(1.0 / (errors_.force * errors_.force));
            row += 3 * atoms;
        }
        if (virial) {
            rows_.design.block(row, species, 9, columns - species) = design_.virial / n;
            // Row 3α + β holds W_αβ (StructureDesign); Eigen is column major, so transpose first.
            const Eigen::Matrix3d transposed = frame.virial->transpose();
            rows_.targets.segment(row, 9) = transposed.reshaped() / n;
            rows_.weights.segment(row, 9).setConstant(1.0 /
                                                      (errors_.virial_per_atom * errors_.virial_per_atom));
        }
        return rows_;
    }

private:
    const features::FeatureCalculator& calculator_;
    features::FeatureWorkspace workspace_;
    ExpectedErrors errors_;
    features::StructureDesign design_;
    StructureRows rows_;
};

using detail::frames_of;

engine::CalibrationReport calibrate(const std::vector<FramePrediction>& predictions, CalibrationTarget target,
                                    std::size_t members) {
    std::vector<double> residuals, spreads;
    for (const FramePrediction& p : predictions) {
        if (target == CalibrationTarget::energies) {
            if (p.reference_energy) {
                residuals.push_back(*p.reference_energy - p.energy);
                spreads.push_back(p.energy_sigma);
            }
            continue;
        }
        if (p.reference_forces) {
            const Eigen::Matrix3Xd residual = *p.reference_forces - p.forces;
            residuals.insert(residuals.end(), residual.data(), residual.data() + residual.size());
            spreads.insert(spreads.end(), p.force_sigma.data(), p.force_sigma.data() + p.force_sigma.size());
        }
    }
    return engine::calibrate_alpha(residuals, spreads, members);
}

}  // namespace

std::vector<int> species_in(const std::vector<LabelledFrame>& frames) {
    std::set<int> species;
    for (const auto& labelled : frames) {
        species.insert(labelled.frame.system.atomic_numbers().begin(),
                       labelled.frame.system.atomic_numbers().end());
    }
    return {species.begin(), species.end()};
}

TrainingResult train_linear_committee(const std::vector<LabelledFrame>& frames, const DataSplit& split,
                                      const TrainSettings& settings, const ProgressCallback& progress) {
    const auto say = [&progress](const std::string& line) {
        if (progress) {
            progress(line);
        }
    };
    features::FeatureSettings feature_settings = settings.features;
    if (feature_settings.species.empty()) {
        feature_settings.species = species_in(frames);
    }
    if (feature_settings.contraction_fit) {
        // On the training frames only, so validation and test frames stay unseen (radial_contraction.hpp).
        const auto fit_start = Clock::now();
        std::vector<const engine::System*> systems;
        for (const std::size_t i : split.train) {
            systems.push_back(&frames[i].frame.system);
        }
        RadialContractionFit fit;
        feature_settings = fit_radial_contraction(feature_settings, systems, &fit);
        std::ostringstream line;
        line.precision(6);
        line << "radial contraction: PCA of " << feature_settings.primitive_n_max
             << " primitive functions to " << feature_settings.density_n_max() << " on " << systems.size()
             << " training structures, retained variance per l:";
        for (std::size_t l = 0; l < fit.retained_variance.size(); ++l) {
            line << (l == 0 ? " " : ", ") << "l=" << l << " " << fit.retained_variance[l];
        }
        line.precision(3);
        line << " (" << seconds_since(fit_start) << " s)";
        say(line.str());
    }
    const features::FeatureCalculator calculator(feature_settings);
    const auto species = static_cast<Eigen::Index>(calculator.species());
    const auto features = static_cast<Eigen::Index>(calculator.size());
    const Eigen::Index columns = species + species * features;
    const RegularisationLayout layout =
        layout_for(settings, species, features, order_blocks(calculator.names()));

    TrainingResult result;
    TrainingReport& report = result.report;
    report.feature_count = static_cast<std::size_t>(features);
    report.weight_count = static_cast<std::size_t>(columns);

    // Steps 1–2: rows of every training structure, streamed into the committee's normal equations.
    const auto design_start = Clock::now();
    CommitteeNormalEquations training(
        columns, split.train.size(),
        {.members = settings.members, .fraction = settings.member_fraction, .seed = settings.seed});
    RowBuilder builder(calculator, settings.expected_errors);
    const auto stream_rows = [&](const std::vector<std::size_t>& structures, const std::string& what,
                                 const auto& consume) {
        const auto start = Clock::now();
        auto last_report = start;
        for (std::size_t done = 0; done < structures.size(); ++done) {
            consume(done, builder.rows(frames[structures[done]]));
            if (done + 1 == structures.size() || seconds_since(last_report) > 5.0) {
                last_report = Clock::now();
                std::ostringstream line;
                line.precision(3);
                line << what << ": " << done + 1 << "/" << structures.size() << " structures ("
                     << seconds_since(start) << " s)";
                say(line.str());
            }
        }
    };
    stream_rows(split.train, "rows", [&training](std::size_t done, const StructureRows& rows) {
        training.add_structure(done, rows.design, rows.targets, rows.weights);
    });
    report.design_seconds = seconds_since(design_start);

    // Step 3: the fits of every grid λ on all training structures, scored on the validation rows
    // themselves (ridge.hpp says why not on their normal equations). The validation structures are
    // streamed once more, after the path exists, so that their rows never pile up in memory.
    auto solve_start = Clock::now();
    const RegulariserPath path = regulariser_path(training.all(), layout, settings.grid);
    report.solve_seconds = seconds_since(solve_start);
    const auto validation_start = Clock::now();
    ValidationLosses validation(path);
    stream_rows(split.validation, "validation rows", [&validation](std::size_t, const StructureRows& rows) {
        validation.add_rows(rows.design, rows.targets, rows.weights);
    });
    report.validation_seconds = seconds_since(validation_start);

    solve_start = Clock::now();
    report.selection = select_regulariser(path, validation);
    {
        // The whole curve, so that a grid that is too narrow or too coarse shows at a glance.
        std::ostringstream line;
        line.precision(3);
        line << "regulariser: validation loss by lambda:";
        for (std::size_t i = 0; i < report.selection.lambdas.size(); ++i) {
            line << (i == 0 ? " " : ", ") << report.selection.lambdas[i] << " "
                 << report.selection.validation_losses[i];
        }
        say(line.str());
    }
    for (const std::string& line : skipped_lambda_lines(report.selection)) {
        say(line);
    }
    {
        std::ostringstream line;
        line << "regulariser: lambda " << report.selection.lambda << " (validation loss "
             << report.selection.validation_loss << ")"
             << (report.selection.at_grid_edge ? " AT GRID EDGE" : "");
        say(line.str());
    }
    const auto solved = [&say, &settings](std::size_t system, const SolveReport& solve, double seconds) {
        std::ostringstream line;
        line.precision(3);
        line << "solve: ";
        if (system < settings.members) {
            line << "member " << system + 1 << "/" << settings.members;
        } else {
            line << "fit on all training structures";
        }
        line << ": " << solve.describe() << " (" << seconds << " s)";
        say(line.str());
    };
    const CommitteeWeights committee = solve_committee(training, layout, report.selection.lambda, solved);
    report.solve_seconds += seconds_since(solve_start);

    LinearCommitteeParameters& parameters = result.parameters;
    parameters.features = feature_settings;
    const auto members = static_cast<Eigen::Index>(settings.members);
    parameters.baselines = committee.members.topRows(species);
    for (Eigen::Index k = 0; k < members; ++k) {
        Eigen::MatrixXd weights(species, features);
        for (Eigen::Index s = 0; s < species; ++s) {
            weights.row(s) = committee.members.col(k).segment(species + s * features, features).transpose();
        }
        parameters.weights.push_back(std::move(weights));
    }

    // Step 4: α on validation (uncalibrated model first).
    parameters.alpha = 1.0;
    {
        const LinearCommittee uncalibrated(parameters);
        report.calibration = calibrate(predict_frames(uncalibrated, frames_of(frames, split.validation)),
                                       settings.calibrate_on, settings.members);
    }
    parameters.alpha = report.calibration.alpha;
    {
        std::ostringstream line;
        line << "calibration: alpha " << report.calibration.alpha
             << (report.calibration.clamped
                     ? " (CLAMPED: alpha^2 <= 0, the spread is far larger than the errors)"
                     : "");
        say(line.str());
    }

    // Step 5: errors of the calibrated model on every set.
    const LinearCommittee model(parameters);
    report.train = summarise_errors(predict_frames(model, frames_of(frames, split.train)));
    report.validation = summarise_errors(predict_frames(model, frames_of(frames, split.validation)));
    report.test = summarise_errors(predict_frames(model, frames_of(frames, split.test)));
    return result;
}

}  // namespace chorus::models::training
