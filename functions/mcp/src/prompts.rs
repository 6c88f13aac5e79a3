//! Prompts an assistant can offer its user: templates that start a
//! conversation which uses the tools. They read nothing themselves.

use rmcp::ErrorData as McpError;
use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

fn time_zone_argument() -> PromptArgument {
    PromptArgument::new("time_zone")
        .with_description("The user's IANA time zone, such as Europe/Berlin (default UTC)")
        .with_required(false)
}

/// Every prompt, as listed.
pub fn all() -> Vec<Prompt> {
    vec![
        Prompt::new(
            "plan_my_day",
            Some("Plan the day: what is overdue and due today, in an order to work through it"),
            Some(vec![time_zone_argument()]),
        ),
        Prompt::new(
            "weekly_review",
            Some("Review the week: what got done, what is due in the next seven days, what to drop"),
            Some(vec![time_zone_argument()]),
        ),
    ]
}

/// The prompt `name` filled in with `arguments`.
pub fn get(name: &str, arguments: &Map<String, Value>) -> Result<GetPromptResult, McpError> {
    let zone = match arguments.get("time_zone") {
        None | Some(Value::Null) => "UTC".to_owned(),
        Some(Value::String(name)) => todo_lib::recurrence::parse_time_zone(name)
            .map_err(|e| McpError::invalid_params(format!("time_zone: {e}"), None))?
            .name()
            .to_owned(),
        Some(_) => return Err(McpError::invalid_params("time_zone must be a string", None)),
    };
    let (description, text) = match name {
        "plan_my_day" => (
            "Plan the day",
            format!(
                "Help me plan my day. My time zone is {zone}. Call the `today` tool with \
                 time_zone \"{zone}\" to see what is overdue and what is due today. Then propose an \
                 order to work through it (urgent and overdue first, grouped by tag where that helps), \
                 say which tasks should move to another day, and ask me before you change anything: \
                 a new due time is `update_task` with `due_at`, done is `complete_task`."
            ),
        ),
        "weekly_review" => (
            "Review the week",
            format!(
                "Help me review my week. My time zone is {zone}. Use `list_tasks` with status \"done\" \
                 and sort \"updated\" to see what I finished, and `list_tasks` with status \"open\", \
                 sort \"due\" and due_before a week from now to see what is coming. Summarise both, \
                 point out overdue or long-open tasks I might drop or reschedule, and ask before \
                 changing anything."
            ),
        ),
        other => return Err(McpError::invalid_params(format!("no prompt named '{other}'"), None)),
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description(description))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_prompt_names_the_users_time_zone_and_the_tools_to_use() {
        let args = match json!({"time_zone": "Europe/Berlin"}) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let prompt = get("plan_my_day", &args).expect("known");
        let text = serde_json::to_string(&prompt.messages).expect("serializes");
        assert!(text.contains("Europe/Berlin") && text.contains("`today`"), "{text}");
        assert!(get("plan_my_day", &Map::new()).is_ok(), "the time zone is optional");
    }

    #[test]
    fn an_unknown_prompt_or_time_zone_is_refused() {
        assert!(get("plan_my_year", &Map::new()).is_err());
        let args = match json!({"time_zone": "Mars/Olympus"}) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        assert!(get("plan_my_day", &args).is_err());
    }
}
