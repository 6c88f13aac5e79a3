//! The tools' JSON Schemas, taken from the REST API's OpenAPI document: a tool
//! takes what its route takes, with the same fields and descriptions, so the
//! two cannot drift apart.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Where OpenAPI keeps its schemas, and where a standalone JSON Schema keeps them.
const COMPONENTS: &str = "#/components/schemas/";
const DEFS: &str = "#/$defs/";

/// The API's document, read once.
#[derive(Debug)]
pub struct Schemas {
    doc: Value,
}

impl Default for Schemas {
    fn default() -> Self {
        Self::new()
    }
}

impl Schemas {
    pub fn new() -> Self {
        // The document is built from static route definitions: serialising it
        // cannot fail, and `Value::Null` would only leave the schemas empty.
        Self { doc: serde_json::to_value(api::openapi()).unwrap_or(Value::Null) }
    }

    /// The component `name` (`NewTask`, `Task`) as a standalone JSON Schema:
    /// its references point into `$defs`, which holds every component it reaches.
    pub fn component(&self, name: &str) -> Map<String, Value> {
        let mut schema = match self.raw_component(name) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self.attach_defs(&mut schema);
        schema
    }

    /// The path and query parameters of `method path` (`get`, `/v1/tasks`) as an
    /// object schema, one property per parameter; `extra` adds properties.
    pub fn parameters(&self, method: &str, path: &str, extra: Value) -> Map<String, Value> {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let params = self.doc["paths"][path][method]["parameters"].as_array().cloned().unwrap_or_default();
        for param in params.iter().filter(|p| matches!(p["in"].as_str(), Some("query" | "path"))) {
            let Some(name) = param["name"].as_str() else { continue };
            let mut schema = match param["schema"].clone() {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            if let Some(description) = param["description"].as_str() {
                schema.insert("description".into(), description.into());
            }
            if param["required"] == Value::Bool(true) {
                required.push(Value::from(name));
            }
            properties.insert(name.to_owned(), Value::Object(schema));
        }
        if let Value::Object(extra) = extra {
            properties.extend(extra);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required));
        }
        schema.insert("additionalProperties".into(), false.into());
        self.attach_defs(&mut schema);
        schema
    }

    /// An object schema of `properties` alone, `required` among them.
    pub fn object(&self, properties: Value, required: &[&str]) -> Map<String, Value> {
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), properties);
        schema.insert("required".into(), json!(required));
        schema.insert("additionalProperties".into(), false.into());
        self.attach_defs(&mut schema);
        schema
    }

    fn raw_component(&self, name: &str) -> Value {
        self.doc["components"]["schemas"][name].clone()
    }

    /// Rewrites `schema`'s references into `$defs` and puts there every
    /// component they reach, transitively.
    fn attach_defs(&self, schema: &mut Map<String, Value>) {
        let mut defs = BTreeMap::new();
        let mut pending = Vec::new();
        let mut root = Value::Object(std::mem::take(schema));
        rewrite_refs(&mut root, &mut pending);
        while let Some(name) = pending.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let mut def = self.raw_component(&name);
            rewrite_refs(&mut def, &mut pending);
            defs.insert(name, def);
        }
        if let Value::Object(map) = root {
            *schema = map;
        }
        if !defs.is_empty() {
            schema.insert("$defs".into(), Value::Object(defs.into_iter().collect()));
        }
    }
}

/// `schema` in the form every client reads: a `type` that lists several
/// (`["string", "null"]`, how the API's nullable fields are written) becomes
/// `anyOf` branches of one type each, which the MCP Inspector's portability
/// check asks for (clients that map tool schemas onto a one-type dialect, such
/// as Gemini's function declarations, drop or refuse the list). What belongs
/// to a type (`format`, `maxLength`, `items`…) goes into its branch; what
/// describes the value (`description`, `default`…) stays outside.
pub fn portable(value: &mut Value) {
    const ABOUT: [&str; 7] =
        ["description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly"];
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(portable);
            let Some(Value::Array(types)) = map.get("type").cloned() else { return };
            map.remove("type");
            let (about, specific): (Map<String, Value>, Map<String, Value>) =
                std::mem::take(map).into_iter().partition(|(k, _)| ABOUT.contains(&k.as_str()));
            let branches = types
                .into_iter()
                .map(|t| {
                    let mut branch = if t == "null" { Map::new() } else { specific.clone() };
                    branch.insert("type".into(), t);
                    Value::Object(branch)
                })
                .collect();
            *map = about;
            map.insert("anyOf".into(), Value::Array(branches));
        }
        Value::Array(items) => items.iter_mut().for_each(portable),
        _ => {}
    }
}

/// Points every `$ref` of `value` into `$defs`, noting the components named.
fn rewrite_refs(value: &mut Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(name) = target.strip_prefix(COMPONENTS)
            {
                names.push(name.to_owned());
                *target = format!("{DEFS}{name}");
            }
            map.values_mut().for_each(|v| rewrite_refs(v, names));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_types_becomes_branches_of_one_type_each() {
        let mut schema = json!({"type": "object", "properties": {
            "due_at": {"type": ["string", "null"], "format": "date-time", "description": "When"},
            "type": {"type": "string"},
            "tags": {"type": ["array", "null"], "items": {"type": ["string", "null"], "maxLength": 3}}
        }});
        portable(&mut schema);
        assert_eq!(
            schema["properties"]["due_at"],
            json!({"description": "When", "anyOf": [
                {"type": "string", "format": "date-time"}, {"type": "null"}
            ]})
        );
        assert_eq!(schema["properties"]["type"], json!({"type": "string"}), "a property named type is left");
        assert_eq!(
            schema["properties"]["tags"]["anyOf"][0]["items"],
            json!({"anyOf": [
                {"type": "string", "maxLength": 3}, {"type": "null"}
            ]})
        );
    }

    /// Every `$ref` in `value`.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn a_component_carries_every_definition_it_refers_to() {
        let schema = Value::Object(Schemas::new().component("NewTask"));
        assert!(schema["properties"]["title"].is_object(), "{schema}");
        let mut found = Vec::new();
        refs(&schema, &mut found);
        assert!(!found.is_empty(), "NewTask refers to Priority at least");
        for r in found {
            let name = r.strip_prefix(DEFS).unwrap_or_else(|| panic!("{r} does not point into $defs"));
            assert!(schema["$defs"][name].is_object(), "{name} is missing from $defs");
        }
    }

    #[test]
    fn parameters_become_properties_with_their_descriptions() {
        let schema = Value::Object(Schemas::new().parameters("get", "/v1/tasks", json!({})));
        assert_eq!(schema["type"], "object");
        for name in ["list", "status", "priority", "tag", "q", "sort", "order", "limit", "cursor"] {
            assert!(schema["properties"][name]["description"].is_string(), "{name}: {schema}");
        }
        assert_eq!(schema["additionalProperties"], false);
    }
}
