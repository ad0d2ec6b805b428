#include "extxyz_properties.hpp"

#include <charconv>
#include <initializer_list>
#include <vector>

namespace chorus::models::extxyz_detail {
namespace {

struct Property {
    std::string_view name;
    char type;
    std::size_t columns;
    std::size_t first_column;
};

std::vector<std::string_view> split_colons(std::string_view text) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t colon = text.find(':', start);
        parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
        if (colon == std::string_view::npos) {
            return parts;
        }
        start = colon + 1;
    }
}

std::size_t parse_column_count(std::string_view text, std::string_view name, const Location& where) {
    std::size_t count = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (error != std::errc() || end != text.data() + text.size() || count == 0) {
        fail(where, "Properties: expected a positive column count for '" + std::string(name) +
                        "' but found " + in_quotes(text));
    }
    return count;
}

// The first of `names` (in order of preference) that the file has, or nullptr.
const Property* find_property(const std::vector<Property>& properties,
                              std::initializer_list<std::string_view> names) {
    for (const std::string_view name : names) {
        for (const Property& property : properties) {
            if (property.name == name) {
                return &property;
            }
        }
    }
    return nullptr;
}

void require_shape(const Property& property, char type, std::size_t columns, const Location& where) {
    if (property.type != type || property.columns != columns) {
        fail(where, "Properties: expected " + std::string(property.name) + ":" + type + ":" +
                        std::to_string(columns) + " but found " + std::string(property.name) + ":" +
                        property.type + ":" + std::to_string(property.columns));
    }
}

}  // namespace

PropertyLayout parse_properties(std::string_view specification, const Location& where) {
    const auto parts = split_colons(specification);
    if (parts.size() % 3 != 0) {
        fail(where, "Properties=" + in_quotes(specification) +
                        " is not a list of name:type:columns triples (it has " +
                        std::to_string(parts.size()) + " fields)");
    }
    PropertyLayout layout;
    std::vector<Property> properties;
    for (std::size_t i = 0; i < parts.size(); i += 3) {
        const std::string_view name = parts[i];
        const std::string_view type = parts[i + 1];
        if (name.empty()) {
            fail(where, "Properties: property " + std::to_string(i / 3 + 1) + " has an empty name");
        }
        if (type.size() != 1 || std::string_view("RISL").find(type.front()) == std::string_view::npos) {
            fail(where, "Properties: expected type R, I, S or L for '" + std::string(name) + "' but found " +
                            in_quotes(type));
        }
        const std::size_t columns = parse_column_count(parts[i + 2], name, where);
        properties.push_back({name, type.front(), columns, layout.columns});
        layout.columns += columns;
        if (!layout.description.empty()) {
            layout.description += ' ';
        }
        layout.description.append(name).append(1, ':').append(type).append(1, ':').append(
            std::to_string(columns));
    }

    if (const Property* species = find_property(properties, {"species"})) {
        require_shape(*species, 'S', 1, where);
        layout.species = species->first_column;
    } else if (const Property* numbers = find_property(properties, {"Z"})) {
        require_shape(*numbers, 'I', 1, where);
        layout.species = numbers->first_column;
        layout.species_are_numbers = true;
    } else {
        fail(where, "Properties=" + in_quotes(specification) +
                        " has no species column; add species:S:1 (element symbols) or Z:I:1");
    }
    const Property* positions = find_property(properties, {"pos"});
    if (positions == nullptr) {
        fail(where, "Properties=" + in_quotes(specification) + " has no pos column; add pos:R:3 (Å)");
    }
    require_shape(*positions, 'R', 3, where);
    layout.positions = positions->first_column;
    if (const Property* forces = find_property(properties, {"forces", "force"})) {
        require_shape(*forces, 'R', 3, where);
        layout.forces = forces->first_column;
    }
    return layout;
}

PropertyLayout default_properties() {
    PropertyLayout layout;
    layout.columns = 4;
    layout.species = 0;
    layout.positions = 1;
    layout.description = "species:S:1 pos:R:3";
    return layout;
}

}  // namespace chorus::models::extxyz_detail
