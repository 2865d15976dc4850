//! The `capsim` command line.

fn main() {
    std::process::exit(capsim::cli::main());
}
