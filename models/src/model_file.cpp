#include "chorus/models/model_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file_object.hpp"

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
    const std::string name = path.string();
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
        throw IoError("cannot read model file '" + name +
                      "': it is a directory; pass the path of a .json file");
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw IoError("cannot read model file '" + name + "': " + std::strerror(errno) +
                      "; check the path and its permissions");
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        throw IoError("cannot read model file '" + name + "': read error; check the file");
    }
    return model_from_text(text.str(), name);
}

std::unique_ptr<engine::Model> model_from_text(std::string_view text, std::string_view origin) {
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& parse_error) {
        throw ConfigError("model file '" + std::string(origin) + "' is not valid JSON (at byte " +
                          std::to_string(parse_error.byte) + "): " + parse_error.what());
    } catch (const nlohmann::json::exception& error) {
        // Not a parse_error: e.g. out_of_range for a number beyond a double ("1e400").
        throw ConfigError("model file '" + std::string(origin) + "' is not valid JSON: " + error.what() +
                          "; write every number within ±1.8e308");
    }
    return model_from_json(document, origin);
}

}  // namespace chorus::models
