#include "extras.hpp"

#include <span>
#include <string_view>
#include <vector>

#include "json_text.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

// The extras are written as text directly (json_text.hpp says why). The format is fixed and flat,
// so a writer this small is enough; the unit tests parse its output with a real JSON parser.
class ExtrasWriter {
public:
    explicit ExtrasWriter(std::string& out) : out_(out) { out_ = "{"; }

    void key(std::string_view name) {
        if (out_.size() > 1) {
            out_ += ',';
        }
        out_ += '"';
        out_ += name;
        out_ += "\":";
    }

    void number(double value) { append_json_number(out_, value); }
    void number(std::int64_t value) { append_json_number(out_, value); }
    void array(std::span<const double> values) { append_json_array(out_, values); }

    void finish() { out_ += '}'; }

private:
    std::string& out_;
};

}  // namespace

engine::ComputeRequest compute_request_for(ExtrasMode mode) {
    engine::ComputeRequest request;
    request.forces = true;
    request.virial = true;
    request.member_forces = mode == ExtrasMode::full;
    request.member_virials = mode == ExtrasMode::full;
    return request;
}

std::string build_extras(const engine::CommitteeResult& result, ExtrasMode mode,
                         const ExtrasContext& context) {
    if (mode == ExtrasMode::none) {
        return {};
    }
    const std::size_t members = result.committee_size();
    std::string text;
    // ~24 characters per number
    text.reserve(128 + 24 * members * (mode == ExtrasMode::full ? 10 + 3 * result.forces.cols() : 1));
    ExtrasWriter json(text);

    std::vector<double> values(members);
    for (std::size_t k = 0; k < members; ++k) {
        values[k] = energy_to_wire(result.member_energies[static_cast<Eigen::Index>(k)]);
    }
    json.key("committee_pot");
    json.array(values);

    if (mode == ExtrasMode::full) {
        json.key("committee_force");
        text += '[';
        for (std::size_t k = 0; k < result.member_forces.size(); ++k) {
            if (k > 0) {
                text += ',';
            }
            forces_to_wire(result.member_forces[k], values);
            json.array(values);
        }
        text += ']';
        json.key("committee_virial");
        text += '[';
        for (std::size_t k = 0; k < result.member_virials.size(); ++k) {
            if (k > 0) {
                text += ',';
            }
            json.array(virial_to_wire(result.member_virials[k]));
        }
        text += ']';
    }

    json.key("committee_uncertainty");
    json.number(energy_to_wire(result.energy_spread()));
    json.key("chorus_alpha");
    json.number(context.alpha);
    json.key("chorus_bead");
    json.number(static_cast<std::int64_t>(context.replica_id));
    if (context.atomic_uncertainty && result.member_atomic_energies.rows() == result.forces.cols()) {
        const Eigen::VectorXd spread = result.atomic_energy_spread();
        values.resize(static_cast<std::size_t>(spread.size()));
        for (Eigen::Index i = 0; i < spread.size(); ++i) {
            values[static_cast<std::size_t>(i)] = energy_to_wire(spread[i]);
        }
        json.key("chorus_atomic_uncertainty");
        json.array(values);
    }
    json.finish();
    return text;
}

}  // namespace chorus::server
