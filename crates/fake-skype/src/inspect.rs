//! The emulator's read-only pages, so a person running it locally can see
//! what their client posted: `GET /_emulator/conversations` and
//! `GET /_emulator/conversations/<id>/messages`. Not part of Skype.

use serde_json::{Value, json};

use super::routes::Inspect;
use super::state::State;
use super::wire::{Resp, bad_request, percent_decode};

/// Answer an inspection page from the current state.
pub(crate) fn answer(state: &State, page: &Inspect) -> Resp {
    match page {
        Inspect::Conversations => {
            let counts: serde_json::Map<String, Value> = state
                .messages
                .iter()
                .map(|(id, messages)| (id.clone(), json!(messages.len())))
                .collect();
            Resp::json(200, &Value::Object(counts))
        }
        Inspect::Messages(raw) => {
            let Some(id) = percent_decode(raw) else {
                return bad_request("malformed conversation id");
            };
            let messages = state.messages.get(&id).cloned().unwrap_or_default();
            Resp::json(200, &json!(messages))
        }
    }
}
