//! Load benchmark (written below).
fn main() {}
