//! The `gatehouse` binary: parses the command line and hands over to the library.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = gatehouse::cli::Cli::parse();
    gatehouse::cli::run(cli)
}
