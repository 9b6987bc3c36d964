//! Block Kit and message metadata, checked as Slack checks them on
//! `chat.postMessage` and `chat.update`: a refusal is `invalid_blocks` or
//! `invalid_metadata_format`, with a `[json-pointer:...]` message naming
//! the first fault, as Slack's `response_metadata.messages` do.
//!
//! Only the block types a notification bot has a use for are accepted
//! (section, header, divider, context, image, rich_text, actions): any
//! other type is refused, so an adapter cannot rely on one this fake does
//! not know to be valid.

use serde_json::Value;

use super::wire::Refusal;
use super::{MAX_BLOCKS, MAX_SECTION_TEXT};

/// A header block's text limit.
const MAX_HEADER_TEXT: usize = 150;
/// A section's `fields`: at most 10, each at most 2000 characters.
const MAX_FIELDS: usize = 10;
const MAX_FIELD_TEXT: usize = 2000;
/// A context block's elements.
const MAX_CONTEXT_ELEMENTS: usize = 10;
/// An actions block's elements.
const MAX_ACTIONS_ELEMENTS: usize = 25;
/// `block_id` length.
const MAX_BLOCK_ID: usize = 255;
/// An image's `alt_text` length.
const MAX_ALT_TEXT: usize = 2000;

fn invalid(pointer: &str, what: &str) -> Refusal {
    Refusal::with(
        "invalid_blocks",
        format!("[ERROR] {what} [json-pointer:{pointer}]"),
    )
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Check a `blocks` value (already parsed JSON).
pub(crate) fn check_blocks(blocks: &Value) -> Result<(), Refusal> {
    let Value::Array(blocks) = blocks else {
        return Err(invalid("/blocks", "must be an array"));
    };
    if blocks.len() > MAX_BLOCKS {
        return Err(invalid(
            "/blocks",
            &format!("must contain at most {MAX_BLOCKS} blocks"),
        ));
    }
    for (i, block) in blocks.iter().enumerate() {
        check_block(block, &format!("/blocks/{i}"))?;
    }
    Ok(())
}

fn check_block(block: &Value, at: &str) -> Result<(), Refusal> {
    let Value::Object(object) = block else {
        return Err(invalid(at, "must be an object"));
    };
    match object.get("block_id") {
        None => {}
        Some(Value::String(id)) if !id.is_empty() && chars(id) <= MAX_BLOCK_ID => {}
        Some(_) => {
            return Err(invalid(
                &format!("{at}/block_id"),
                "must be a string of 1 to 255 characters",
            ));
        }
    }
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => {
            return Err(invalid(
                &format!("{at}/type"),
                "missing required field: type",
            ));
        }
    };
    match kind {
        "section" => check_section(block, at),
        "header" => check_text_object(
            block.get("text"),
            &format!("{at}/text"),
            &["plain_text"],
            MAX_HEADER_TEXT,
        ),
        "divider" => Ok(()),
        "context" => check_elements(block, at, MAX_CONTEXT_ELEMENTS, check_context_element),
        "image" => check_image(block, at),
        "rich_text" => check_elements(block, at, usize::MAX, |element, at| {
            match element.get("type").and_then(Value::as_str) {
                Some(
                    "rich_text_section"
                    | "rich_text_list"
                    | "rich_text_preformatted"
                    | "rich_text_quote",
                ) => Ok(()),
                _ => Err(invalid(
                    &format!("{at}/type"),
                    "unsupported rich text element",
                )),
            }
        }),
        "actions" => check_elements(block, at, MAX_ACTIONS_ELEMENTS, |element, at| match element
            .get("type")
        {
            Some(Value::String(_)) => Ok(()),
            _ => Err(invalid(
                &format!("{at}/type"),
                "missing required field: type",
            )),
        }),
        other => Err(invalid(
            &format!("{at}/type"),
            &format!("unsupported block type `{other}`"),
        )),
    }
}

/// A text object: `{type: mrkdwn|plain_text, text: 1..=max characters}`.
fn check_text_object(
    value: Option<&Value>,
    at: &str,
    kinds: &[&str],
    max: usize,
) -> Result<(), Refusal> {
    let Some(Value::Object(object)) = value else {
        return Err(invalid(at, "must be a text object"));
    };
    match object.get("type").and_then(Value::as_str) {
        Some(kind) if kinds.contains(&kind) => {}
        _ => {
            return Err(invalid(
                &format!("{at}/type"),
                &format!("must be one of {}", kinds.join(", ")),
            ));
        }
    }
    match object.get("text") {
        Some(Value::String(text)) if text.is_empty() => Err(invalid(
            &format!("{at}/text"),
            "must be more than 0 characters",
        )),
        Some(Value::String(text)) if chars(text) > max => Err(invalid(
            &format!("{at}/text"),
            &format!("must be less than {} characters", max + 1),
        )),
        Some(Value::String(_)) => Ok(()),
        _ => Err(invalid(
            &format!("{at}/text"),
            "missing required field: text",
        )),
    }
}

fn check_section(block: &Value, at: &str) -> Result<(), Refusal> {
    let text = block.get("text");
    let fields = block.get("fields");
    if text.is_none() && fields.is_none() {
        return Err(invalid(at, "a section needs `text` or `fields`"));
    }
    if text.is_some() {
        check_text_object(
            text,
            &format!("{at}/text"),
            &["mrkdwn", "plain_text"],
            MAX_SECTION_TEXT,
        )?;
    }
    if let Some(fields) = fields {
        let Value::Array(fields) = fields else {
            return Err(invalid(&format!("{at}/fields"), "must be an array"));
        };
        if fields.is_empty() || fields.len() > MAX_FIELDS {
            return Err(invalid(
                &format!("{at}/fields"),
                "must contain 1 to 10 text objects",
            ));
        }
        for (i, field) in fields.iter().enumerate() {
            check_text_object(
                Some(field),
                &format!("{at}/fields/{i}"),
                &["mrkdwn", "plain_text"],
                MAX_FIELD_TEXT,
            )?;
        }
    }
    match block.get("accessory") {
        None | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(invalid(&format!("{at}/accessory"), "must be an object")),
    }
}

/// `elements`: a non-empty array of at most `max` objects, each checked.
fn check_elements(
    block: &Value,
    at: &str,
    max: usize,
    check: impl Fn(&Value, &str) -> Result<(), Refusal>,
) -> Result<(), Refusal> {
    let Some(Value::Array(elements)) = block.get("elements") else {
        return Err(invalid(
            &format!("{at}/elements"),
            "missing required field: elements",
        ));
    };
    if elements.is_empty() || elements.len() > max {
        return Err(invalid(
            &format!("{at}/elements"),
            "wrong number of elements",
        ));
    }
    for (i, element) in elements.iter().enumerate() {
        let at = format!("{at}/elements/{i}");
        if !element.is_object() {
            return Err(invalid(&at, "must be an object"));
        }
        check(element, &at)?;
    }
    Ok(())
}

fn check_context_element(element: &Value, at: &str) -> Result<(), Refusal> {
    match element.get("type").and_then(Value::as_str) {
        Some("image") => check_image_fields(element, at),
        _ => check_text_object(Some(element), at, &["mrkdwn", "plain_text"], usize::MAX),
    }
}

fn check_image(block: &Value, at: &str) -> Result<(), Refusal> {
    check_image_fields(block, at)?;
    match block.get("title") {
        None => Ok(()),
        title => check_text_object(title, &format!("{at}/title"), &["plain_text"], 2000),
    }
}

/// `image_url` (or `slack_file`) and a non-empty `alt_text`.
fn check_image_fields(image: &Value, at: &str) -> Result<(), Refusal> {
    match (image.get("image_url"), image.get("slack_file")) {
        (Some(Value::String(url)), None) if !url.is_empty() => {}
        (None, Some(Value::Object(_))) => {}
        _ => {
            return Err(invalid(
                &format!("{at}/image_url"),
                "must provide exactly one of image_url or slack_file",
            ));
        }
    }
    match image.get("alt_text") {
        Some(Value::String(alt)) if !alt.is_empty() && chars(alt) <= MAX_ALT_TEXT => Ok(()),
        _ => Err(invalid(
            &format!("{at}/alt_text"),
            "missing required field: alt_text",
        )),
    }
}

/// Check a `metadata` value: `{event_type: non-empty string, event_payload:
/// object}`.
pub(crate) fn check_metadata(metadata: &Value) -> Result<(), Refusal> {
    let bad = |what: &str| {
        Refusal::with(
            "invalid_metadata_format",
            format!("[ERROR] {what} [json-pointer:/metadata]"),
        )
    };
    let Value::Object(object) = metadata else {
        return Err(bad("must be an object"));
    };
    match object.get("event_type") {
        Some(Value::String(kind)) if !kind.is_empty() => {}
        _ => return Err(bad("`event_type` must be a non-empty string")),
    }
    match object.get("event_payload") {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(bad("`event_payload` must be an object")),
    }
}
