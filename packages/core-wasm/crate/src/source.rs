//! YAML source: typed values (serde_yaml -> JSON) plus a span index (marked-yaml) that maps a
//! path such as `nodes[2].uses` to its line and column.

use crate::error::{Code, EngineError, Pos, Result};
use crate::limits::{MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES};
use marked_yaml::types::Node as MNode;
use serde_json::Value;

/// One step of a path into the document.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// A parsed workflow document.
pub struct Source {
    pub value: Value,
    spans: Option<MNode>,
}

impl Source {
    /// Parses YAML. Syntax errors carry the line and column serde_yaml reports.
    pub fn parse(yaml: &str) -> Result<Source> {
        // A UTF-8 byte order mark (editors on Windows write one) is not content.
        let yaml = yaml.strip_prefix('\u{feff}').unwrap_or(yaml);
        if yaml.len() > MAX_YAML_BYTES {
            return Err(EngineError::new(
                Code::TooLarge,
                format!("the workflow is {} bytes of YAML, over the limit of {MAX_YAML_BYTES}", yaml.len()),
            ));
        }
        if let Some(pos) = crate::yaml_depth::too_deep_at(yaml, MAX_YAML_DEPTH) {
            return Err(
                EngineError::new(Code::TooDeep, format!("the YAML nests collections deeper than {MAX_YAML_DEPTH} levels")).at(Some(pos))
            );
        }
        if yaml.contains('&') && yaml.contains('*') {
            let nodes = crate::yaml_aliases::expanded_nodes(yaml);
            if nodes > MAX_YAML_NODES {
                return Err(EngineError::new(
                    Code::TooLarge,
                    format!("the YAML's aliases (*name) expand to {nodes} nodes, over the limit of {MAX_YAML_NODES}"),
                ));
            }
        }
        let value: Value = serde_yaml::from_str::<serde_yaml::Value>(yaml)
            .map_err(|e| {
                let message = strip_location(&e.to_string());
                let pos = duplicate_key_pos(yaml, &message).or_else(|| e.location().map(|l| Pos { line: l.line(), column: l.column() }));
                EngineError::new(Code::YamlParse, format!("invalid YAML: {message}")).at(pos)
            })
            .and_then(|v| serde_json::to_value(v).map_err(|e| EngineError::new(Code::YamlParse, format!("unsupported YAML value: {e}"))))?;
        // marked-yaml refuses some valid YAML (anchors, tags); positions are then unknown.
        let spans = marked_yaml::parse_yaml(0, yaml).ok();
        Ok(Source { value, spans })
    }

    /// The span-carrying node at `path`.
    fn walk(&self, path: &[Seg]) -> Option<&MNode> {
        let mut node = self.spans.as_ref()?;
        for seg in path {
            node = match (seg, node) {
                (Seg::Key(k), MNode::Mapping(m)) => m.get_node(k)?,
                (Seg::Index(i), MNode::Sequence(s)) => s.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Line and column of the node at `path` (for a mapping key: of the value).
    pub fn pos(&self, path: &[Seg]) -> Option<Pos> {
        let mark = self.walk(path)?.span().start()?;
        Some(Pos { line: mark.line(), column: mark.column() })
    }

    /// Line and column of the key `key` itself inside the mapping at `path`.
    pub fn key_pos(&self, path: &[Seg], key: &str) -> Option<Pos> {
        let MNode::Mapping(m) = self.walk(path)? else { return None };
        let (k, _) = m.iter().find(|(k, _)| k.as_str() == key)?;
        let mark = k.span().start()?;
        Some(Pos { line: mark.line(), column: mark.column() })
    }
}

/// serde_yaml reports a duplicate key at the start of its mapping; marked-yaml knows the key.
fn duplicate_key_pos(yaml: &str, message: &str) -> Option<Pos> {
    if !message.contains("duplicate") {
        return None;
    }
    match marked_yaml::parse_yaml_with_options(0, yaml, marked_yaml::LoaderOptions::default().error_on_duplicate_keys(true)) {
        Err(marked_yaml::LoadError::DuplicateKey(inner)) => {
            let mark = inner.key.span().start()?;
            Some(Pos { line: mark.line(), column: mark.column() })
        }
        _ => None,
    }
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_positions_of_values_and_keys() {
        let src = Source::parse("name: x\nnodes:\n  - name: a\n    uses: passthrough\n").unwrap();
        assert_eq!(src.pos(&[Seg::Key("nodes"), Seg::Index(0), Seg::Key("uses")]), Some(Pos { line: 4, column: 11 }));
        assert_eq!(src.key_pos(&[Seg::Key("nodes"), Seg::Index(0)], "uses"), Some(Pos { line: 4, column: 5 }));
        assert_eq!(src.pos(&[Seg::Key("missing")]), None);
    }

    #[test]
    fn a_byte_order_mark_is_not_content() {
        let src = Source::parse("\u{feff}name: x\nnodes: []\n").unwrap();
        assert_eq!(src.value["name"], serde_json::json!("x"));
    }

    #[test]
    fn a_duplicate_key_is_reported_on_its_own_line() {
        let err = Source::parse("name: x\nnodes:\n  - name: a\n    uses: passthrough\n    uses: return\n").err().unwrap();
        assert_eq!(err.code, Code::YamlParse);
        assert_eq!(err.pos.map(|p| p.line), Some(5), "{err}");
    }

    #[test]
    fn size_and_depth_limits() {
        let deep = format!("a: {}1{}\n", "[".repeat(1000), "]".repeat(1000));
        let err = Source::parse(&deep).err().unwrap();
        assert_eq!(err.code, Code::TooDeep);
        assert_eq!(err.pos.map(|p| p.line), Some(1));
        let big = format!("a: \"{}\"\n", "x".repeat(MAX_YAML_BYTES));
        assert_eq!(Source::parse(&big).err().unwrap().code, Code::TooLarge);
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = Source::parse("name: x\nnodes: [a, b\n").err().unwrap();
        assert_eq!(err.code, Code::YamlParse);
        assert!(err.pos.is_some(), "{err}");
    }
}
