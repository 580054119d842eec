#include "cli/commands.hpp"

int main(int argc, char** argv) { return norreg::cli::Main(argc, argv); }
