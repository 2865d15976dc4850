//! Finds where a dotted JSON path sits in the original text, for line:column in error messages.
//!
//! A small scanner over the already-parsed (so known-valid) document: it walks objects and
//! arrays, skipping values that are off the path, and stops at the deepest segment it finds.

/// 1-based (line, column) of the value at `path` in `text`, or of its nearest existing parent.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let segs: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    let mut sc = Scanner { b: text.as_bytes(), i: 0 };
    sc.ws();
    let mut best = sc.i;
    for seg in segs {
        match sc.enter(seg) {
            Some(pos) => best = pos,
            None => break,
        }
    }
    Some(line_col(text, best))
}

fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// Moves into the child `seg` of the value at the cursor; returns its position.
    fn enter(&mut self, seg: &str) -> Option<usize> {
        match self.peek() {
            b'{' => self.enter_object(seg),
            b'[' => self.enter_array(seg.parse().ok()?),
            _ => None,
        }
    }

    fn enter_object(&mut self, seg: &str) -> Option<usize> {
        self.i += 1;
        loop {
            self.ws();
            if self.peek() != b'"' {
                return None;
            }
            let key = self.string()?;
            self.ws();
            self.i += 1; // ':'
            self.ws();
            if key == seg {
                return Some(self.i);
            }
            self.skip_to_next()?;
        }
    }

    fn enter_array(&mut self, index: usize) -> Option<usize> {
        self.i += 1;
        for k in 0.. {
            self.ws();
            if self.peek() == b']' {
                return None;
            }
            if k == index {
                return Some(self.i);
            }
            self.skip_to_next()?;
        }
        None
    }

    /// Reads a string at the cursor, returning its raw (unescaped only for `\"`) contents.
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let start = self.i;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    let s = String::from_utf8_lossy(&self.b[start..self.i]).into_owned();
                    self.i += 1;
                    return Some(s);
                }
                _ => self.i += 1,
            }
        }
        None
    }

    /// Skips the value at the cursor and the comma after it; `None` at the container's end.
    fn skip_to_next(&mut self) -> Option<()> {
        self.skip_value()?;
        self.ws();
        if self.peek() != b',' {
            return None;
        }
        self.i += 1;
        Some(())
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek() {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                None
            }
            _ => {
                while self.i < self.b.len() && !matches!(self.b[self.i], b',' | b'}' | b']') {
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn finds_nested_fields_and_array_elements() {
        let text = "{\n  \"a\": {\"x\": [1, {\"y\": \"q\"}]},\n  \"stations\": {\n    \"s\": {\"servers\": 0}\n  }\n}";
        assert_eq!(locate(text, "stations.s.servers"), Some((4, 22)));
        assert_eq!(locate(text, "a.x.1.y"), Some((2, 24)));
        assert_eq!(locate(text, "a.x.1"), Some((2, 18)));
        // Missing leaf: position of the nearest parent that exists.
        assert_eq!(locate(text, "stations.s.capacity"), Some((4, 10)));
        assert_eq!(locate(text, ""), Some((1, 1)));
    }
}
