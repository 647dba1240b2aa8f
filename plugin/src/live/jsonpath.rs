//! kubectl's JSONPath template dialect for `-o jsonpath=...`, the subset people use: field
//! paths (`{.items[*].metadata.name}`, `\.` for dots in a key, `[N]`, `[*]`, `..` is not
//! supported), `{range ...}...{end}`, and string literals (`{"\n"}`, `{'\t'}`). Several values
//! from one path are joined by a space, as kubectl does. This is kubectl's template language,
//! not RFC 9535 JSONPath.

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
}

#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Part>),
}

fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let text = text.trim();
    let rest = text
        .strip_prefix('.')
        .or_else(|| (text == "@").then_some(""))
        .or_else(|| text.strip_prefix("@."))
        .unwrap_or(text);
    let mut steps = Vec::new();
    let mut field = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => field.extend(chars.next()),
            '.' => {
                if !field.is_empty() {
                    steps.push(Step::Field(std::mem::take(&mut field)));
                }
            }
            '[' => {
                if !field.is_empty() {
                    steps.push(Step::Field(std::mem::take(&mut field)));
                }
                let inner: String = chars.by_ref().take_while(|&c| c != ']').collect();
                let inner = inner.trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Ok(i) = inner.parse::<usize>() {
                    steps.push(Step::Index(i));
                } else if let Some(key) =
                    inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\''))
                {
                    steps.push(Step::Field(key.to_string()));
                } else {
                    return Err(format!("unsupported JSONPath subscript [{inner}]"));
                }
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() {
        steps.push(Step::Field(field));
    }
    Ok(steps)
}

fn unquote(text: &str) -> Option<String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| t.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))?;
    Some(inner.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r"))
}

fn parse(template: &str) -> Result<Vec<Part>, String> {
    let mut stack: Vec<(Option<Vec<Step>>, Vec<Part>)> = vec![(None, Vec::new())];
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            None => {
                stack.last_mut().expect("a frame").1.push(Part::Text(rest.to_string()));
                rest = "";
            }
            Some(open) => {
                if open > 0 {
                    stack.last_mut().expect("a frame").1.push(Part::Text(rest[..open].to_string()));
                }
                let close = rest[open..].find('}').ok_or("unclosed { in the template")? + open;
                let action = rest[open + 1..close].trim();
                rest = &rest[close + 1..];
                if let Some(path) = action.strip_prefix("range ") {
                    stack.push((Some(parse_path(path)?), Vec::new()));
                } else if action == "end" {
                    let (path, parts) = stack.pop().ok_or("{end} without {range}")?;
                    let path = path.ok_or("{end} without {range}")?;
                    stack
                        .last_mut()
                        .ok_or("{end} without {range}")?
                        .1
                        .push(Part::Range(path, parts));
                } else if let Some(text) = unquote(action) {
                    stack.last_mut().expect("a frame").1.push(Part::Text(text));
                } else {
                    stack.last_mut().expect("a frame").1.push(Part::Path(parse_path(action)?));
                }
            }
        }
    }
    if stack.len() != 1 {
        return Err("{range} without {end}".into());
    }
    Ok(stack.pop().expect("the root frame").1)
}

fn select<'v>(value: &'v Value, steps: &[Step]) -> Vec<&'v Value> {
    let mut current = vec![value];
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            match step {
                Step::Field(name) => next.extend(v.get(name)),
                Step::Index(i) => next.extend(v.get(*i)),
                Step::All => match v {
                    Value::Array(items) => next.extend(items.iter()),
                    Value::Object(map) => next.extend(map.values()),
                    _ => {}
                },
            }
        }
        current = next;
    }
    current
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn render(parts: &[Part], value: &Value, out: &mut String) {
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Path(steps) => {
                let values: Vec<String> = select(value, steps).into_iter().map(text_of).collect();
                out.push_str(&values.join(" "));
            }
            Part::Range(steps, body) => {
                for item in select(value, steps) {
                    render(body, item, out);
                }
            }
        }
    }
}

/// Applies a template to a value.
pub fn apply(template: &str, value: &Value) -> Result<String, String> {
    let parts = parse(template)?;
    let mut out = String::new();
    render(&parts, value, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::apply;
    use serde_json::json;

    fn list() -> serde_json::Value {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}}, "spec": {"type": "postgres"}},
            {"metadata": {"name": "b"}, "spec": {"type": "s3"}}
        ]})
    }

    #[test]
    fn wildcards_join_with_spaces() {
        assert_eq!(apply("{.items[*].metadata.name}", &list()).unwrap(), "a b");
        assert_eq!(apply("{.items[1].spec.type}", &list()).unwrap(), "s3");
        assert_eq!(
            apply(r"{.items[0].metadata.labels.app\.kubernetes\.io/name}", &list()).unwrap(),
            "x"
        );
    }

    #[test]
    fn range_and_literals() {
        assert_eq!(
            apply(r#"{range .items[*]}{.metadata.name}{"\t"}{.spec.type}{"\n"}{end}"#, &list())
                .unwrap(),
            "a\tpostgres\nb\ts3\n"
        );
        assert!(apply("{range .items[*]}{.x}", &list()).is_err());
    }
}
