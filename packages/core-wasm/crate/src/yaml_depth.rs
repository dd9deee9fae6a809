//! A linear pre-scan of a workflow's YAML for collections nested too deeply, run before the YAML
//! parsers (which recurse per level and slow down on deep flow collections). Block nesting is
//! counted by indentation (each `key:` and each `- ` entry opens a level, several `- ` on one line
//! open several), flow nesting by `[` and `{` outside quotes and comments. The count is an
//! estimate aimed at hostile input, not a YAML parser: it may count a level more in layouts no
//! workflow uses; a document it passes is then parsed, with the parsers' own limits behind it.

use crate::error::Pos;

struct Scan {
    /// Indentation columns of the open block levels, increasing.
    levels: Vec<usize>,
    /// Open flow collections (`[`, `{`).
    flow: usize,
    /// Inside a quoted scalar that continues on the next line.
    quote: Option<char>,
    /// Inside a block scalar (`|`, `>`) whose parent key sits at this column.
    block_scalar: Option<usize>,
    limit: usize,
}

/// Where the nesting first passes `limit` (1-based line and column), if it does.
pub fn too_deep_at(yaml: &str, limit: usize) -> Option<Pos> {
    let mut s = Scan { levels: Vec::new(), flow: 0, quote: None, block_scalar: None, limit };
    for (i, line) in yaml.lines().enumerate() {
        if let Some(column) = s.line(line) {
            return Some(Pos { line: i + 1, column: column + 1 });
        }
    }
    None
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

impl Scan {
    fn depth(&self) -> usize {
        self.levels.len() + self.flow
    }

    /// Scans one line; returns the 0-based column where the limit is passed.
    fn line(&mut self, line: &str) -> Option<usize> {
        let bytes = line.as_bytes();
        let indent = indent_of(line);
        let blank = line.trim().is_empty() || line.trim_start().starts_with('#');
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return None;
            }
            self.block_scalar = None;
        }
        if self.quote.is_some() || self.flow > 0 {
            return self.inline(bytes, 0, false);
        }
        if blank {
            return None;
        }
        while self.levels.last().is_some_and(|&l| l >= indent) {
            self.levels.pop();
        }
        let mut p = indent;
        // `- - - x`: one sequence level per dash.
        while p < bytes.len() && bytes[p] == b'-' && (p + 1 == bytes.len() || bytes[p + 1] == b' ') {
            self.levels.push(p);
            if self.depth() > self.limit {
                return Some(p);
            }
            p += 1;
            while p < bytes.len() && bytes[p] == b' ' {
                p += 1;
            }
        }
        if p >= bytes.len() {
            return None;
        }
        self.inline(bytes, p, true)
    }

    /// Scans from `start`. In block context (`block`), a `key:` opens a level at its column and
    /// only a value that starts with `[` or `{` enters flow context.
    fn inline(&mut self, bytes: &[u8], start: usize, block: bool) -> Option<usize> {
        let mut p = start;
        let mut value_start = block;
        while p < bytes.len() {
            let c = bytes[p];
            if let Some(q) = self.quote {
                if c == b'\\' && q == '"' {
                    p += 2;
                    continue;
                }
                if c as char == q {
                    if q == '\'' && bytes.get(p + 1) == Some(&b'\'') {
                        p += 2;
                        continue;
                    }
                    self.quote = None;
                }
                p += 1;
                continue;
            }
            let after_space = p == 0 || bytes[p - 1] == b' ' || bytes[p - 1] == b'\t';
            match c {
                b'#' if after_space => return None,
                b'"' | b'\'' if value_start || self.flow > 0 => self.quote = Some(c as char),
                b'[' | b'{' if value_start || self.flow > 0 => {
                    self.flow += 1;
                    if self.depth() > self.limit {
                        return Some(p);
                    }
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    if self.flow == 0 && block {
                        return None;
                    }
                }
                b':' if self.flow == 0 && block && (p + 1 == bytes.len() || bytes[p + 1] == b' ') => {
                    // `key:` opens a level for its value, at the key's column.
                    self.levels.push(start);
                    if self.depth() > self.limit {
                        return Some(start);
                    }
                    let rest = std::str::from_utf8(&bytes[p + 1..]).unwrap_or("").trim_start();
                    let rest =
                        rest.trim_start_matches(|ch: char| ch != ' ' && (rest.starts_with('&') || rest.starts_with('!'))).trim_start();
                    if rest.starts_with('|') || rest.starts_with('>') {
                        self.block_scalar = Some(start);
                        return None;
                    }
                    value_start = true;
                    p += 1;
                    continue;
                }
                b' ' | b'\t' => {
                    p += 1;
                    continue;
                }
                _ => {}
            }
            if self.flow == 0 && !matches!(c, b'[' | b'{' | b'"' | b'\'') {
                value_start = false;
            }
            p += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_workflows_pass() {
        let yaml = "name: x\nnodes:\n  - name: a\n    uses: llm.call\n    with:\n      prompt: \"Say {{ state.x }} [now]\"\n      messages: [{role: user, content: 'hi [there]'}]\n      system: |\n        [[[[[[[[ not nesting\n    output: a.b.c\nedges: []\n";
        assert_eq!(too_deep_at(yaml, 8), None);
    }

    #[test]
    fn deep_flow_block_and_dash_nesting_are_found() {
        let flow = format!("a: {}1{}", "[".repeat(70), "]".repeat(70));
        assert_eq!(too_deep_at(&flow, 64).map(|p| p.line), Some(1));
        let mut block = String::new();
        for i in 0..70 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert_eq!(too_deep_at(&block, 64).map(|p| p.line), Some(65));
        let dashes = format!("{}x\n", "- ".repeat(70));
        assert_eq!(too_deep_at(&dashes, 64).map(|p| p.line), Some(1));
        let multiline = format!("a: {}\n{}\n", "{k: ".repeat(40), "[".repeat(40));
        assert_eq!(too_deep_at(&multiline, 64).map(|p| p.line), Some(2));
    }

    #[test]
    fn brackets_inside_quotes_and_plain_scalars_do_not_count() {
        let yaml = format!("a: \"{}\"\nb: text {}\n", "[".repeat(100), "{".repeat(100));
        assert_eq!(too_deep_at(&yaml, 8), None);
    }
}
