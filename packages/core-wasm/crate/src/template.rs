//! Jinja-style templates (minijinja) over `state` and `variables`, sandboxed: no file, network
//! or code access. A string that is exactly one `{{ expression }}` yields the typed value.

use crate::error::{Code, EngineError, Result};
use crate::json_view::JsonView;
use crate::limits::{check_depth, MAX_TEMPLATE_OPERATORS, MAX_TEMPLATE_OUTPUT, TEMPLATE_FUEL, TEMPLATE_RECURSION};
use crate::pyfmt;
use crate::template_rewrite::{check_names, rewrite_expression, rewrite_template};
use crate::{jinja_filters, py_methods};
use minijinja::value::{Kwargs, Value as JValue};
use minijinja::{Environment, Error as JError, ErrorKind, UndefinedBehavior};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Most distinct templates (and expressions) one workflow keeps compiled; past it they are
/// compiled on each use.
const CACHED_TEMPLATES: usize = 512;
/// The variable a cached expression's wrapper template sets.
const VALUE_VAR: &str = "__tea_value";

/// The template an expression is cached as: it sets a variable, whose value is read back.
fn expression_template(e: &str) -> String {
    format!("{{% set {VALUE_VAR} = ({}) %}}", rewrite_expression(e))
}

/// A configured template environment (filters, strict-ish undefined handling) and the
/// templates and expressions compiled in it, by source: a workflow renders the same strings
/// on every run and every loop.
pub struct Templates {
    env: RefCell<Environment<'static>>,
    templates: RefCell<HashMap<String, Rc<str>>>,
    expressions: RefCell<HashMap<String, Rc<str>>>,
    added: Cell<usize>,
}

/// `fromjson`: the parsed value, or (as upstream's `safe_fromjson`) the input when it is not JSON.
fn fromjson(value: JValue) -> JValue {
    match value.as_str().map(serde_json::from_str::<Value>) {
        Some(Ok(v)) => JValue::from_serialize(v),
        _ => value,
    }
}

/// `default(x)`, `default(x, true)` and Tera's `default(value=x)`. As Jinja2's: only an undefined
/// value (or, with `true`, a false one) is replaced; `None` (a missing state key) is defined.
fn default_filter(value: JValue, other: Option<JValue>, lax: Option<bool>, kwargs: Kwargs) -> std::result::Result<JValue, JError> {
    // Tera's keyword form (the upstream browser runtime's templates) also replaces None: in Tera a
    // missing key is undefined.
    let tera = other.is_none() && kwargs.has("value");
    let fallback = match other {
        Some(v) => v,
        None => kwargs.get::<Option<JValue>>("value")?.unwrap_or_else(|| JValue::from("")),
    };
    let lax = lax.unwrap_or(false) || kwargs.get::<Option<bool>>("boolean")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    Ok(if value.is_undefined() || (tera && value.is_none()) || (lax && !value.is_true()) { fallback } else { value })
}

impl Default for Templates {
    fn default() -> Self {
        let mut env = Environment::empty();
        // As upstream's StrictUndefined: printing, iterating, testing the truth of or walking into
        // an undefined value is an error; `is defined` and `default` see it. (Missing state keys
        // are None, not undefined.)
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Bounded: instructions per render, and nesting of calls (the wasm stack is finite).
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.set_recursion_limit(TEMPLATE_RECURSION);
        env.add_filter("fromjson", fromjson);
        env.add_filter("from_json", fromjson);
        env.add_filter("default", default_filter);
        env.add_filter("d", default_filter);
        // What upstream's Jinja2 environment prints and adds (see `pyfmt`).
        env.set_formatter(pyfmt::formatter);
        env.add_filter("json", pyfmt::json_filter);
        env.add_filter("tojson", pyfmt::tojson_filter);
        env.add_filter("sha256", pyfmt::sha256_filter);
        env.set_unknown_method_callback(py_methods::call_method);
        // Upstream's environment keeps a template's final newline (a `|` block scalar's).
        env.set_keep_trailing_newline(true);
        jinja_filters::register(&mut env);
        env.add_global("__tea_no_else", JValue::from_object(pyfmt::NoElse));
        Templates { env: RefCell::new(env), templates: RefCell::default(), expressions: RefCell::default(), added: Cell::new(0) }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Upstream's condition shorthand: `name` (a state key) or `!name`, as the name and whether it
/// is negated.
fn shorthand(condition: &str) -> Option<(&str, bool)> {
    let t = condition.trim();
    match t.strip_prefix('!').map(str::trim) {
        Some(name) if is_identifier(name) => Some((name, true)),
        Some(_) => None,
        None => is_identifier(t).then_some((t, false)),
    }
}

/// If `s` is exactly one `{{ expression }}`, the expression.
fn single_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    // `{{-` and `-}}` are whitespace control; `{{ -x }}` is a negation.
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    Some(inner.trim())
}

/// Where a `{{ }}` / `{% %}` block (or a bare expression, `whole`) holds more than
/// `MAX_TEMPLATE_OPERATORS` operators, outside string literals.
fn operator_overflow(source: &str, whole: bool) -> Option<usize> {
    let b = source.as_bytes();
    let mut inside = whole;
    let mut count = 0;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !inside {
            if c == b'{' && matches!(b.get(i + 1), Some(b'{' | b'%')) {
                inside = true;
                count = 0;
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            b'}' | b'%' if !whole && b.get(i + 1) == Some(&b'}') => {
                inside = false;
                i += 2;
                continue;
            }
            b'.' | b'|' | b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'=' | b'<' | b'>' | b'!' | b'(' | b'[' => count += 1,
            b'a'..=b'z' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if matches!(&source[start..i], "not" | "and" | "or" | "in" | "is" | "if" | "else") {
                    count += 1;
                }
                if count > MAX_TEMPLATE_OPERATORS {
                    return Some(start);
                }
                continue;
            }
            _ => {}
        }
        if count > MAX_TEMPLATE_OPERATORS {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn check_operators(what: &str, source: &str, whole: bool) -> Result<()> {
    match operator_overflow(source, whole) {
        None => Ok(()),
        Some(at) => Err(EngineError::new(
            Code::Template,
            format!("{what} has more than {MAX_TEMPLATE_OPERATORS} operators in one expression (near byte {at}); split it, or move the work into a registered action"),
        )),
    }
}

/// At most this many characters of a template's source in an error message.
const SOURCE_IN_MESSAGE: usize = 200;

fn template_error(what: &str, source: &str, e: JError) -> EngineError {
    let source = match source.char_indices().nth(SOURCE_IN_MESSAGE) {
        Some((i, _)) => format!("{}…", &source[..i]),
        None => source.to_string(),
    };
    if e.kind() == ErrorKind::OutOfFuel {
        return EngineError::new(
            Code::TemplateBudget,
            format!("{what} `{source}` ran out of its budget of {TEMPLATE_FUEL} template instructions (loops too large for a browser template; move the work into a registered action)"),
        );
    }
    if e.kind() == ErrorKind::WriteFailure {
        return EngineError::new(Code::TooLarge, format!("{what} `{source}` renders more than {MAX_TEMPLATE_OUTPUT} bytes"));
    }
    let mut detail = e.to_string();
    if let Some(d) = e.detail() {
        if !detail.contains(d) {
            detail = format!("{detail}: {d}");
        }
    }
    EngineError::new(Code::Template, format!("{what} `{source}` failed: {detail}"))
}

fn to_json(v: &JValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Collects rendered text, failing once it passes `MAX_TEMPLATE_OUTPUT` bytes.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_TEMPLATE_OUTPUT {
            return Err(std::io::Error::other("template output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What templates see: `state` (a view into the shared state), `variables` and `secrets` (the
/// run's globals), and after an action `result`. As upstream's `DotDict`, a missing top-level key
/// of each is `None`.
pub struct Scope {
    ctx: JValue,
}

impl Scope {
    /// A scope over `state`; `globals` as made once per run by [`Scope::globals`].
    pub fn new(state: Arc<Value>, globals: &JValue) -> Scope {
        Scope { ctx: minijinja::context! { state => JsonView::value(state), ..globals.clone() } }
    }

    /// `new`, with an action's `result`.
    pub fn with_result(state: Arc<Value>, globals: &JValue, result: Value) -> Scope {
        let result = JsonView::value(Arc::new(result));
        Scope { ctx: minijinja::context! { state => JsonView::value(state), result => result, ..globals.clone() } }
    }

    /// The run's globals (`variables`, `secrets`), converted once.
    pub fn globals(variables: &Map<String, Value>, secrets: &Map<String, Value>) -> JValue {
        minijinja::context! {
            variables => JsonView::value(Arc::new(Value::Object(variables.clone()))),
            secrets => JsonView::value(Arc::new(Value::Object(secrets.clone()))),
            // Upstream's `env` (the process environment): a browser has none, so every
            // `env.NAME` is None, as an unset variable is upstream.
            env => JsonView::value(Arc::new(Value::Object(Map::new()))),
        }
    }

    fn ctx(&self) -> JValue {
        self.ctx.clone()
    }

    /// Upstream's `${key}` (GitLab CI style) in rendered text: replaced by the variable `key`
    /// (exactly, spaces included) when there is one.
    fn dollar_braces(&self, text: String) -> String {
        if !text.contains("${") {
            return text;
        }
        let variables = self.ctx.get_attr("variables").unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            match after.find('}') {
                Some(j) if j > 0 => {
                    let key = &after[..j];
                    match variables.get_attr(key).ok().filter(|v| !v.is_undefined() && !v.is_none()) {
                        Some(v) => pyfmt::py_str(&v, true, &mut out),
                        None => out.push_str(&rest[i..i + 3 + j]),
                    }
                    rest = &after[j + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

impl Templates {
    /// Compiles `s` (as a typed `{{ expression }}`, a template, or, with `as_condition`, a bare
    /// condition) into this environment's cache without rendering it: validation reports the
    /// errors before a run, and the run then finds every template compiled.
    pub fn check_syntax(&self, s: &str, as_condition: bool) -> Result<()> {
        if as_condition && shorthand(s).is_some() {
            return Ok(());
        }
        let expression = as_condition || single_expression(s).is_some();
        let source = if expression { single_expression(s).unwrap_or(s.trim()) } else { s };
        if let Some(problem) = check_names(source, expression) {
            // Known when the workflow loads: a VALIDATION problem (with the YAML position).
            let what = if expression { "expression" } else { "template" };
            return Err(EngineError::new(
                Code::Validation,
                format!("{what} `{}`: {problem}", source.chars().take(SOURCE_IN_MESSAGE).collect::<String>()),
            ));
        }
        if as_condition || single_expression(s).is_some() {
            let what = if as_condition { "condition" } else { "expression" };
            let e = single_expression(s).unwrap_or(s.trim());
            check_operators(what, e, true)?;
            if self.compiled(&self.expressions, e, || expression_template(e)).is_some() {
                return Ok(());
            }
            return self.env.borrow().compile_expression(&rewrite_expression(e)).map(drop).map_err(|err| template_error(what, e, err));
        }
        if !s.contains("{{") && !s.contains("{%") && !s.contains("{#") {
            return Ok(());
        }
        check_operators("template", s, false)?;
        if self.compiled(&self.templates, s, || rewrite_template(s)).is_some() {
            return Ok(());
        }
        self.env.borrow().template_from_str(&rewrite_template(s)).map(drop).map_err(|err| template_error("template", s, err))
    }

    /// A one-off scope (for callers that hold a plain state).
    fn scope(state: &Value, variables: &Map<String, Value>) -> Scope {
        Scope::new(Arc::new(state.clone()), &Scope::globals(variables, &Map::new()))
    }

    /// The name under which `source` is compiled in the environment (compiling it the first
    /// time), or `None` when the cache is full or the source does not compile (the caller then
    /// compiles it directly, which reports the error in the caller's terms).
    fn compiled(&self, cache: &RefCell<HashMap<String, Rc<str>>>, key: &str, source: impl FnOnce() -> String) -> Option<Rc<str>> {
        if let Some(name) = cache.borrow().get(key) {
            return Some(name.clone());
        }
        if cache.borrow().len() >= CACHED_TEMPLATES {
            return None;
        }
        let n = self.added.get();
        self.added.set(n + 1);
        let name: Rc<str> = format!("#{n}").into();
        self.env.borrow_mut().add_template_owned(name.to_string(), source()).ok()?;
        cache.borrow_mut().insert(key.to_string(), name.clone());
        Some(name)
    }

    fn eval_raw(&self, e: &str, ctx: JValue) -> std::result::Result<JValue, JError> {
        match self.compiled(&self.expressions, e, || expression_template(e)) {
            Some(name) => {
                let env = self.env.borrow();
                let template = env.get_template(&name)?;
                let captured = template.render_captured(ctx)?;
                Ok(captured.state().lookup(VALUE_VAR).unwrap_or(JValue::UNDEFINED))
            }
            None => self.env.borrow().compile_expression(&rewrite_expression(e))?.eval(ctx),
        }
    }

    /// Evaluates an expression (`state.n + 1`; a `{{ }}` wrapper is allowed) to a JSON value.
    pub fn eval_in(&self, expr: &str, scope: &Scope) -> Result<Value> {
        let e = single_expression(expr).unwrap_or(expr.trim());
        check_operators("expression", e, true)?;
        if !self.expressions.borrow().contains_key(e) {
            if let Some(problem) = check_names(e, true) {
                return Err(EngineError::new(
                    Code::Template,
                    format!("expression `{}`: {problem}", e.chars().take(SOURCE_IN_MESSAGE).collect::<String>()),
                ));
            }
        }
        let value = self.eval_raw(e, scope.ctx()).map_err(|err| template_error("expression", e, err))?;
        // As upstream (Jinja2's compile_expression): an undefined result is None.
        let none = value.is_undefined() || value.downcast_object_ref::<pyfmt::NoElse>().is_some();
        let json = if none { Value::Null } else { to_json(&value) };
        check_depth(&json, &format!("the value of `{e}`"))?;
        if let Value::String(s) = &json {
            if s.len() > MAX_TEMPLATE_OUTPUT {
                return Err(EngineError::new(
                    Code::TooLarge,
                    format!("expression `{e}` gives a string of {} bytes, over the limit of {MAX_TEMPLATE_OUTPUT}", s.len()),
                ));
            }
        }
        Ok(json)
    }

    /// Evaluates a condition to true/false. A condition that fails to evaluate is an error.
    pub fn condition(&self, expr: &str, state: &Value, variables: &Map<String, Value>) -> Result<bool> {
        self.condition_in(expr, &Self::scope(state, variables))
    }

    /// `condition` in a scope, as upstream's `evaluate_condition`: `True` / `False`, `!name`
    /// (not `state.name`) and a bare `name` (`state.name`) besides expressions.
    pub fn condition_in(&self, expr: &str, scope: &Scope) -> Result<bool> {
        let t = expr.trim();
        match t {
            "True" => return Ok(true),
            "False" => return Ok(false),
            _ => {}
        }
        if let Some((name, negated)) = shorthand(t) {
            let state = scope.ctx.get_attr("state").unwrap_or_default();
            let value = state.get_attr(name).unwrap_or_default();
            return Ok(value.is_true() != negated);
        }
        let e = single_expression(expr).unwrap_or(expr.trim());
        check_operators("condition", e, true)?;
        let value = self.eval_raw(e, scope.ctx()).map_err(|err| template_error("condition", e, err))?;
        // An undefined value is false, as Jinja2's `bool(Undefined)`.
        Ok(value.is_true())
    }

    /// A `goto` rule's `if:`, as upstream's `_evaluate_goto_condition`: the expression is printed
    /// as text, and `""`, `false`, `0`, `no` and `none` (any case) are false, anything else true
    /// (so an empty list, printed `[]`, is true). An error is returned for the caller to report;
    /// upstream counts it as false.
    pub fn goto_condition_in(&self, expr: &str, scope: &Scope) -> Result<bool> {
        let t = expr.trim();
        let source = if t.starts_with("{{") || t.starts_with("{%") { t.to_string() } else { format!("{{{{ {t} }}}}") };
        let text = match self.render_text(&source, scope)? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let lower = text.trim().to_lowercase();
        Ok(!matches!(lower.as_str(), "" | "false" | "0" | "no" | "none"))
    }

    /// Renders a string: one `{{ expr }}` gives its typed value; anything else renders to text.
    pub fn render_str(&self, s: &str, state: &Value, variables: &Map<String, Value>) -> Result<Value> {
        self.render_str_in(s, &Self::scope(state, variables))
    }

    /// `render_str` in a scope.
    pub fn render_str_in(&self, s: &str, scope: &Scope) -> Result<Value> {
        // As upstream: text without `{{`, `{%` or `${` is kept as written (a `{# #}` too).
        if !s.contains("{{") && !s.contains("{%") {
            if !s.contains("${") {
                return Ok(Value::String(s.to_string()));
            }
            if !s.contains("{#") {
                return Ok(Value::String(scope.dollar_braces(s.to_string())));
            }
        }
        if let Some(expr) = single_expression(s) {
            return self.eval_in(expr, scope);
        }
        self.render_text(s, scope)
    }

    /// Renders `s` as text (never as a typed single expression).
    fn render_text(&self, s: &str, scope: &Scope) -> Result<Value> {
        check_operators("template", s, false)?;
        if !self.templates.borrow().contains_key(s) {
            if let Some(problem) = check_names(s, false) {
                return Err(EngineError::new(
                    Code::Template,
                    format!("template `{}`: {problem}", s.chars().take(SOURCE_IN_MESSAGE).collect::<String>()),
                ));
            }
        }
        let mut out = Capped(Vec::new());
        let ctx = scope.ctx();
        let cached = self.compiled(&self.templates, s, || rewrite_template(s));
        let env = self.env.borrow();
        let rendered = match cached {
            Some(name) => env.get_template(&name).and_then(|t| t.render_captured_to(ctx, &mut out).map(drop)),
            None => {
                let source = rewrite_template(s);
                env.template_from_str(&source).and_then(|t| t.render_captured_to(ctx, &mut out).map(drop))
            }
        };
        rendered.map_err(|err| template_error("template", s, err))?;
        let text = String::from_utf8(out.0).map_err(|_| EngineError::new(Code::Template, "template rendered invalid UTF-8"))?;
        Ok(Value::String(scope.dollar_braces(text)))
    }

    /// Renders every string inside a JSON structure (maps, lists, nested).
    pub fn render_value(&self, v: &Value, state: &Value, variables: &Map<String, Value>) -> Result<Value> {
        self.render_value_in(v, &Self::scope(state, variables))
    }

    /// `render_value` in a scope.
    pub fn render_value_in(&self, v: &Value, scope: &Scope) -> Result<Value> {
        Ok(match v {
            Value::String(s) => self.render_str_in(s, scope)?,
            Value::Array(items) => Value::Array(items.iter().map(|i| self.render_value_in(i, scope)).collect::<Result<_>>()?),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, val) in m {
                    out.insert(k.clone(), self.render_value_in(val, scope)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t() -> Templates {
        Templates::default()
    }

    #[test]
    fn single_expressions_are_typed() {
        let state = json!({ "counter": 2, "items": [1, 2, 3], "flag": true });
        let vars = Map::new();
        assert_eq!(t().render_str("{{ state.counter + 1 }}", &state, &vars).unwrap(), json!(3));
        assert_eq!(t().render_str("{{ state.items }}", &state, &vars).unwrap(), json!([1, 2, 3]));
        assert_eq!(t().render_str("{{ not state.flag }}", &state, &vars).unwrap(), json!(false));
        assert_eq!(t().render_str("n={{ state.counter }}", &state, &vars).unwrap(), json!("n=2"));
    }

    #[test]
    fn filters_work_including_tera_keyword_default() {
        let state = json!({ "name": " Ada ", "words": ["a", "b"], "raw": "{\"k\": 1}", "x": 2.567 });
        let vars = Map::new();
        let r = |s: &str| t().render_str(s, &state, &vars).unwrap();
        assert_eq!(r("{{ state.name | trim | upper }}"), json!("ADA"));
        assert_eq!(r("{{ state.name | lower | trim }}"), json!("ada"));
        assert_eq!(r("{{ state.words | length }}"), json!(2));
        assert_eq!(r("{{ state.words | first }}-{{ state.words | last }}"), json!("a-b"));
        assert_eq!(r("{{ state.words | join(',') }}"), json!("a,b"));
        assert_eq!(r("{{ state.missing | default('N/A') }}"), json!(null), "a missing state key is None, as upstream");
        assert_eq!(r("{{ state.missing | default('N/A', true) }}"), json!("N/A"));
        assert_eq!(r("{{ nothing | default(value='N/A') }}"), json!("N/A"));
        assert_eq!(r("{{ state.missing | default(value='N/A') }}"), json!("N/A"), "Tera's form");
        assert_eq!(r("{{ state.name.startswith(' A') }}|{{ state.name.strip().lower() }}"), json!("True|ada"));
        assert_eq!(r("{{ 'abc' | sha256 }}"), json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_eq!(r("{{ (state.raw | fromjson).k }}"), json!(1));
        assert_eq!(r("{{ state.words | tojson }}"), json!("[\"a\", \"b\"]"));
        assert_eq!(r("{{ state.name | replace('A', 'E') | trim }}"), json!("Eda"));
        assert_eq!(r("{{ state.x | round(1) }}"), json!(2.6));
        assert_eq!(r("{{ state.x | int }}"), json!(2));
        assert_eq!(r("{{ '3.5' | float }}"), json!(3.5));
        assert_eq!(r("{% if state.words %}yes{% else %}no{% endif %}"), json!("yes"));
    }

    #[test]
    fn missing_values_are_none_and_deeper_ones_errors_in_text() {
        assert_eq!(t().render_str("{{ state.nope }}", &json!({}), &Map::new()).unwrap(), json!(null));
        assert_eq!(t().render_str("x={{ state.nope }}", &json!({}), &Map::new()).unwrap(), json!("x=None"));
        let err = t().render_str("Hello {{ state.nope.deeper }}", &json!({}), &Map::new()).unwrap_err();
        assert!(err.message.contains("state.nope.deeper"), "{}", err.message);
    }

    #[test]
    fn conditions_are_booleans_and_failures_are_errors() {
        let state = json!({ "n": 5 });
        assert!(t().condition("state.n > 3", &state, &Map::new()).unwrap());
        assert!(!t().condition("{{ state.n > 7 }}", &state, &Map::new()).unwrap());
        assert!(t().condition("state.n >", &state, &Map::new()).is_err());
        assert!(!t().condition("state.missing", &state, &Map::new()).unwrap(), "None is false");
        assert!(t().condition("!missing", &state, &Map::new()).unwrap());
        assert!(t().condition("n", &state, &Map::new()).unwrap());
    }

    /// The lazy state view must behave as the whole state converted up front.
    #[test]
    fn the_lazy_state_view_matches_an_eager_conversion() {
        let state = json!({
            "items": [3, 1, 2], "words": ["b", "a"], "obj": { "k": 1, "z": [1, { "y": true }], "a": null },
            "n": 2.5, "s": "text", "nested": [[1, 2], [3]], "empty": {}, "none": []
        });
        let templates = [
            "{{ state.items | length }}|{{ state.obj | length }}|{{ state.items[-1] }}|{{ state.items[0] }}",
            "{% for k, v in state.obj | items %}{{ k }}={{ v }};{% endfor %}",
            "{% for k, v in state.obj | dictsort %}{{ k }}={{ v }};{% endfor %}",
            "{{ state.obj | list }}|{{ state.obj | length }}|{{ state.obj['k'] }}|{{ state.obj.k }}",
            "{{ 'k' in state.obj }}|{{ 2 in state.items }}|{{ state.items == [3, 1, 2] }}|{{ state.obj == {'k': 1} }}",
            "{{ state.items | sort | join(',') }}|{{ state.words | first }}|{{ state.words | last }}|{{ state.nested | map('length') | list }}",
            "{{ state | tojson }}",
            "{{ state.obj.z[1].y }}|{{ state.obj.z[1].missing is defined }}|{{ state.empty is mapping }}|{{ state.none is sequence }}",
            "{% if state.empty %}y{% else %}n{% endif %}{% if state.none %}y{% else %}n{% endif %}{% if state.obj %}y{% endif %}",
            "{{ state.items | reverse | list }}|{{ state.items | max }}|{{ state.items | sum }}|{{ [state.obj.z[1]] | selectattr('y') | list }}",
            "{% for x in state.items %}{{ loop.index }}:{{ x }}{{ loop.revindex }},{% endfor %}",
        ];
        let eager = |tpl: &str| {
            let env = Templates::default();
            let ctx = minijinja::context! { state => JValue::from_serialize(&state), variables => JValue::from(()) };
            let out = env.env.borrow().render_str(tpl, ctx).ok();
            out
        };
        for tpl in templates {
            let want = eager(tpl);
            assert!(want.is_some(), "{tpl}");
            assert_eq!(t().render_str(tpl, &state, &Map::new()).ok(), want.map(Value::String), "{tpl}");
        }
        let typed = ["{{ state.obj }}", "{{ state.items }}", "{{ state.obj.z }}", "{{ state.nested[0] }}", "{{ state }}"];
        for expr in typed {
            let e = single_expression(expr).unwrap();
            let env = Templates::default();
            let ctx = minijinja::context! { state => JValue::from_serialize(&state), variables => JValue::from(()) };
            let want = to_json(&env.env.borrow().compile_expression(e).unwrap().eval(ctx).unwrap());
            assert_eq!(t().render_str(expr, &state, &Map::new()).unwrap(), want, "{expr}");
        }
    }

    #[test]
    fn unknown_filters_and_tests_and_bad_arguments_fail_at_load() {
        let t = t();
        for (src, want) in [
            ("{{ x | bool }}", "no filter named `bool`"),
            ("{% if false %}{{ x | nope(1) }}{% endif %}", "no filter named `nope`"),
            ("{{ x is nope }}", "no test named `nope`"),
            ("{{ x | round(1, 'floor', 3) }}", "at most 2 arguments"),
            ("{{ x | sum(attr='a') }}", "no argument `attr`"),
            ("{% filter nope %}x{% endfilter %}", "no filter named `nope`"),
        ] {
            let err = t.check_syntax(src, false).unwrap_err();
            assert!(err.message.contains(want), "{src}: {}", err.message);
        }
        for ok in [
            "{{ x | round(1, method='floor') }}",
            "{{ x | map('upper') | join(', ') }}",
            "{{ x is divisibleby(3) }}",
            "{{ '|' }}",
            "{% raw %}{{ x | nope }}{% endraw %}",
        ] {
            assert!(t.check_syntax(ok, false).is_ok(), "{ok}");
        }
        // Every filter and test in the table exists in the environment.
        let env = t.env.borrow();
        for name in [
            "abs",
            "attr",
            "batch",
            "capitalize",
            "center",
            "count",
            "d",
            "default",
            "dictsort",
            "e",
            "escape",
            "filesizeformat",
            "first",
            "float",
            "forceescape",
            "format",
            "fromjson",
            "groupby",
            "indent",
            "int",
            "items",
            "join",
            "json",
            "last",
            "length",
            "list",
            "lower",
            "map",
            "max",
            "min",
            "pprint",
            "reject",
            "rejectattr",
            "replace",
            "reverse",
            "round",
            "safe",
            "select",
            "selectattr",
            "sha256",
            "slice",
            "sort",
            "string",
            "striptags",
            "sum",
            "title",
            "tojson",
            "trim",
            "truncate",
            "unique",
            "upper",
            "urlencode",
            "urlize",
            "wordcount",
            "wordwrap",
            "xmlattr",
        ] {
            assert!(crate::jinja_filters::signature("filter", name).is_some(), "{name}");
            let r = env.render_str(&format!("{{{{ 'x' | {name} }}}}"), minijinja::context! {});
            assert!(!matches!(&r, Err(e) if e.kind() == ErrorKind::UnknownFilter), "{name}: {r:?}");
        }
    }

    #[test]
    fn long_operator_chains_are_refused_before_parsing() {
        let chain = format!("{{{{ 1{} }}}}", " + 1".repeat(MAX_TEMPLATE_OPERATORS + 1));
        let err = t().render_str(&chain, &json!({}), &Map::new()).unwrap_err();
        assert_eq!(err.code, Code::Template);
        assert!(err.message.contains("operators"), "{}", err.message);
        let ok = format!("{{{{ 1{} }}}} and {{{{ 1{} }}}}", " + 1".repeat(500), " + 1".repeat(500));
        assert!(t().render_str(&ok, &json!({}), &Map::new()).is_ok());
        let quoted = format!("{{{{ '{}' }}}}", "+".repeat(5000));
        assert!(t().render_str(&quoted, &json!({}), &Map::new()).is_ok());
    }

    #[test]
    fn fuel_and_output_limits() {
        let err = t()
            .render_str("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", &json!({}), &Map::new())
            .unwrap_err();
        assert_eq!(err.code, Code::TemplateBudget);
        let err = t().render_str("{% for i in range(5) %}{{ 'x' * 1000000 }}{% endfor %}", &json!({}), &Map::new()).unwrap_err();
        assert_eq!(err.code, Code::TooLarge);
    }

    #[test]
    fn renders_nested_structures_and_variables() {
        let mut vars = Map::new();
        vars.insert("greeting".into(), json!("hi"));
        let v = json!({ "a": ["{{ variables.greeting }}", 1], "b": { "c": "{{ state.n * 2 }}" } });
        assert_eq!(t().render_value(&v, &json!({ "n": 4 }), &vars).unwrap(), json!({ "a": ["hi", 1], "b": { "c": 8 } }));
    }
}
