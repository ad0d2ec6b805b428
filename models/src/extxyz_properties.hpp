#pragma once
// The `Properties=name:type:cols:…` layout of the per-atom lines: where the columns chorus reads
// start, and how many columns a line has in all.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "extxyz_text.hpp"

namespace chorus::models::extxyz_detail {

struct PropertyLayout {
    std::size_t columns = 0;            // total per line
    std::size_t species = 0;            // column of the element symbol (or atomic number)
    bool species_are_numbers = false;   // `Z:I:1` instead of `species:S:1`
    std::size_t positions = 0;          // first of three
    std::optional<std::size_t> forces;  // first of three
    std::string description;            // "species:S:1 pos:R:3 …", for error messages
};

// Throws InputError for a malformed specification, an unknown type, or one without species (or
// Z) and pos, or with them in the wrong shape.
PropertyLayout parse_properties(std::string_view specification, const Location& where);

// The layout ASE assumes when a frame has no Properties key.
PropertyLayout default_properties();

}  // namespace chorus::models::extxyz_detail
