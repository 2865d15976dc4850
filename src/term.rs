//! Printing to the terminal without panicking: `println!` panics when stdout is a closed pipe
//! (`capsim schema | head -1`). [`say!`] and [`note!`] write to stdout and stderr; when the
//! reader has gone (a broken pipe) the program ends quietly with status 0, as a Unix filter
//! would on SIGPIPE; any other write error is ignored (there is nowhere left to report it).

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout (`err` false) or stderr (`err` true); see the module notes.
pub fn write(err: bool, text: std::fmt::Arguments) {
    let result = if err {
        let mut e = std::io::stderr().lock();
        e.write_fmt(text).and_then(|_| e.flush())
    } else {
        let mut o = std::io::stdout().lock();
        o.write_fmt(text).and_then(|_| o.flush())
    };
    if let Err(e) = result
        && e.kind() == ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `println!` that never panics.
#[macro_export]
macro_rules! say {
    () => { $crate::term::write(false, format_args!("\n")) };
    ($($t:tt)*) => { $crate::term::write(false, format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` that never panics.
#[macro_export]
macro_rules! say_raw {
    ($($t:tt)*) => { $crate::term::write(false, format_args!($($t)*)) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! note {
    ($($t:tt)*) => { $crate::term::write(true, format_args!("{}\n", format_args!($($t)*))) };
}
