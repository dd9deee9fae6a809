//! A guard against "billion laughs": YAML aliases (`*name`) that expand an anchor's node over and
//! over. The serde parser expands them into a value before anything can look at it, so the
//! expanded size is counted first from the parser's events.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

struct Count {
    /// Expanded node count of each anchor, by anchor id.
    sizes: Vec<u64>,
    /// Open collections: (anchor id, total before it started).
    open: Vec<(usize, u64)>,
    total: u64,
}

impl Count {
    fn set(&mut self, anchor: usize, size: u64) {
        if anchor == 0 {
            return;
        }
        if self.sizes.len() <= anchor {
            self.sizes.resize(anchor + 1, 1);
        }
        self.sizes[anchor] = size;
    }
}

impl MarkedEventReceiver for Count {
    fn on_event(&mut self, ev: Event, _: Marker) {
        match ev {
            Event::Scalar(_, _, anchor, _) => {
                self.total = self.total.saturating_add(1);
                self.set(anchor, 1);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.open.push((anchor, self.total));
                self.total = self.total.saturating_add(1);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = self.open.pop() {
                    let size = self.total - start;
                    self.set(anchor, size);
                }
            }
            Event::Alias(id) => {
                let size = self.sizes.get(id).copied().unwrap_or(1);
                self.total = self.total.saturating_add(size);
            }
            _ => {}
        }
    }
}

/// The number of nodes `yaml` holds once its aliases are expanded (a syntax error stops the
/// count early; the real parser then reports it).
pub fn expanded_nodes(yaml: &str) -> u64 {
    let mut count = Count { sizes: Vec::new(), open: Vec::new(), total: 0 };
    let _ = Parser::new_from_str(yaml).load(&mut count, true);
    count.total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_expansions_of_nested_aliases() {
        // The mapping, two keys, a scalar, a sequence and its two items.
        assert_eq!(expanded_nodes("a: 1\nb: [1, 2]\n"), 7);
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
        assert!(expanded_nodes(laughs) > 10_000, "{}", expanded_nodes(laughs));
    }
}
