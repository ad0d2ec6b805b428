#pragma once
// Lennard-Jones reference models: one potential, or a committee of potentials with different ε
// and σ. They match ASE 3.22's ase.calculators.lj.LennardJones(sigma, epsilon, rc) with
// smooth=False: u(r) = 4ε[(σ/r)¹² − (σ/r)⁶] − u(r_c) for r < r_c, 0 beyond. The shift makes the
// energy continuous at r_c; the forces are the unshifted ones and jump to zero there, as in ASE.
// Any species: the parameters apply to every pair.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chorus/engine/model.hpp"

namespace chorus::models {

struct LennardJonesParameters {
    double epsilon;  // well depth, eV
    double sigma;    // zero crossing of the unshifted potential, Å
};

class LennardJones final : public engine::Model {
public:
    // cutoff: Å, defaults to 3σ like ASE. Throws ConfigError for non-positive or non-finite values.
    LennardJones(double epsilon, double sigma, std::optional<double> cutoff = std::nullopt);

    const LennardJonesParameters& parameters() const { return parameters_; }

    std::string_view kind() const override { return "lennard-jones"; }
    std::string description() const override;
    std::span<const int> species() const override { return {}; }
    double cutoff() const override { return cutoff_; }
    std::size_t committee_size() const override { return 1; }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override;

private:
    LennardJonesParameters parameters_;
    double cutoff_;
};

class LennardJonesCommittee final : public engine::Model {
public:
    // One member per parameter set, all with the same cutoff (Å). alpha calibrates the spread.
    // Throws ConfigError for no members or non-positive / non-finite values.
    LennardJonesCommittee(std::vector<LennardJonesParameters> members, double cutoff, double alpha = 1.0);

    const std::vector<LennardJonesParameters>& members() const { return members_; }

    std::string_view kind() const override { return "lennard-jones-committee"; }
    std::string description() const override;
    std::span<const int> species() const override { return {}; }
    double cutoff() const override { return cutoff_; }
    std::size_t committee_size() const override { return members_.size(); }
    double calibration_alpha() const override { return alpha_; }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override;

private:
    std::vector<LennardJonesParameters> members_;
    double cutoff_;
    double alpha_;
};

// Model-file readers for the kinds "lennard-jones" and "lennard-jones-committee" (see
// model_file.hpp for the registry that dispatches to them). `origin` names the file in errors.
std::unique_ptr<engine::Model> lennard_jones_from_json(const nlohmann::json& document,
                                                       std::string_view origin);
std::unique_ptr<engine::Model> lennard_jones_committee_from_json(const nlohmann::json& document,
                                                                 std::string_view origin);

}  // namespace chorus::models
