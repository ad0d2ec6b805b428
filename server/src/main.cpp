// The `chorus` executable; everything lives in the chorus_server library so tests can reach it.
#include "program.hpp"

int main(int argc, char** argv) { return chorus::server::run_program(argc, argv); }
