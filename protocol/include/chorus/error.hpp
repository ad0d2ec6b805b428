#pragma once
// The one error hierarchy of chorus. It lives in the protocol target because that is the lowest
// layer (std only); every other target depends on it. Messages say what was wrong, with the
// offending value, and what to do about it.
#include <stdexcept>
#include <string>

namespace chorus {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The peer broke the i-PI wire protocol (unknown header, impossible sizes, changed atom count).
// Fatal for that connection only.
class ProtocolError : public Error {
public:
    using Error::Error;
};

// A structure that cannot be evaluated: NaN/Inf coordinates, a singular periodic cell,
// species the model does not know.
class InputError : public Error {
public:
    using Error::Error;
};

// A model file or configuration that is malformed, of an unknown kind, or inconsistent.
class ConfigError : public Error {
public:
    using Error::Error;
};

// An operating-system level failure: files, sockets, addresses.
class IoError : public Error {
public:
    using Error::Error;
};

}  // namespace chorus
