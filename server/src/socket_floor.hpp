#pragma once
// The floor under every socket round trip on this machine: two threads exchanging a request and an
// answer of given sizes over a UNIX or TCP loopback socket, with no protocol at all. The answering
// side spins on its socket (as a driver waiting for i-PI does) and busy-waits `busy_us` before it
// answers (the compute time); the asking side blocks in read, as i-PI and the bench's stand-in do.
// A thread that blocks for a long time costs more to wake (tens of µs on an idle VM), so the floor
// for a 1.5 ms evaluation is not the floor for an empty one: the bench measures it per row.
#include <cstddef>
#include <vector>

namespace chorus::server {

struct SocketFloorSettings {
    std::size_t request_bytes = 0;
    std::size_t answer_bytes = 0;
    double busy_us = 0.0;  // time between the request's last byte and the answer's first
    bool over_tcp = false;
    int calls = 1000;
};

// Per call: round trip − busy_us, µs (a few untimed calls first).
std::vector<double> time_socket_floor(const SocketFloorSettings& settings);

}  // namespace chorus::server
