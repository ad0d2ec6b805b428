// libFuzzer target: parse_control_request, one line of the control API of `chorus serve
// --control`. It may only throw InputError; what it accepts must be within the documented ranges.
// Seeds: corpus/control_request.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "control_request.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using chorus::fuzz::check;
    using namespace chorus::server;
    ControlRequest request;
    if (!chorus::fuzz::succeeds_or_throws<chorus::InputError>(
            [&] { request = parse_control_request(chorus::fuzz::as_text(data, size)); })) {
        return 0;
    }
    check(size <= max_control_request_bytes + 1, "lines over the limit are refused");
    check(!request_name(request.body).empty(), "every request has a name");
    if (const auto* uncertainty = std::get_if<UncertaintyRequest>(&request.body)) {
        check(uncertainty->last >= 1 && uncertainty->last <= max_uncertainty_entries, "last within 1 … max");
    } else if (const auto* reweight = std::get_if<ReweightRequest>(&request.body)) {
        check(!reweight->temperature_kelvin ||
                  (std::isfinite(*reweight->temperature_kelvin) && *reweight->temperature_kelvin > 0.0),
              "a reweighting temperature is positive and finite");
        check(!reweight->beads || *reweight->beads >= 1, "beads >= 1");
    } else if (const auto* capture = std::get_if<CaptureRequest>(&request.body)) {
        check(std::isfinite(capture->threshold), "a finite capture threshold");
        check(!quantity_name(capture->quantity).empty(), "a named capture quantity");
    }
    return 0;
}
