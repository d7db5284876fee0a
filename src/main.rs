use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = tumbler::cli::Cli::parse();
    match tumbler::cli::run(cli) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("tumbler: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
