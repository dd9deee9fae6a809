//! YAML source: typed values (serde_yaml -> JSON) plus a span index (marked-yaml) that maps a
//! path such as `nodes[2].uses` to its line and column.

use crate::error::{Code, EngineError, Pos, Result};
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
        let value: Value = serde_yaml::from_str::<serde_yaml::Value>(yaml)
            .map_err(|e| {
                let pos = e.location().map(|l| Pos { line: l.line(), column: l.column() });
                EngineError::new(Code::YamlParse, format!("invalid YAML: {}", strip_location(&e.to_string())))
                    .at(pos)
            })
            .and_then(|v| {
                serde_json::to_value(v).map_err(|e| EngineError::new(Code::YamlParse, format!("unsupported YAML value: {e}")))
            })?;
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
    fn syntax_errors_have_line_and_column() {
        let err = Source::parse("name: x\nnodes: [a, b\n").err().unwrap();
        assert_eq!(err.code, Code::YamlParse);
        assert!(err.pos.is_some(), "{err}");
    }
}
