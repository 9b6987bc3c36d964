//! skype-sender-cli: placeholder until the CLI lands.

fn main() {
    eprintln!("skype-sender-cli: not built yet");
    std::process::exit(2);
}
