#include "chorus/models/model_file.hpp"

#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file_object.hpp"
#include "model_document.hpp"

namespace chorus::models {
namespace {

class Registry {
public:
    Registry() {
        // The kinds chorus ships. A new model family adds its line here.
        factories_.emplace("lennard-jones", &lennard_jones_from_json);
        factories_.emplace("lennard-jones-committee", &lennard_jones_committee_from_json);
        factories_.emplace("linear-committee", &linear_committee_from_json);  // linear_committee.hpp
        factories_.emplace("linear-dipole-committee", &dipole::dipole_committee_as_energy_model);  // dipole/
    }

    void add(std::string kind, ModelFactory factory) {
        const std::lock_guard lock(mutex_);
        if (!factories_.emplace(kind, std::move(factory)).second) {
            throw ConfigError("model kind '" + kind +
                              "' is registered twice; give the new kind another name");
        }
    }

    // A copy, so that the factory runs without holding the lock.
    std::optional<ModelFactory> find(std::string_view kind) const {
        const std::lock_guard lock(mutex_);
        const auto found = factories_.find(kind);
        return found == factories_.end() ? std::nullopt : std::optional<ModelFactory>(found->second);
    }

    std::vector<std::string> kinds() const {
        const std::lock_guard lock(mutex_);
        std::vector<std::string> names;
        for (const auto& [kind, unused] : factories_) {
            names.push_back(kind);
        }
        return names;  // std::map: already sorted
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, ModelFactory, std::less<>> factories_;
};

Registry& registry() {
    static Registry instance;
    return instance;
}

std::string known_kinds_list() {
    std::string list;
    for (const std::string& kind : known_model_kinds()) {
        list += (list.empty() ? "\"" : ", \"") + kind + "\"";
    }
    return list;
}

}  // namespace

std::vector<std::string> known_model_kinds() { return registry().kinds(); }

void register_model_kind(std::string kind, ModelFactory factory) {
    registry().add(std::move(kind), std::move(factory));
}

std::unique_ptr<engine::Model> model_from_json(const nlohmann::json& document, std::string_view origin) {
    const std::string where = "model file '" + std::string(origin) + "'";
    if (!document.is_object()) {
        throw ConfigError(where + " must hold a JSON object with a \"kind\" key, got " +
                          describe_json_value(document));
    }
    const auto kind = document.find("kind");
    if (kind == document.end()) {
        throw ConfigError(where + " has no \"kind\" key; known kinds are " + known_kinds_list());
    }
    if (!kind->is_string()) {
        throw ConfigError(where + ": key 'kind' must be a string, got " + describe_json_value(*kind) +
                          "; known kinds are " + known_kinds_list());
    }
    const auto& name = kind->get_ref<const std::string&>();
    const std::optional<ModelFactory> factory = registry().find(name);
    if (!factory) {
        throw ConfigError(where + ": unknown kind \"" + name + "\"; known kinds are " + known_kinds_list());
    }
    return (*factory)(document, origin);
}

std::unique_ptr<engine::Model> load_model(const std::filesystem::path& path) {
    return model_from_text(read_model_text(path, "model file"), path.string());
}

std::unique_ptr<engine::Model> model_from_text(std::string_view text, std::string_view origin) {
    return model_from_json(parse_model_document(text, origin, "model file"), origin);
}

}  // namespace chorus::models
