#include "chorus/models/training/train_settings.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/model_file_object.hpp"

namespace chorus::models::training {
namespace {

// Key-by-key reading of one object of a training configuration; messages name the file and key.
class ConfigObject {
public:
    ConfigObject(const nlohmann::json& value, const std::string& origin, std::string path,
                 std::vector<std::string> accepted)
        : value_(value), origin_(origin), path_(std::move(path)) {
        if (!value.is_object()) {
            fail("", "must be a JSON object, got " + describe_json_value(value));
        }
        for (const auto& [key, unused] : value.items()) {
            if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
                std::string list;
                for (const auto& name : accepted) {
                    list += (list.empty() ? "\"" : ", \"") + name + "\"";
                }
                fail(key, "is not a known key; accepted keys are " + list + " (check the spelling)");
            }
        }
    }

    const nlohmann::json* find(const std::string& key) const {
        const auto found = value_.find(key);
        return found == value_.end() ? nullptr : &*found;
    }

    // A number in [low, high] (exclusive low when `open_low`), or the fallback when absent.
    double number(const std::string& key, double fallback, double low, double high,
                  bool open_low = false) const {
        const nlohmann::json* value = find(key);
        if (value == nullptr) {
            return fallback;
        }
        if (!value->is_number() || !std::isfinite(value->get<double>())) {
            fail(key, "must be a finite number, got " + describe_json_value(*value));
        }
        const double x = value->get<double>();
        if (x < low || x > high || (open_low && x == low)) {
            fail(key, "must lie in " + std::string(open_low ? "(" : "[") + describe_json_value(low) + ", " +
                          describe_json_value(high) + "], got " + describe_json_value(*value));
        }
        return x;
    }

    std::size_t count(const std::string& key, std::size_t fallback, std::size_t low, std::size_t high) const {
        const nlohmann::json* value = find(key);
        if (value == nullptr) {
            return fallback;
        }
        if (!value->is_number_integer() || value->get<long long>() < static_cast<long long>(low) ||
            value->get<long long>() > static_cast<long long>(high)) {
            fail(key, "must be an integer in [" + std::to_string(low) + ", " + std::to_string(high) +
                          "], got " + describe_json_value(*value));
        }
        return static_cast<std::size_t>(value->get<long long>());
    }

    std::string text(const std::string& key, const std::string& fallback) const {
        const nlohmann::json* value = find(key);
        if (value == nullptr) {
            return fallback;
        }
        if (!value->is_string()) {
            fail(key, "must be a string, got " + describe_json_value(*value));
        }
        return value->get<std::string>();
    }

    std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

    [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
        throw ConfigError("training configuration '" + origin_ + "': " +
                          (key.empty() && path_.empty() ? "the document" : "key '" + key_path(key) + "'") +
                          " " + problem);
    }

private:
    const nlohmann::json& value_;
    std::string origin_;
    std::string path_;
};

}  // namespace

TrainSettings default_train_settings() {
    TrainSettings settings;
    settings.features.cutoff = 5.0;
    settings.features.cutoff_width = 0.5;
    settings.features.nu1_n_max = 8;
    settings.features.nu2 = features::OrderTruncation{8, 6};
    return settings;
}

TrainSettings train_settings_from_json(const nlohmann::json& document, const std::string& origin) {
    TrainSettings settings = default_train_settings();
    const ConfigObject top(
        document, origin, "",
        {"features", "committee", "split", "expected_errors", "regulariser", "calibrate_on"});
    if (const nlohmann::json* features = top.find("features")) {
        nlohmann::json copy = *features;
        // Species may come from the data: a placeholder satisfies the settings' own validation.
        const bool species_given = copy.is_object() && copy.contains("species");
        if (copy.is_object() && !species_given) {
            copy["species"] = nlohmann::json::array({1});
        }
        try {
            settings.features = features::feature_settings_from_json(copy);
        } catch (const ConfigError& error) {
            top.fail("features", std::string("is not valid: ") + error.what());
        }
        if (!species_given) {
            settings.features.species.clear();
        }
    }
    if (const nlohmann::json* committee = top.find("committee")) {
        const ConfigObject object(*committee, origin, "committee", {"members", "fraction"});
        settings.members = object.count("members", settings.members, 4, 1024);
        settings.member_fraction = object.number("fraction", settings.member_fraction, 0.0, 1.0, true);
    }
    if (const nlohmann::json* split = top.find("split")) {
        const ConfigObject object(*split, origin, "split",
                                  {"test_fraction", "validation_fraction", "group_key"});
        settings.split.test_fraction = object.number("test_fraction", settings.split.test_fraction, 0.0, 0.9);
        settings.split.validation_fraction =
            object.number("validation_fraction", settings.split.validation_fraction, 0.0, 0.9, true);
        settings.split.group_key = object.text("group_key", settings.split.group_key);
    }
    if (const nlohmann::json* errors = top.find("expected_errors")) {
        const ConfigObject object(*errors, origin, "expected_errors",
                                  {"energy_per_atom", "force", "virial_per_atom"});
        auto& e = settings.expected_errors;
        e.energy_per_atom = object.number("energy_per_atom", e.energy_per_atom, -1.0, 1e6);
        e.force = object.number("force", e.force, -1.0, 1e6);
        e.virial_per_atom = object.number("virial_per_atom", e.virial_per_atom, -1.0, 1e6);
    }
    if (const nlohmann::json* regulariser = top.find("regulariser")) {
        const ConfigObject object(*regulariser, origin, "regulariser",
                                  {"smallest", "largest", "points", "order_lambdas", "scale"});
        settings.grid.smallest = object.number("smallest", settings.grid.smallest, 0.0, 1e6, true);
        settings.grid.largest = object.number("largest", settings.grid.largest, settings.grid.smallest, 1e12);
        settings.grid.points = object.count("points", settings.grid.points, 1, 1000);
        if (const nlohmann::json* orders = object.find("order_lambdas")) {
            const ConfigObject order_object(*orders, origin, "regulariser.order_lambdas",
                                            {"nu1", "ps", "bs", "mp"});
            for (const auto& [key, unused] : orders->items()) {
                settings.order_lambdas[key] = order_object.number(key, 1.0, 0.0, 1e12, true);
            }
        }
        const std::string scale = object.text("scale", "block");
        if (scale == "block") {
            settings.penalty_scale = PenaltyScale::block;
        } else if (scale == "column") {
            settings.penalty_scale = PenaltyScale::column;
        } else {
            object.fail("scale", "must be \"block\" or \"column\", got \"" + scale + "\"");
        }
    }
    const std::string target = top.text("calibrate_on", "forces");
    if (target == "forces") {
        settings.calibrate_on = CalibrationTarget::forces;
    } else if (target == "energies") {
        settings.calibrate_on = CalibrationTarget::energies;
    } else {
        top.fail("calibrate_on", "must be \"forces\" or \"energies\", got \"" + target + "\"");
    }
    return settings;
}

nlohmann::json to_json(const TrainSettings& settings) {
    nlohmann::json features;
    if (settings.features.species.empty()) {
        features::FeatureSettings copy = settings.features;
        copy.species = {1};
        features = features::to_json(copy);
        features.erase("species");
    } else {
        features = features::to_json(settings.features);
    }
    nlohmann::json order_lambdas = nlohmann::json::object();
    for (const auto& [order, lambda] : settings.order_lambdas) {
        order_lambdas[order] = lambda;
    }
    return {
        {"features", features},
        {"committee", {{"members", settings.members}, {"fraction", settings.member_fraction}}},
        {"split",
         {{"test_fraction", settings.split.test_fraction},
          {"validation_fraction", settings.split.validation_fraction},
          {"group_key", settings.split.group_key}}},
        {"expected_errors",
         {{"energy_per_atom", settings.expected_errors.energy_per_atom},
          {"force", settings.expected_errors.force},
          {"virial_per_atom", settings.expected_errors.virial_per_atom}}},
        {"regulariser",
         {{"smallest", settings.grid.smallest},
          {"largest", settings.grid.largest},
          {"points", settings.grid.points},
          {"order_lambdas", order_lambdas},
          {"scale", settings.penalty_scale == PenaltyScale::column ? "column" : "block"}}},
        {"calibrate_on", settings.calibrate_on == CalibrationTarget::forces ? "forces" : "energies"},
    };
}

}  // namespace chorus::models::training
