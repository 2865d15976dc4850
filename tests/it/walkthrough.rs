//! The student walk-through (docs/walkthrough.md) as a test: every `capsim` command of its shell
//! blocks runs, in the order written, in a scratch folder laid out like the repository (a copy
//! of `models/` and `experiments/`), and every row of its `| file | figure | expected |` tables
//! is read from the output the commands wrote and checked against its range. So the page fails
//! this test if a command stops working, a command is dropped from capsim, or a figure the page
//! tells a student to expect moves out of its stated range.
//!
//! The ranges are the page's, not this file's: each is wide enough to survive a small
//! recalibration of a model (about ±50 % around the figure seen when the page was written, exact
//! for counts that are 0 or 1 by construction), and never overlaps the range of the state it is
//! contrasted with — a stampede window's Catalog p99 of 0.12 to 0.3 s against a quiet window's
//! 0.06 to 0.11 s, `recovered` = 0 against = 1 — so a step whose effect vanished fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const DOC: &str = "docs/walkthrough.md";

/// Languages of fenced blocks whose lines a student would paste into a shell.
const SHELL_FENCES: [&str; 5] = ["sh", "bash", "shell", "console", "zsh"];

/// Where every command must write, relative to the repository (git ignores it).
const OUT_ROOT: &str = "walk/";

/// One thing the page asks for, at its 1-based line: run a command or check a figure.
#[derive(Debug)]
enum Step {
    Run { line: usize, args: Vec<String> },
    Expect(Expectation),
}

/// A table row: the figure `figure` of `file` (a dotted path into JSON, or a CSV column read
/// in the one row matching every `select` pair) must lie in `lo..=hi`.
#[derive(Debug)]
struct Expectation {
    line: usize,
    file: String,
    figure: String,
    select: Vec<(String, String)>,
    lo: f64,
    hi: f64,
}

#[test]
fn every_command_of_the_walkthrough_runs_and_every_expected_figure_holds() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join(DOC)).expect("read the walk-through");
    let steps = parse(&text).unwrap_or_else(|e| panic!("{DOC}: {e}"));
    check_coverage(&steps).unwrap_or_else(|e| panic!("{DOC}: {e}"));
    let guard = Scratch::new(repo);
    let scratch = guard.0.as_path();
    let started = Instant::now();
    let mut failures = Vec::new();
    for step in &steps {
        match step {
            Step::Run { line, args } => run(scratch, *line, args),
            Step::Expect(e) => match measure(scratch, e) {
                Ok(v) if v >= e.lo && v <= e.hi => {
                    eprintln!("  ok {}:{}: {} {} = {v}", DOC, e.line, e.file, e.figure)
                }
                Ok(v) => failures.push(format!(
                    "{DOC}:{}: {} {}{}: {v} is outside {} to {}",
                    e.line,
                    e.file,
                    e.figure,
                    selection(e),
                    e.lo,
                    e.hi
                )),
                Err(msg) => failures.push(format!("{DOC}:{}: {} {}: {msg}", e.line, e.file, e.figure)),
            },
        }
    }
    eprintln!("walk-through: {} steps in {:.1} s", steps.len(), started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "figures the walk-through promises do not hold:\n{}", failures.join("\n"));
}

/// The parser finds commands and figures, rejects lines no test would run, and reads ranges.
#[test]
fn walkthrough_parser_reads_commands_and_tables_and_refuses_untested_lines() {
    let doc = "text\n```sh\n# a comment\ncapsim run 'a b' \\\n  --out walk/x\n```\n\n\
               | file | figure | expected |\n|---|---|---|\n\
               | `walk/x/t.csv` | `c` at `k=1, m=two` | 0.5 to 2 |\n| `walk/x/s.json` | `a.b.0` | = 3 |\n";
    let steps = parse(doc).unwrap();
    assert_eq!(steps.len(), 3);
    let Step::Run { line, args } = &steps[0] else { panic!("{:?}", steps[0]) };
    assert_eq!((*line, args.as_slice()), (4, ["run", "a b", "--out", "walk/x"].map(String::from).as_slice()));
    let Step::Expect(e) = &steps[1] else { panic!("{:?}", steps[1]) };
    assert_eq!((e.file.as_str(), e.figure.as_str(), e.lo, e.hi), ("walk/x/t.csv", "c", 0.5, 2.0));
    assert_eq!(e.select, [("k".into(), "1".into()), ("m".into(), "two".into())]);
    let Step::Expect(e) = &steps[2] else { panic!("{:?}", steps[2]) };
    assert_eq!((e.lo, e.hi), (3.0, 3.0));
    assert!(check_coverage(&steps).is_ok());
    assert!(parse("```sh\ncp a b\n```\n").unwrap_err().contains("cp a b"));
    assert!(parse("```bash\ncapsim run 'open\n```\n").unwrap_err().contains("quote"));
    assert!(parse("| file | figure | expected |\n|-|-|-|\n| `f.json` | `x` | about 3 |\n").is_err());
    assert!(check_coverage(&parse("no commands here\n").unwrap()).is_err());
    let no_out = parse("```sh\ncapsim gallery --only retry_storm\n```\n").unwrap();
    assert!(check_coverage(&no_out).unwrap_err().contains("--out"));
    let unchecked = parse(&format!("```sh\ncapsim run m.json --out walk/y\n```\n{doc}")).unwrap();
    assert!(check_coverage(&unchecked).unwrap_err().contains("walk/y"));
}

/// The commands and table rows of `text`, in order.
fn parse(text: &str) -> Result<Vec<Step>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(lang) = line.strip_prefix("```") {
            let end = (i + 1..lines.len()).find(|&j| lines[j].trim().starts_with("```")).ok_or("unclosed fence")?;
            if SHELL_FENCES.contains(&lang.trim()) {
                steps.extend(shell_block(&lines[i + 1..end], i + 2)?);
            }
            i = end + 1;
        } else if is_expect_header(line) {
            i += 2; // the header and the |---| line
            while i < lines.len() && lines[i].trim().starts_with('|') {
                steps.push(Step::Expect(expectation(lines[i], i + 1)?));
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    Ok(steps)
}

/// The commands of a shell block whose first line is line `first` of the page; any other
/// line but a comment is refused, since no test would run it.
fn shell_block(lines: &[&str], first: usize) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let line_no = first + k;
        let mut logical = String::new();
        while let Some(cont) = lines[k].trim_end().strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            k += 1;
            if k == lines.len() {
                return Err(format!("line {line_no}: the command's last line ends in \\"));
            }
        }
        logical.push_str(lines[k]);
        k += 1;
        let cmd = logical.trim();
        if cmd.is_empty() || cmd.starts_with('#') {
            continue;
        }
        let rest = cmd
            .strip_prefix("capsim ")
            .ok_or_else(|| format!("line {line_no}: `{cmd}` is not a capsim command, and no test runs it"))?;
        let args = shell_words(rest).map_err(|e| format!("line {line_no}: {e}"))?;
        steps.push(Step::Run { line: line_no, args });
    }
    Ok(steps)
}

/// Splits a command line as a POSIX shell would for the forms a page uses: words separated by
/// blanks, '…' taken literally, "…" with \" and \\ escapes, a bare \ escaping the next
/// character, and an unquoted # starting a comment.
fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next().ok_or("unclosed single quote")? {
                        '\'' => break,
                        ch => w.push(ch),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next().ok_or("unclosed double quote")? {
                        '"' => break,
                        '\\' => w.push(chars.next().ok_or("unclosed double quote")?),
                        ch => w.push(ch),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next().ok_or("a lone \\ at the end")?),
            ch => word.get_or_insert_with(String::new).push(ch),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Whether `line` is the header of a table of expected figures.
fn is_expect_header(line: &str) -> bool {
    cells(line).iter().map(|c| c.to_lowercase()).eq(["file", "figure", "expected"])
}

/// The trimmed cells of a Markdown table row.
fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

/// The code spans of a table cell, in order.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// One table row: `` `file` | `figure` [at `k=v, …`] | A to B `` or `= X`.
fn expectation(row: &str, line: usize) -> Result<Expectation, String> {
    let c = cells(row);
    let [file, figure, expected] = c.as_slice() else {
        return Err(format!("line {line}: a row of expected figures has 3 cells, not {}", c.len()));
    };
    let file = code_spans(file).first().ok_or(format!("line {line}: the file is not `code`"))?.to_string();
    let spans = code_spans(figure);
    let name = spans.first().ok_or(format!("line {line}: the figure is not `code`"))?.to_string();
    let select = match spans.get(1) {
        Some(sel) if figure.contains(" at ") => selector(sel).map_err(|e| format!("line {line}: {e}"))?,
        _ => Vec::new(),
    };
    let (lo, hi) = range(expected).map_err(|e| format!("line {line}: {e}"))?;
    Ok(Expectation { line, file, figure: name, select, lo, hi })
}

/// `k=v, k2=v2` as pairs.
fn selector(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split(", ")
        .map(|kv| {
            let (k, v) = kv.split_once('=').ok_or(format!("`{kv}` is not column=value"))?;
            Ok((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// `A to B` (inclusive) or `= X`.
fn range(s: &str) -> Result<(f64, f64), String> {
    let num = |t: &str| t.trim().parse::<f64>().map_err(|_| format!("`{s}` is not `A to B` or `= X`"));
    if let Some(x) = s.strip_prefix('=') {
        let x = num(x)?;
        return Ok((x, x));
    }
    let (a, b) = s.split_once(" to ").ok_or(format!("`{s}` is not `A to B` or `= X`"))?;
    let (lo, hi) = (num(a)?, num(b)?);
    if lo > hi {
        return Err(format!("`{s}`: the range is empty"));
    }
    Ok((lo, hi))
}

/// The page must have commands and figures; every command writes under `walk/`, so nothing a
/// student runs touches `output/`; and every folder a command writes has a figure checked.
fn check_coverage(steps: &[Step]) -> Result<(), String> {
    let mut outs = Vec::new();
    for s in steps {
        if let Step::Run { line, args } = s {
            let out = args.iter().position(|a| a == "--out").and_then(|p| args.get(p + 1));
            match out {
                Some(o) if o.starts_with(OUT_ROOT) && !o.contains("..") => outs.push(o.trim_end_matches('/')),
                _ => return Err(format!("line {line}: every command needs --out under {OUT_ROOT}")),
            }
        }
    }
    let files: Vec<&str> =
        steps.iter().filter_map(|s| if let Step::Expect(e) = s { Some(e.file.as_str()) } else { None }).collect();
    if outs.is_empty() || files.is_empty() {
        return Err("no commands or no expected figures: nothing would be checked".into());
    }
    match outs.iter().find(|o| !files.iter().any(|f| f.starts_with(&format!("{o}/")))) {
        Some(o) => Err(format!("no figure of {o} is checked: say what the student should see there")),
        None => Ok(()),
    }
}

/// A fresh folder with copies of the repository's models and experiments, where the commands
/// run and write (the repository itself is never written); removed when dropped, failed or not.
struct Scratch(PathBuf);

impl Scratch {
    fn new(repo: &Path) -> Scratch {
        let dir = std::env::temp_dir().join(format!("capsim-walkthrough-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["models", "experiments"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            for entry in std::fs::read_dir(repo.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    std::fs::copy(&path, dir.join(sub).join(path.file_name().unwrap())).unwrap();
                }
            }
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs one command of the page in `dir`, panicking with its output if it fails.
fn run(dir: &Path, line: usize, args: &[String]) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_capsim")).args(args).current_dir(dir).output().unwrap();
    eprintln!("{DOC}:{line}: capsim {} ({:.1} s)", args.join(" "), t.elapsed().as_secs_f64());
    assert!(
        out.status.success(),
        "{DOC}:{line}: `capsim {}` exited with {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The figure an expectation names, read from the file the commands wrote.
fn measure(dir: &Path, e: &Expectation) -> Result<f64, String> {
    let text = std::fs::read_to_string(dir.join(&e.file)).map_err(|err| format!("cannot read it: {err}"))?;
    if e.file.ends_with(".json") {
        json_figure(&text, &e.figure)
    } else if e.file.ends_with(".csv") {
        csv_figure(&text, &e.figure, &e.select)
    } else {
        Err("only .json and .csv files can be checked".into())
    }
}

/// A number at a dotted path (numeric segments index arrays); true and false count as 1 and 0.
fn json_figure(text: &str, path: &str) -> Result<f64, String> {
    let root: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let mut v = &root;
    for seg in path.split('.') {
        v = match seg.parse::<usize>() {
            Ok(i) if v.is_array() => &v[i],
            _ => &v[seg],
        };
    }
    match v {
        serde_json::Value::Number(n) => n.as_f64().ok_or("not a finite number".into()),
        serde_json::Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        other => Err(format!("is {other}, not a number")),
    }
}

/// The number in column `column` of the one row whose cells match every `select` pair
/// (numerically where both sides are numbers, so `t_start_s=320` matches `320.0`).
fn csv_figure(text: &str, column: &str, select: &[(String, String)]) -> Result<f64, String> {
    let mut rows = text.lines().map(crate::common::csv_fields);
    let header = rows.next().ok_or("empty file")?;
    let col = |name: &str| header.iter().position(|h| h == name).ok_or(format!("no column {name}"));
    let target = col(column)?;
    let keys: Vec<(usize, &str)> =
        select.iter().map(|(k, v)| Ok((col(k)?, v.as_str()))).collect::<Result<_, String>>()?;
    let same = |a: &str, b: &str| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    let hits: Vec<Vec<String>> =
        rows.filter(|r| keys.iter().all(|&(i, v)| r.get(i).is_some_and(|c| same(c, v)))).collect();
    let [row] = hits.as_slice() else {
        return Err(format!("{} rows match {select:?}, not one", hits.len()));
    };
    let cell = &row[target];
    cell.parse::<f64>().map_err(|_| format!("cell `{cell}` is not a number"))
}

/// ` at k=v, …` for messages.
fn selection(e: &Expectation) -> String {
    if e.select.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = e.select.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(" at {}", pairs.join(", "))
}
