// libFuzzer target: model files (model_from_text, what load_model does after reading the file),
// then one evaluation of every model that loads, on a small isolated cluster. Loading may only
// throw ConfigError; evaluating, InputError (e.g. species the model does not know).
//
// A linear committee carries a SHA-256 of its content, which almost every mutation breaks; so that
// the fuzzer gets past that check to the rest of the reader, a document whose checksum is an
// object with a string "value" has that value replaced by the true checksum first (the mismatch
// path is covered by the unit tests). Seeds: corpus/model_file.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chorus/engine/committee_result.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/engine/system.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file.hpp"
#include "fuzz_support.hpp"

namespace {

using chorus::fuzz::check;

// The text to load: the input, or its re-serialisation with a repaired checksum.
std::string with_true_checksum(std::string_view text) {
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!document.is_object()) {
        return std::string(text);
    }
    const auto checksum = document.find("checksum");
    if (checksum == document.end() || !checksum->is_object() || !checksum->contains("value") ||
        !(*checksum)["value"].is_string()) {
        return std::string(text);
    }
    (*checksum)["value"] = chorus::models::linear_committee_checksum(document);
    return document.dump();
}

// Four atoms of the model's first species (argon when it takes any) in a compact, isolated cluster.
void evaluate_once(const chorus::engine::Model& model) {
    const int species = model.species().empty() ? 18 : model.species().front();
    Eigen::Matrix3Xd positions(3, 4);
    positions << 0.0, 2.1, 0.3, 1.2,  //
        0.0, 0.4, 2.2, 1.1,           //
        0.0, 0.1, 0.2, 1.9;
    const chorus::engine::System system(std::vector<int>(4, species), positions, Eigen::Matrix3d::Zero(),
                                        false);
    chorus::engine::ComputeRequest request;
    request.member_forces = true;
    request.member_virials = true;
    chorus::engine::CommitteeResult result;
    if (chorus::fuzz::succeeds_or_throws<chorus::InputError>(
            [&] { model.evaluate(system, request, result); })) {
        check(static_cast<std::size_t>(result.member_energies.size()) == model.committee_size(),
              "one energy per committee member");
        check(result.forces.cols() == 4, "forces for every atom");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = with_true_checksum(chorus::fuzz::as_text(data, size));
    std::unique_ptr<chorus::engine::Model> model;
    if (!chorus::fuzz::succeeds_or_throws<chorus::ConfigError>(
            [&] { model = chorus::models::model_from_text(text, "<fuzz>"); })) {
        return 0;
    }
    check(model != nullptr, "a model that loads is not null");
    check(model->committee_size() >= 1, "at least one committee member");
    check(model->cutoff() > 0.0, "a positive cutoff");
    evaluate_once(*model);
    return 0;
}
