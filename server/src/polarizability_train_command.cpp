#include "polarizability_train_command.hpp"

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/polarizability/polarizability_training.hpp"
#include "polarizability_report.hpp"
#include "tensor_train_start.hpp"
#include "training_data.hpp"
#include "training_record.hpp"

namespace chorus::server {
namespace training = models::training;
namespace polarizability = models::polarizability;

int run_polarizability_train(const TrainCommandSettings& command, std::ostream& out) {
    const int threads = command.threads > 0 ? command.threads : tbb::info::default_concurrency();
    const tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(threads));
    const TensorTarget target{"polarizability", "λ-SOAP λ = 0 and λ = 2",
                              polarizability::polarizability_train_settings_from_json,
                              polarizability::polarizability_feature_settings};
    TensorTrainStart start = start_tensor_training(command, target, out);
    const training::TrainSettings& settings = start.settings;
    TrainingData& data = start.data;
    const training::DataSplit& split = start.split;
    polarizability::PolarizabilityTrainingResult result =
        polarizability::train_polarizability_committee(data.frames, split, settings, progress_printer(out));
    record_split(data, split);
    const auto& report = result.report;
    result.parameters.training =
        training_record(command, settings, threads, data.files, report.anisotropic_selection,
                        "polarizability λ = 2 coordinates", report.calibration);
    result.parameters.training["target"] = "polarizability";
    result.parameters.training["isotropic_calibration"] = {
        {"alpha", report.isotropic_calibration.alpha},
        {"alpha_squared", report.isotropic_calibration.alpha_squared},
        {"clamped", report.isotropic_calibration.clamped}};
    result.parameters.training["isotropic_regulariser"] = {
        {"lambda", report.isotropic_selection.lambda},
        {"validation_loss", report.isotropic_selection.validation_loss},
        {"at_grid_edge", report.isotropic_selection.at_grid_edge}};
    result.parameters.training["errors"] = {{"train", polarizability_summary_json(report.train)},
                                            {"validation", polarizability_summary_json(report.validation)},
                                            {"test", polarizability_summary_json(report.test)}};
    polarizability::save_polarizability_committee(result.parameters, command.out_path);

    print_polarizability_table(
        out, {{"train", &report.train}, {"validation", &report.validation}, {"test", &report.test}});
    print_alpha_and_lambda(out, report.calibration, report.anisotropic_selection, "λ = 2 coordinates");
    print_alpha_and_lambda(out, report.isotropic_calibration, report.isotropic_selection, "isotropic parts");
    fmt::print(out, "{} λ=0 + {} λ=2 features per species, {} weights per member\n", report.counts.lambda0,
               report.counts.lambda2,
               report.counts.row() * static_cast<Eigen::Index>(settings.features.species.size()));
    fmt::print(out, "wrote {}\n", command.out_path);
    return 0;
}

}  // namespace chorus::server
