//! `openapi.yaml` read for tests: its declared (path, method, status)
//! triples, its responses, and a checker for the subset of JSON Schema
//! (OpenAPI 3.0 flavour) it uses. A keyword the checker does not know is
//! an error, so the spec cannot lean on a rule nobody checks.

use std::collections::BTreeSet;

use serde_json::Value;

/// The methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The schema keywords the checker enforces or may ignore (annotations).
const KNOWN_KEYWORDS: [&str; 17] = [
    "$ref",
    "type",
    "nullable",
    "oneOf",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    // Annotations only.
    "description",
    "format",
];

/// The parsed spec.
pub struct Spec {
    /// The whole document (YAML anchors resolved).
    pub doc: Value,
}

impl Spec {
    /// Reads `openapi.yaml` at the top of the crate.
    pub fn load() -> Spec {
        let path = format!("{}/openapi.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_norway::from_str(&text).unwrap();
        Spec { doc }
    }

    /// Every `(path, METHOD, status)` the spec declares.
    pub fn declared(&self) -> BTreeSet<(String, String, u16)> {
        let mut declared = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                for status in operation["responses"].as_object().unwrap().keys() {
                    let status: u16 = status
                        .parse()
                        .unwrap_or_else(|_| panic!("{path} {method}: status {status:?}"));
                    declared.insert((path.clone(), method.to_uppercase(), status));
                }
            }
        }
        declared
    }

    /// The operation at `path` (a spec path) and `method` (any case).
    pub fn operation(&self, path: &str, method: &str) -> Option<&Value> {
        self.doc["paths"]
            .get(path)?
            .get(method.to_ascii_lowercase())
    }

    /// The parameters of an operation, its path item's included, resolved.
    pub fn parameters(&self, path: &str, method: &str) -> Vec<&Value> {
        let item_level = self.doc["paths"][path]["parameters"].as_array();
        let operation_level = self
            .operation(path, method)
            .and_then(|op| op["parameters"].as_array());
        item_level
            .into_iter()
            .chain(operation_level)
            .flatten()
            .map(|p| self.resolve(p))
            .collect()
    }

    /// The response declared for `status`, `$ref` followed.
    pub fn response(&self, path: &str, method: &str, status: u16) -> Option<&Value> {
        let operation = self.operation(path, method)?;
        Some(self.resolve(operation["responses"].get(status.to_string())?))
    }

    /// The request body schema for a content type.
    pub fn request_schema(&self, path: &str, method: &str, content_type: &str) -> Option<&Value> {
        let body = self.resolve(self.operation(path, method)?.get("requestBody")?);
        body["content"].get(content_type)?.get("schema")
    }

    /// Follows `$ref`s (local ones, `#/a/b`) to the value they name.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return value;
            };
            value = self.target(reference).unwrap_or_else(|| {
                panic!("{reference} names nothing in openapi.yaml");
            });
        }
        panic!("a $ref loop in openapi.yaml");
    }

    /// What a local `$ref` names, if anything.
    pub fn target(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// Every `$ref` in the document.
    pub fn references(&self) -> Vec<String> {
        fn walk(value: &Value, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(reference)) = map.get("$ref") {
                        found.push(reference.clone());
                    }
                    map.values().for_each(|v| walk(v, found));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(&self.doc, &mut found);
        found
    }

    /// The `ErrorCode` enum.
    pub fn error_codes(&self) -> BTreeSet<String> {
        self.doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_string())
            .collect()
    }

    /// What is wrong with `value` against `schema` (empty: it validates).
    pub fn check(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check_at(schema, value, "$", &mut errors);
        errors
    }

    fn check_at(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(rules) = schema.as_object() else {
            errors.push(format!("{at}: the schema is not an object: {schema}"));
            return;
        };
        if let Some(unknown) = rules
            .keys()
            .find(|key| !KNOWN_KEYWORDS.contains(&key.as_str()))
        {
            errors.push(format!("{at}: the checker does not know keyword {unknown}"));
        }
        if value.is_null() && rules.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if let Some(options) = rules.get("oneOf").and_then(Value::as_array) {
            let outcomes: Vec<Vec<String>> = options
                .iter()
                .map(|option| {
                    let mut inner = Vec::new();
                    self.check_at(option, value, at, &mut inner);
                    inner
                })
                .collect();
            let matching = outcomes.iter().filter(|inner| inner.is_empty()).count();
            if matching != 1 {
                // Each option's first complaint says why it did not match.
                let why: Vec<&str> = outcomes
                    .iter()
                    .filter_map(|inner| inner.first().map(String::as_str))
                    .collect();
                errors.push(format!(
                    "{at}: matches {matching} of the oneOf schemas, not exactly one ({})",
                    why.join("; ")
                ));
            }
        }
        if let Some(kind) = rules.get("type").and_then(Value::as_str) {
            let fits = match kind {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                other => {
                    errors.push(format!("{at}: unknown type {other}"));
                    return;
                }
            };
            if !fits {
                errors.push(format!("{at}: {value} is not of type {kind}"));
                return;
            }
        }
        if let Some(allowed) = rules.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        match value {
            Value::Object(map) => self.check_object(rules, map, at, errors),
            Value::Array(items) => {
                let count = items.len() as u64;
                if let Some(min) = rules.get("minItems").and_then(Value::as_u64)
                    && count < min
                {
                    errors.push(format!("{at}: {count} items, fewer than {min}"));
                }
                if let Some(max) = rules.get("maxItems").and_then(Value::as_u64)
                    && count > max
                {
                    errors.push(format!("{at}: {count} items, more than {max}"));
                }
                if let Some(item_schema) = rules.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check_at(item_schema, item, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            Value::String(text) => {
                let chars = text.chars().count() as u64;
                if let Some(min) = rules.get("minLength").and_then(Value::as_u64)
                    && chars < min
                {
                    errors.push(format!("{at}: shorter than {min}"));
                }
                if let Some(max) = rules.get("maxLength").and_then(Value::as_u64)
                    && chars > max
                {
                    errors.push(format!("{at}: longer than {max}"));
                }
                if let Some(pattern) = rules.get("pattern").and_then(Value::as_str)
                    && !regex_lite::Regex::new(pattern).unwrap().is_match(text)
                {
                    errors.push(format!("{at}: {text:?} does not match {pattern}"));
                }
            }
            Value::Number(number) => {
                if let (Some(min), Some(n)) = (
                    rules.get("minimum").and_then(Value::as_f64),
                    number.as_f64(),
                ) && n < min
                {
                    errors.push(format!("{at}: {n} is below {min}"));
                }
            }
            _ => {}
        }
    }

    fn check_object(
        &self,
        rules: &serde_json::Map<String, Value>,
        map: &serde_json::Map<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        for name in rules
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(name) {
                errors.push(format!("{at}: {name} is required"));
            }
        }
        let properties = rules.get("properties").and_then(Value::as_object);
        let closed = match rules.get("additionalProperties") {
            None => false,
            Some(Value::Bool(false)) => true,
            Some(other) => {
                errors.push(format!(
                    "{at}: additionalProperties {other} is not supported"
                ));
                false
            }
        };
        for (name, member) in map {
            match properties.and_then(|p| p.get(name)) {
                Some(member_schema) => {
                    self.check_at(member_schema, member, &format!("{at}.{name}"), errors)
                }
                None if closed => errors.push(format!("{at}: {name} is not a declared property")),
                None => {}
            }
        }
    }
}

/// Whether a request path matches a spec path template (`{x}`: one
/// non-empty segment).
pub fn path_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    template.len() == path.len()
        && template.iter().zip(&path).all(|(t, p)| {
            if t.starts_with('{') && t.ends_with('}') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}
