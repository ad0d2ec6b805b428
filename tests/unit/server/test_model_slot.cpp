// The `reload` control request (README "Control API"): its parsing, the checks before a swap (a
// failing load, another committee size or other species keep the current model), the swap itself
// (the next request of an evaluator uses the new model, a handle taken before keeps the old one
// alive), and the handler's response.
#include <memory>
#include <stdexcept>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "control_handler.hpp"
#include "control_request.hpp"
#include "evaluator.hpp"
#include "live_store.hpp"
#include "model_slot.hpp"
#include "toy_committee.hpp"

namespace {

using chorus::server::ModelSlot;
using chorus::server::test::ToyCommittee;
using Json = nlohmann::json;

std::shared_ptr<const chorus::engine::Model> toy(std::vector<double> stiffness,
                                                 std::vector<int> species = {}) {
    return std::make_shared<const ToyCommittee>(std::move(stiffness), 1.0, std::move(species));
}

// Two atoms 1 Å apart along x: E_k = ½ c_k, so the committee-mean energy is half the mean stiffness.
chorus::protocol::EvaluationRequest two_atoms() {
    chorus::protocol::EvaluationRequest request;
    request.atoms = 2;
    request.replica_id = -1;
    chorus::protocol::WireStructure structure;
    structure.cell = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    structure.positions = {0, 0, 0, 1, 0, 0};
    request.structures.push_back(structure);
    return request;
}

}  // namespace

TEST_CASE("reload request: no fields besides the common ones", "[reload]") {
    const auto request = chorus::server::parse_control_request(R"({"request": "reload", "id": 3})");
    CHECK(std::holds_alternative<chorus::server::ReloadRequest>(request.body));
    CHECK(chorus::server::request_name(request.body) == "reload");
    // Never a path from the request: the file is the --model given at start.
    CHECK_THROWS_AS(chorus::server::parse_control_request(R"({"request": "reload", "path": "/etc/x"})"),
                    chorus::InputError);
}

TEST_CASE("model slot: refused reloads keep the current model", "[reload]") {
    const auto initial = toy({1.0, 2.0});
    SECTION("the loader fails (unreadable or invalid file)") {
        ModelSlot slot(initial, []() -> std::shared_ptr<const chorus::engine::Model> {
            throw chorus::ConfigError("model file 'm.json' is not valid JSON");
        });
        CHECK_THROWS_WITH(slot.reload(), Catch::Contains("not valid JSON"));
        CHECK(slot.current() == initial);
        CHECK(slot.reloads() == 0);
    }
    SECTION("another committee size") {
        ModelSlot slot(initial, [] { return toy({1.0, 2.0, 3.0}); });
        CHECK_THROWS_WITH(slot.reload(), Catch::Contains("3 committee members, the running one 2"));
        CHECK(slot.current() == initial);
    }
    SECTION("other species") {
        ModelSlot slot(toy({1.0, 2.0}, {8, 1, 1}), [] { return toy({1.0, 2.0}, {1, 8, 1}); });
        CHECK_THROWS_AS(slot.reload(), chorus::InputError);
        CHECK(slot.current()->species()[0] == 8);
    }
    SECTION("no loader") {
        ModelSlot slot(initial, {});
        CHECK_THROWS_AS(slot.reload(), chorus::InputError);
    }
}

TEST_CASE("model slot: a valid reload reaches the next request, not the one in flight", "[reload]") {
    ModelSlot slot(toy({1.0, 3.0}), [] { return toy({5.0, 7.0}); });
    chorus::server::EvaluationSettings settings;
    settings.extras = chorus::server::ExtrasMode::none;
    settings.model_slot = &slot;
    const ToyCommittee unused({100.0, 100.0});  // the slot wins over the constructor's model
    chorus::server::Evaluator evaluator(unused, settings);
    const auto before = evaluator.evaluate(two_atoms());
    // Energies on the wire are Hartree: compare ratios, which are unit free.
    const std::shared_ptr<const chorus::engine::Model> in_flight = slot.current();
    CHECK(slot.reload().find("2 members") != std::string::npos);
    CHECK(slot.reloads() == 1);
    CHECK(in_flight->description() == "toy spring committee of 2 members");  // still alive
    CHECK(in_flight != slot.current());
    const auto after = evaluator.evaluate(two_atoms());
    CHECK(after[0].energy / before[0].energy == Approx(6.0 / 2.0).epsilon(1e-14));
}

TEST_CASE("control handler: reload answers with the new model, status shows it", "[reload]") {
    ModelSlot slot(toy({1.0, 3.0}), [] { return toy({5.0, 7.0}); });
    chorus::server::LiveStore store(2);
    chorus::server::ControlContext context{"old", std::nullopt, std::nullopt, &slot};
    chorus::server::ControlHandler handler(std::move(context), store, nullptr);
    const Json reload = Json::parse(handler.handle(R"({"request": "reload", "id": "r"})"));
    CHECK(reload["ok"] == true);
    CHECK(reload["request"] == "reload");
    CHECK(reload["id"] == "r");
    CHECK(reload["reloads"] == 1);
    const Json status = Json::parse(handler.handle(R"({"request": "status"})"));
    CHECK(status["model"] == "toy spring committee of 2 members");
    CHECK(status["model_reloads"] == 1);

    chorus::server::ControlHandler without(chorus::server::ControlContext{"m", std::nullopt, std::nullopt},
                                           store, nullptr);
    const Json refused = Json::parse(without.handle(R"({"request": "reload"})"));
    CHECK(refused["ok"] == false);
}
