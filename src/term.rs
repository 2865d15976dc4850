//! Printing to the terminal without panicking: `println!` panics when stdout is a closed pipe
//! (`capsim schema | head -1`). [`say!`] and [`note!`] write to stdout and stderr; when the
//! reader has gone (a broken pipe) the program ends quietly with status 0, as a Unix filter
//! would on SIGPIPE. Any other failure to write stdout (a full disk, `> /dev/full`) loses output
//! the user asked for: it is said on stderr and the program ends with status 2. A failure to
//! write stderr is ignored (there is nowhere left to report it).

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
    match result {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) if !err => {
            let _ = writeln!(std::io::stderr(), "error: cannot write to standard output: {e}");
            std::process::exit(2);
        }
        _ => {}
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
