#include "dipole_train_command.hpp"

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_training.hpp"
#include "dipole_report.hpp"
#include "tensor_train_start.hpp"
#include "training_data.hpp"
#include "training_record.hpp"

namespace chorus::server {
namespace training = models::training;
namespace dipole = models::dipole;

int run_dipole_train(const TrainCommandSettings& command, std::ostream& out) {
    const int threads = command.threads > 0 ? command.threads : tbb::info::default_concurrency();
    const tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(threads));
    const TensorTarget target{"dipole", "λ-SOAP λ = 1 only", dipole::dipole_train_settings_from_json,
                              dipole::dipole_feature_settings};
    TensorTrainStart start = start_tensor_training(command, target, out);
    const training::TrainSettings& settings = start.settings;
    TrainingData& data = start.data;
    const training::DataSplit& split = start.split;
    dipole::DipoleTrainingResult result =
        dipole::train_dipole_committee(data.frames, split, settings, progress_printer(out));
    record_split(data, split);
    const auto& report = result.report;
    result.parameters.training = training_record(command, settings, threads, data.files, report.selection,
                                                 "dipole components", report.calibration);
    result.parameters.training["target"] = "dipole";
    result.parameters.training["errors"] = {{"train", dipole_summary_json(report.train)},
                                            {"validation", dipole_summary_json(report.validation)},
                                            {"test", dipole_summary_json(report.test)}};
    dipole::save_dipole_committee(result.parameters, command.out_path);

    print_dipole_table(
        out, {{"train", &report.train}, {"validation", &report.validation}, {"test", &report.test}});
    print_alpha_and_lambda(out, report.calibration, report.selection, "components");
    fmt::print(out, "{} λ=1 features per species, {} weights per member\n", report.feature_count,
               report.weight_count);
    fmt::print(out, "wrote {}\n", command.out_path);
    return 0;
}

}  // namespace chorus::server
