//! A structural diff of two JSON trees: one line per difference, naming
//! where it is (`body.data.created_at`, `body.validation_errors[1].path`),
//! what the snapshot holds and what came. Key order counts: the same keys
//! in another order are a difference of the object's `(key order)`.

use std::fmt;

use super::json::Json;

#[derive(Debug, PartialEq)]
pub struct Difference {
    pub at: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "  {}\n    expected: {}\n    got:      {}",
            self.at, self.expected, self.got
        )
    }
}

/// What a missing value is shown as.
pub const ABSENT: &str = "(absent)";

pub fn json(at: &str, expected: &Json, got: &Json, out: &mut Vec<Difference>) {
    match (expected, got) {
        (Json::Object(want), Json::Object(have)) => {
            for (key, value) in want {
                let here = format!("{at}.{key}");
                match got.get(key) {
                    Some(other) => json(&here, value, other, out),
                    None => out.push(Difference {
                        at: here,
                        expected: value.compact(),
                        got: ABSENT.to_owned(),
                    }),
                }
            }
            for (key, value) in have {
                if expected.get(key).is_none() {
                    out.push(Difference {
                        at: format!("{at}.{key}"),
                        expected: ABSENT.to_owned(),
                        got: value.compact(),
                    });
                }
            }
            let shared = |of: &[(String, Json)], other: &Json| -> Vec<String> {
                of.iter()
                    .filter(|(k, _)| other.get(k).is_some())
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            let (want_order, have_order) = (shared(want, got), shared(have, expected));
            if want_order != have_order {
                out.push(Difference {
                    at: format!("{at} (key order)"),
                    expected: want_order.join(", "),
                    got: have_order.join(", "),
                });
            }
        }
        (Json::Array(want), Json::Array(have)) => {
            for i in 0..want.len().max(have.len()) {
                let here = format!("{at}[{i}]");
                match (want.get(i), have.get(i)) {
                    (Some(w), Some(h)) => json(&here, w, h, out),
                    (Some(w), None) => out.push(Difference {
                        at: here,
                        expected: w.compact(),
                        got: ABSENT.to_owned(),
                    }),
                    (None, Some(h)) => out.push(Difference {
                        at: here,
                        expected: ABSENT.to_owned(),
                        got: h.compact(),
                    }),
                    (None, None) => unreachable!(),
                }
            }
        }
        _ if expected == got => {}
        _ => out.push(Difference {
            at: at.to_owned(),
            expected: expected.compact(),
            got: got.compact(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(expected: &str, got: &str) -> Vec<String> {
        let mut out = Vec::new();
        json(
            "body",
            &Json::parse(expected).unwrap(),
            &Json::parse(got).unwrap(),
            &mut out,
        );
        out.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn equal_trees_have_no_difference() {
        let text = r#"{"a":[1,{"b":null}],"c":"d"}"#;
        assert!(diff(text, text).is_empty());
    }

    #[test]
    fn each_difference_names_its_path() {
        assert_eq!(
            diff(
                r#"{"data":{"message":"Webhook not found","path":["data","x"]}}"#,
                r#"{"data":{"message":"Not found","path":["data"],"extra":true}}"#
            ),
            [
                "  body.data.message\n    expected: \"Webhook not found\"\n    got:      \"Not found\"",
                "  body.data.path[1]\n    expected: \"x\"\n    got:      (absent)",
                "  body.data.extra\n    expected: (absent)\n    got:      true",
            ]
        );
    }

    #[test]
    fn the_same_keys_in_another_order_are_a_difference() {
        assert_eq!(
            diff(r#"{"id":1,"status":2,"x":0}"#, r#"{"status":2,"id":1}"#),
            [
                "  body.x\n    expected: 0\n    got:      (absent)",
                "  body (key order)\n    expected: id, status\n    got:      status, id",
            ]
        );
    }

    #[test]
    fn another_type_is_a_difference() {
        assert_eq!(
            diff(r#"{"status_code":404}"#, r#"{"status_code":"404"}"#),
            ["  body.status_code\n    expected: 404\n    got:      \"404\""]
        );
    }
}
