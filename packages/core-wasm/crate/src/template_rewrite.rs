//! Where Jinja2's grammar and minijinja's differ, the template source is rewritten before
//! minijinja compiles it, so that it means what it means in Jinja2:
//!
//! - `a % b` is Python's: `'%05d' % n` and `'%s-%s' % (a, b)` format text, and numbers take the
//!   floor modulo. minijinja has only the numeric one; it becomes the `__py_mod` filter.
//! - `-x | f` (and `-x is t`) applies the filter to `-x`, as Jinja2's parser does; minijinja reads
//!   `-(x | f)`. It becomes `(-x) | f`.
//! - `a // b` is Python's floor division (minijinja's is Euclid's: `-7 // -2` is 4, not 3);
//!   `a / b` and `a * b` are Python's (a division by zero is an error, `'ab' * -1` is `''`).
//! - `x[a:b:c]` is Python's slicing; `a < b`, `a in b` and chains (`a < b < c`) are Python's
//!   comparisons (unlike values are an error, not an order).
//! - `a if b` without `else`, when false, prints nothing (and is None as a value).
//! - `a ~ b` joins Python's `str()` of each side (`True`, `None`, `2.0`); minijinja's prints its
//!   own way. It becomes `(a) | string ~ (b) | string`.
//!
//! The parser follows Jinja2's (jinja2/parser.py) precedence; anything it does not understand is
//! copied unchanged, so minijinja still reports the syntax errors.

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tok<'a> {
    Name(&'a str),
    Str,
    Num,
    Op(&'a str),
}

/// Tokens with their byte spans; `None` when the text cannot be tokenized (left to minijinja).
fn tokenize(src: &str) -> Option<Vec<(Tok<'_>, usize, usize)>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            if i >= b.len() {
                return None;
            }
            i += 1;
            out.push((Tok::Str, start, i));
            continue;
        }
        if c.is_ascii_digit() {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
            {
                if (b[i] == b'e' || b[i] == b'E') && matches!(b.get(i + 1), Some(b'+' | b'-')) {
                    i += 1;
                }
                i += 1;
            }
            out.push((Tok::Num, start, i));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            out.push((Tok::Name(&src[start..i]), start, i));
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let len = if matches!(two, "//" | "**" | "==" | "!=" | "<=" | ">=") { 2 } else { 1 };
        if !"+-*/%~<>=.,:|()[]{}!".as_bytes().contains(&c) {
            return None;
        }
        i += len;
        out.push((Tok::Op(&src[start..i]), start, i));
    }
    Some(out)
}

/// An expression tree over the source: a node is its span, plus what it is when that matters.
enum Node {
    /// Copied as written (but its bracketed parts rewritten).
    Text(usize, usize, Vec<(usize, usize, String)>),
    /// `-x`, `+x` or (`true`) `not x`, at its operator.
    Unary(usize, bool, Box<Node>),
    Bin(Box<Node>, String, Box<Node>),
    /// `a % (x, y)`: the tuple's items, and where its `)` ends.
    ModTuple(Box<Node>, Vec<Node>, usize),
    /// Filters and tests after an operand: the operand, then the text of each (rewritten).
    Suffix(Box<Node>, usize, usize, Vec<(usize, usize, String)>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// `x[a:b:c]`.
    Slice(Box<Node>, Box<[Option<Node>; 3]>, usize),
    /// `a < b`, `a in b`, chains `a < b <= c`: Python's comparisons.
    Compare(Box<Node>, Vec<(String, Node)>),
}

struct Parser<'a, 't> {
    src: &'a str,
    toks: &'t [(Tok<'a>, usize, usize)],
    pos: usize,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).map(|t| t.0)
    }

    fn is_op(&self, op: &str) -> bool {
        self.peek() == Some(Tok::Op(op))
    }

    fn is_name(&self, n: &str) -> bool {
        self.peek() == Some(Tok::Name(n))
    }

    fn start(&self) -> usize {
        self.toks.get(self.pos).map_or(self.src.len(), |t| t.1)
    }

    fn end_of_prev(&self) -> usize {
        self.toks[self.pos - 1].2
    }

    /// Jinja2's `parse_condexpr`: `a if b if c else d` is `(a if b) if c else d`.
    fn expression(&mut self) -> Option<Node> {
        let mut a = self.or()?;
        while self.is_name("if") {
            self.pos += 1;
            let cond = self.or()?;
            let other = if self.is_name("else") {
                self.pos += 1;
                Some(Box::new(self.expression()?))
            } else {
                None
            };
            a = Node::Cond(Box::new(a), Box::new(cond), other);
        }
        Some(a)
    }

    fn binary(&mut self, ops: &[&str], next: fn(&mut Self) -> Option<Node>) -> Option<Node> {
        let mut left = next(self)?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(o) | Tok::Name(o)) if ops.contains(&o) => o.to_string(),
                _ => break,
            };
            self.pos += 1;
            if op == "%" && self.is_op("(") {
                let save = self.pos;
                if let Some(items) = self.tuple_items() {
                    left = Node::ModTuple(Box::new(left), items, self.end_of_prev());
                    continue;
                }
                self.pos = save;
            }
            let right = next(self)?;
            left = Node::Bin(Box::new(left), op, Box::new(right));
        }
        Some(left)
    }

    /// `( a, b )` with a comma at the top level (a tuple), as the items; else None.
    fn tuple_items(&mut self) -> Option<Vec<Node>> {
        let save = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        let mut comma = false;
        while !self.is_op(")") {
            items.push(self.expression()?);
            if self.is_op(",") {
                comma = true;
                self.pos += 1;
            } else if !self.is_op(")") {
                self.pos = save;
                return None;
            }
        }
        self.pos += 1;
        // A postfix or filter after the group means it was an operand, not the tuple itself.
        if !comma || matches!(self.peek(), Some(Tok::Op("." | "[" | "(" | "|" | "**"))) || self.is_name("is") {
            self.pos = save;
            return None;
        }
        Some(items)
    }

    fn or(&mut self) -> Option<Node> {
        self.binary(&["or"], Self::and)
    }

    fn and(&mut self) -> Option<Node> {
        self.binary(&["and"], Self::not)
    }

    fn not(&mut self) -> Option<Node> {
        if self.is_name("not") {
            let at = self.start();
            self.pos += 1;
            return Some(Node::Unary(at, true, Box::new(self.not()?)));
        }
        let first = self.math1()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::Op(o @ ("==" | "!=" | "<" | ">" | "<=" | ">="))) => o.to_string(),
                Some(Tok::Name("in")) => "in".to_string(),
                Some(Tok::Name("not")) if self.toks.get(self.pos + 1).map(|t| t.0) == Some(Tok::Name("in")) => {
                    self.pos += 1;
                    "not in".to_string()
                }
                _ => break,
            };
            self.pos += 1;
            rest.push((op, self.math1()?));
        }
        Some(if rest.is_empty() { first } else { Node::Compare(Box::new(first), rest) })
    }

    fn math1(&mut self) -> Option<Node> {
        self.binary(&["+", "-"], Self::concat)
    }

    fn concat(&mut self) -> Option<Node> {
        self.binary(&["~"], Self::math2)
    }

    fn math2(&mut self) -> Option<Node> {
        self.binary(&["*", "/", "//", "%"], Self::pow)
    }

    fn pow(&mut self) -> Option<Node> {
        self.binary(&["**"], |p| p.unary(true))
    }

    fn unary(&mut self, with_filter: bool) -> Option<Node> {
        let node = if self.is_op("-") || self.is_op("+") {
            let at = self.start();
            self.pos += 1;
            let literal =
                self.peek() == Some(Tok::Num) && !matches!(self.toks.get(self.pos + 1).map(|t| t.0), Some(Tok::Op("." | "[" | "(")));
            let operand = self.unary(false)?;
            if literal {
                // `-1`: a number, the same in both.
                Node::Text(at, span(&operand).1, Vec::new())
            } else {
                Node::Unary(at, false, Box::new(operand))
            }
        } else {
            self.primary()?
        };
        if !with_filter {
            return Some(node);
        }
        let from = self.start();
        let first = self.pos;
        let mut parts = Vec::new();
        while self.is_op("|") || self.is_name("is") {
            let test = self.is_name("is");
            self.pos += 1;
            if test && self.is_name("not") {
                self.pos += 1;
            }
            match self.peek() {
                Some(Tok::Name(_)) => self.pos += 1,
                _ => return None,
            }
            while self.is_op(".") && matches!(self.toks.get(self.pos + 1).map(|t| t.0), Some(Tok::Name(_))) {
                self.pos += 2;
            }
            let bare_arg = match self.peek() {
                Some(Tok::Name(n)) => !matches!(n, "else" | "or" | "and" | "if" | "not" | "in" | "is"),
                Some(Tok::Str | Tok::Num | Tok::Op("[" | "{")) => true,
                _ => false,
            };
            if self.is_op("(") {
                parts.extend(self.group()?);
            } else if test && bare_arg {
                let arg = self.unary(false)?;
                if needs_rewrite(&arg) {
                    let s = span(&arg);
                    parts.push((s.0, s.1, emit(self.src, &arg)));
                }
            }
        }
        if self.pos == first {
            return Some(node);
        }
        let to = self.end_of_prev();
        Some(Node::Suffix(Box::new(node), from, to, parts))
    }

    /// A bracketed group from `(`, `[` or `{` to its match: the rewritten inner expressions.
    fn group(&mut self) -> Option<Vec<(usize, usize, String)>> {
        let close = match self.peek()? {
            Tok::Op("(") => ")",
            Tok::Op("[") => "]",
            Tok::Op("{") => "}",
            _ => return None,
        };
        self.pos += 1;
        let mut parts = Vec::new();
        while !self.is_op(close) {
            match self.peek()? {
                Tok::Op("," | ":" | "=") => self.pos += 1,
                _ => {
                    let e = self.expression()?;
                    if needs_rewrite(&e) {
                        let s = span(&e);
                        parts.push((s.0, s.1, emit(self.src, &e)));
                    }
                }
            }
        }
        self.pos += 1;
        Some(parts)
    }

    fn primary(&mut self) -> Option<Node> {
        let from = self.start();
        let mut parts = Vec::new();
        match self.peek()? {
            Tok::Name(n) if !matches!(n, "if" | "else" | "and" | "or" | "not" | "in" | "is") => self.pos += 1,
            Tok::Str => {
                while self.peek() == Some(Tok::Str) {
                    self.pos += 1;
                }
            }
            Tok::Num => self.pos += 1,
            Tok::Op("(" | "[" | "{") => parts.extend(self.group()?),
            _ => return None,
        }
        let mut node: Option<Node> = None;
        let mut seg = from;
        loop {
            if self.is_op(".") {
                self.pos += 1;
                match self.peek() {
                    Some(Tok::Name(_) | Tok::Num) => self.pos += 1,
                    _ => return None,
                }
            } else if self.is_op("[") {
                let open = self.pos;
                if let Some(bounds) = self.slice() {
                    // `x[a:b:c]`: Python's slicing (minijinja's panics on an empty string reversed).
                    let base = match node.take() {
                        None => Node::Text(from, self.toks[open - 1].2, std::mem::take(&mut parts)),
                        Some(n) => Node::Suffix(Box::new(n), seg, self.toks[open - 1].2, std::mem::take(&mut parts)),
                    };
                    node = Some(Node::Slice(Box::new(base), Box::new(bounds), self.end_of_prev()));
                    seg = self.start();
                } else {
                    self.pos = open;
                    parts.extend(self.group()?);
                }
            } else if self.is_op("(") {
                parts.extend(self.group()?);
            } else {
                break;
            }
        }
        let end = self.end_of_prev();
        Some(match node {
            None => Node::Text(from, end, parts),
            Some(n) if seg >= end => n,
            Some(n) => Node::Suffix(Box::new(n), seg, end, parts),
        })
    }

    /// `[a:b:c]` (any part optional) as its three bounds; None when the subscript is no slice.
    fn slice(&mut self) -> Option<[Option<Node>; 3]> {
        self.pos += 1;
        let mut bounds: [Option<Node>; 3] = [None, None, None];
        let mut i = 0;
        loop {
            if self.is_op("]") {
                self.pos += 1;
                return (i > 0).then_some(bounds);
            }
            if self.is_op(":") {
                i += 1;
                if i > 2 {
                    return None;
                }
                self.pos += 1;
                continue;
            }
            if bounds[i].is_some() {
                return None;
            }
            bounds[i] = Some(self.expression()?);
        }
    }
}

fn span(n: &Node) -> (usize, usize) {
    match n {
        Node::Text(a, b, _) => (*a, *b),
        Node::Unary(a, _, e) => (*a, span(e).1),
        Node::Bin(l, _, r) => (span(l).0, span(r).1),
        Node::ModTuple(l, _, end) => (span(l).0, *end),
        Node::Suffix(e, _, to, _) => (span(e).0, *to),
        Node::Cond(a, b, c) => (span(a).0, c.as_ref().map_or(span(b).1, |c| span(c).1)),
        Node::Compare(a, rest) => (span(a).0, rest.last().map_or(span(a).1, |r| span(&r.1).1)),
        Node::Slice(base, _, end) => (span(base).0, *end),
    }
}

/// Copies `src[from..to]` with the given sub-spans (the rewritten parts) replaced.
fn splice(src: &str, from: usize, to: usize, parts: &[(usize, usize, String)]) -> String {
    let mut out = String::new();
    let mut at = from;
    for (a, b, text) in parts {
        out.push_str(&src[at..*a]);
        out.push_str(text);
        at = *b;
    }
    out.push_str(&src[at..to]);
    out
}

fn needs_rewrite(n: &Node) -> bool {
    match n {
        // A bracketed part that was rewritten.
        Node::Text(_, _, parts) => !parts.is_empty(),
        // minijinja reads `-x.y` as `(-x).y`; Jinja2 as `-(x.y)`.
        Node::Unary(_, not, e) => !not || needs_rewrite(e),
        // Every arithmetic operator has Python's meaning here (minijinja's differ at the edges).
        Node::Bin(l, op, r) => !(op == "and" || op == "or") || needs_rewrite(l) || needs_rewrite(r) || is_literal_pair(l, r),
        Node::ModTuple(..) | Node::Slice(..) => true,
        Node::Suffix(e, _, _, parts) => matches!(**e, Node::Unary(..)) || needs_rewrite(e) || !parts.is_empty(),
        Node::Cond(a, b, c) => c.is_none() || needs_rewrite(a) || needs_rewrite(b) || c.as_deref().is_some_and(needs_rewrite),
        Node::Compare(..) => true,
    }
}

fn emit(src: &str, n: &Node) -> String {
    if !needs_rewrite(n) {
        return match n {
            Node::Text(a, b, parts) => splice(src, *a, *b, parts),
            Node::Suffix(e, from, to, parts) => format!("{}{}{}", emit(src, e), &src[span(e).1..*from], splice(src, *from, *to, parts)),
            _ => {
                let (a, b) = span(n);
                src[a..b].to_string()
            }
        };
    }
    match n {
        Node::Unary(_, true, e) => format!("not ({})", emit(src, e)),
        Node::Unary(at, false, e) => {
            let filter = if src[*at..].starts_with('-') { "__py_neg" } else { "__py_pos" };
            format!("(({}) | {filter})", emit(src, e))
        }
        // `and` / `or` keep minijinja's meaning (the same as Jinja2's, but for the folding of two
        // literals); their operands are rewritten where needed.
        // minijinja folds `and` / `or` of two literals to a bool; Python gives an operand.
        Node::Bin(l, op, r) if (op == "and" || op == "or") && is_literal(src, l) && is_literal(src, r) => {
            let (l, r) = (emit(src, l), emit(src, r));
            if op == "and" {
                format!("(({r}) if ({l}) else ({l}))")
            } else {
                format!("(({l}) if ({l}) else ({r}))")
            }
        }
        Node::Bin(l, op, r) if op == "and" || op == "or" => format!("{} {op} {}", emit(src, l), emit(src, r)),
        Node::Bin(..) => format!("({})", chain(src, n)),
        Node::ModTuple(..) => format!("({})", chain(src, n)),
        Node::Suffix(e, from, to, parts) => format!("({}) {}", emit(src, e), splice(src, *from, *to, parts)),
        Node::Slice(base, bounds, _) => {
            let b: Vec<String> = bounds.iter().map(|b| b.as_ref().map_or("none".into(), |b| emit(src, b))).collect();
            format!("(({}) | __py_slice({}))", emit(src, base), b.join(", "))
        }
        Node::Compare(a, rest) => {
            let mut left = emit(src, a);
            let mut parts = Vec::new();
            for (op, right) in rest {
                let r = emit(src, right);
                parts.push(match op.as_str() {
                    "in" | "not in" => format!("(({left}) | __py_in({r}, {}))", op == "not in"),
                    _ => format!("(({left}) | __py_cmp('{op}', {r}))"),
                });
                left = r;
            }
            format!("({})", parts.join(" and "))
        }
        Node::Cond(a, b, c) => match c {
            Some(c) => format!("({}) if ({}) else ({})", emit(src, a), emit(src, b), emit(src, c)),
            None => format!("({}) if ({}) else __tea_no_else", emit(src, a), emit(src, b)),
        },
        Node::Text(a, b, parts) => splice(src, *a, *b, parts),
    }
}

/// Whether a node is a literal (numbers, strings, `true` / `false` / `none`, brackets of them).
fn is_literal(src: &str, n: &Node) -> bool {
    let (a, b) = span(n);
    matches!(n, Node::Text(..))
        && tokenize(&src[a..b]).is_some_and(|t| {
            t.iter().all(|t| !matches!(t.0, Tok::Name(n) if !matches!(n, "true" | "false" | "none" | "True" | "False" | "None")))
        })
}

/// `is_literal` of two nodes, without the source (their spans hold only literal tokens when
/// their text does): checked again with the source when emitted.
fn is_literal_pair(l: &Node, r: &Node) -> bool {
    matches!((l, r), (Node::Text(_, _, lp), Node::Text(_, _, rp)) if lp.is_empty() && rp.is_empty())
}

/// A left-nested run of arithmetic operators as one flat filter chain, `(a) | __py_add(b) |
/// __py_mul(c)`: no nesting, so a long chain parses without deep recursion.
fn chain(src: &str, n: &Node) -> String {
    let (l, call) = match n {
        Node::Bin(l, op, r) => {
            let f = match op.as_str() {
                "+" => "__py_add",
                "-" => "__py_sub",
                "*" => "__py_mul",
                "/" => "__py_div",
                "//" => "__py_floordiv",
                "%" => "__py_mod",
                "**" => "__py_pow",
                _ => "__py_cat",
            };
            (l, format!("{f}({})", emit(src, r)))
        }
        Node::ModTuple(l, items, _) => {
            (l, format!("__py_mod_tuple({})", items.iter().map(|i| emit(src, i)).collect::<Vec<_>>().join(", ")))
        }
        _ => return format!("({})", emit(src, n)),
    };
    let left = match &**l {
        Node::Bin(_, op, _) if op != "and" && op != "or" => chain(src, l),
        Node::ModTuple(..) => chain(src, l),
        other => format!("({})", emit(src, other)),
    };
    format!("{left} | {call}")
}

/// Rewrites one expression (a `{{ }}` body, a condition); unchanged when it is not one whole
/// expression this parser understands (minijinja then reports or reads it).
pub fn rewrite_expression(src: &str) -> String {
    let Some(toks) = tokenize(src) else { return src.to_string() };
    if toks.is_empty()
        || !toks.iter().any(|t| {
            matches!(
                t.0,
                Tok::Op("%" | "//" | "/" | "*" | "**" | "~" | "-" | "+" | "<" | ">" | "<=" | ">=" | "==" | "!=" | ":")
                    | Tok::Name("in" | "is" | "if" | "and" | "or")
            )
        })
    {
        return src.to_string();
    }
    let mut p = Parser { src, toks: &toks, pos: 0 };
    match p.expression() {
        Some(n) if p.pos == toks.len() && needs_rewrite(&n) => {
            let (a, b) = span(&n);
            format!("{}{}{}", &src[..a], emit(src, &n), &src[b..])
        }
        _ => src.to_string(),
    }
}

/// Rewrites the expressions of a `{% %}` statement: `if` / `elif` conditions, `set x = ...`,
/// `for ... in ...`; other statements are left as written.
fn rewrite_statement(src: &str) -> String {
    let t = src.trim_start();
    let lead = &src[..src.len() - t.len()];
    let keyword = t.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
    match keyword {
        "if" | "elif" => format!("{lead}{keyword}{}", rewrite_expression(&t[keyword.len()..])),
        "for" => rewrite_for(src).unwrap_or_else(|| src.to_string()),
        "set" => match find_assign(t) {
            Some(i) => format!("{lead}{}{}", &t[..=i], rewrite_expression(&t[i + 1..])),
            None => src.to_string(),
        },
        _ => src.to_string(),
    }
}

/// The `=` of `set target = value` (not one inside a string or brackets, not `==`).
fn find_assign(s: &str) -> Option<usize> {
    let toks = tokenize(s)?;
    toks.iter().find(|t| t.0 == Tok::Op("=")).map(|t| t.1)
}

pub fn rewrite_template(src: &str) -> String {
    if !src.contains(['%', '~', '-', '+', '<', '>', '=', ':', '/', '*'])
        && [" in ", " is ", " if ", " and ", " or "].iter().all(|w| !src.contains(w))
    {
        return src.to_string();
    }
    let mut out = String::with_capacity(src.len());
    let mut at = 0;
    for (from, to, statement) in tag_bodies(src) {
        out.push_str(&src[at..from]);
        let body = &src[from..to];
        let lead = body.len() - body.trim_start_matches(['-', '+']).len();
        let trail = body.len() - body.trim_end_matches(['-', '+']).len();
        let inner = &body[lead..body.len() - trail];
        out.push_str(&body[..lead]);
        out.push_str(&if statement { rewrite_statement(inner) } else { rewrite_expression(inner) });
        out.push_str(&body[body.len() - trail..]);
        at = to;
    }
    out.push_str(&src[at..]);
    out
}

/// The byte spans of the bodies of a template's `{{ }}` and (`true`) `{% %}` tags, whitespace
/// markers included; not comments or what `{% raw %}` holds.
pub fn tag_bodies(src: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = src[at..].find('{').map(|i| i + at) {
        let close = match src.as_bytes().get(i + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                at = i + 1;
                continue;
            }
        };
        let from = i + 2;
        let Some(end) = find_close(&src[from..], close).map(|e| e + from) else { break };
        let body = &src[from..end];
        at = end + 2;
        if close == "#}" {
            continue;
        }
        if close == "%}" && body.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace()) == "raw" {
            at = src[at..].find("endraw").map_or(src.len(), |j| j + at);
            continue;
        }
        out.push((from, end, close == "%}"));
    }
    out
}

/// Where a template names a filter or test that Jinja2 has not, or calls one with more
/// arguments or other keywords than Jinja2's takes: the message (checked when a workflow loads,
/// as Jinja2 does when it compiles; minijinja would only fail when the node runs).
pub fn check_names(src: &str, whole_expression: bool) -> Option<String> {
    let bodies = if whole_expression { vec![(0, src.len(), false)] } else { tag_bodies(src) };
    for (from, to, statement) in bodies {
        let Some(toks) = tokenize(src[from..to].trim_matches(['-', '+'])) else { continue };
        let mut i = 0;
        while i < toks.len() {
            let kind = match toks[i].0 {
                Tok::Op("|") => "filter",
                Tok::Name("is") => "test",
                Tok::Name("filter") if statement && i == 0 => "filter",
                _ => {
                    i += 1;
                    continue;
                }
            };
            i += 1;
            if kind == "test" && toks.get(i).map(|t| t.0) == Some(Tok::Name("not")) {
                i += 1;
            }
            let Some(Tok::Name(name)) = toks.get(i).map(|t| t.0) else { continue };
            let Some(sig) = crate::jinja_filters::signature(kind, name) else {
                return Some(format!(
                    "there is no {kind} named `{name}` (Jinja2's {kind}s and {}; see core-wasm's README)",
                    if kind == "filter" { "fromjson, json, sha256" } else { "none more" }
                ));
            };
            i += 1;
            if toks.get(i).map(|t| t.0) != Some(Tok::Op("(")) {
                continue;
            }
            // Count the top-level arguments and collect keyword names.
            let (mut depth, mut positional, mut keywords, mut empty) = (0, 0, Vec::new(), true);
            let mut j = i + 1;
            while j < toks.len() {
                match toks[j].0 {
                    Tok::Op("(" | "[" | "{") => depth += 1,
                    Tok::Op(")") if depth == 0 => break,
                    Tok::Op(")" | "]" | "}") => depth -= 1,
                    Tok::Op(",") if depth == 0 => {
                        empty = true;
                        j += 1;
                        continue;
                    }
                    Tok::Name(k) if depth == 0 && empty && toks.get(j + 1).map(|t| t.0) == Some(Tok::Op("=")) => {
                        keywords.push(k);
                        empty = false;
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && empty {
                    positional += 1;
                }
                empty = false;
                j += 1;
            }
            if let Some(max) = sig.0 {
                if positional > max {
                    return Some(format!(
                        "the {kind} `{name}` takes at most {max} argument{} ({positional} given)",
                        if max == 1 { "" } else { "s" }
                    ));
                }
                if let Some(k) = keywords.iter().find(|k| !sig.1.contains(k)) {
                    return Some(format!(
                        "the {kind} `{name}` has no argument `{k}`{}",
                        if sig.1.is_empty() { String::new() } else { format!(" (it takes {})", sig.1.join(", ")) }
                    ));
                }
            }
            i = j;
        }
    }
    None
}

/// `for TARGET in ITER [if COND] [recursive]`: the iterable becomes `(ITER) | list`, so that
/// minijinja knows its length (`loop.length`, `loop.last`, `loop.revindex` over a string or a
/// dict, as in Jinja2), and its expressions are rewritten.
fn rewrite_for(body: &str) -> Option<String> {
    let toks = tokenize(body)?;
    if toks.first()?.0 != Tok::Name("for") {
        return None;
    }
    let in_at = toks.iter().position(|t| t.0 == Tok::Name("in"))?;
    let mut p = Parser { src: body, toks: &toks, pos: in_at + 1 };
    let iter = p.or()?;
    let (a, b) = span(&iter);
    let rest = &body[b..];
    // `if COND` filters the items; `recursive` may follow.
    let rest = match rest.trim_start().strip_prefix("if") {
        Some(cond) if cond.starts_with(char::is_whitespace) => {
            let (cond, tail) = match cond.rfind("recursive").filter(|i| cond[*i..].trim() == "recursive") {
                Some(i) => (&cond[..i], &cond[i..]),
                None => (cond, ""),
            };
            format!(" if{}{tail}", rewrite_expression(cond))
        }
        _ => rest.to_string(),
    };
    Some(format!("{}({}) | list{rest}", &body[..a], emit(body, &iter)))
}

/// Where `close` ends a tag body, skipping string literals.
fn find_close(body: &str, close: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut i = 0;
    let mut quote = None;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, c @ (b'\'' | b'"')) => quote = Some(c),
            (None, _) if body[i..].starts_with(close) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_what_jinja2_reads_differently() {
        for (from, to) in [
            ("'%05d' % n", "(('%05d') | __py_mod(n))"),
            ("'%s-%s' % (a, b)", "(('%s-%s') | __py_mod_tuple(a, b))"),
            ("'%s' % (a) | upper", "(('%s') | __py_mod((a) | upper))"),
            ("'%s' % (state.n,)", "(('%s') | __py_mod_tuple(state.n))"),
            ("x ~ 'a' % 1", "((x) | __py_cat((('a') | __py_mod(1))))"),
            ("'%d' % 2 ** 3", "(('%d') | __py_mod(((2) | __py_pow(3))))"),
            ("a + b * c - d", "((a) | __py_add(((b) | __py_mul(c))) | __py_sub(d))"),
            ("-x | string", "(((x) | __py_neg)) | string"),
            ("-state.n", "((state.n) | __py_neg)"),
            ("-1", "-1"),
            ("x is defined - 1", "((x is defined) | __py_sub(1))"),
            ("a and b or c", "a and b or c"),
            ("a if b", "(a) if (b) else __tea_no_else"),
            ("a if b if c else d", "((a) if (b) else __tea_no_else) if (c) else (d)"),
            ("a == b", "(((a) | __py_cmp('==', b)))"),
            ("''[::-1]", "(('') | __py_slice(none, none, -1))"),
            ("x.y[1:][0] | upper", "((((x.y) | __py_slice(1, none, none))) [0]) | upper"),
            ("1 < x <= 3", "(((1) | __py_cmp('<', x)) and ((x) | __py_cmp('<=', 3)))"),
            ("'a' not in s", "((('a') | __py_in(s, true)))"),
            ("a.b(c, d=1) | f(2) if x else y", "a.b(c, d=1) | f(2) if x else y"),
        ] {
            assert_eq!(rewrite_expression(from), to, "{from}");
        }
        assert_eq!(
            rewrite_template("{{ '%d' % n }}\n{% set x = 7 % 2 %}{# 1 % 2 #}{% raw %}{{ 1 % 2 }}{% endraw %}"),
            "{{ (('%d') | __py_mod(n)) }}\n{% set x = ((7) | __py_mod(2)) %}{# 1 % 2 #}{% raw %}{{ 1 % 2 }}{% endraw %}"
        );
        assert_eq!(rewrite_template("{%- if a -%}x{%- endif %}"), "{%- if a -%}x{%- endif %}");
        assert_eq!(
            rewrite_template("{% for k, v in d | dictsort if v recursive %}"),
            "{% for k, v in (d | dictsort) | list if v recursive %}"
        );
        assert_eq!(rewrite_template("{%- for x in '%d' % 3 -%}"), "{%- for x in ((('%d') | __py_mod(3))) | list -%}");
        // A long chain stays flat.
        let long = vec!["1"; 1000].join(" + ");
        assert_eq!(rewrite_expression(&long).matches('(').count(), 1000 + 1);
    }
}
