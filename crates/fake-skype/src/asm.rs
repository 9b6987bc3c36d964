//! The ASM object store that files and images go through before their
//! message is posted: create an object, then PUT its bytes to the view that
//! matches its kind.

use serde_json::{Value, json};

use super::StoredObject;
use super::auth::{self, Carrier};
use super::conversation;
use super::routes::Target;
use super::state::{ObjectRecord, State};
use super::wire::{Req, Resp, bad_request, msg_error};

/// The version header SkPy sent on object creation.
const CLIENT_VERSION: &str = "0/0.0.0.0";

/// The content view each object kind is uploaded to.
fn view_for(kind: &str) -> &'static str {
    if kind == "pish/image" {
        "imgpsh"
    } else {
        "original"
    }
}

/// `POST {asm}`: create a `sharing/file` or `pish/image` object.
pub(crate) fn create(state: &mut State, req: &Req) -> Resp {
    let account = match auth::account_for(state, req, Carrier::Authorization) {
        Ok(account) => account,
        Err(resp) => return resp,
    };
    if req.header("X-Client-Version") != Some(CLIENT_VERSION) {
        return bad_request(&format!("X-Client-Version: {CLIENT_VERSION} is required"));
    }
    if let Err(why) = req.require_media_type("application/json") {
        return bad_request(&why);
    }
    let (kind, permissions, filename) = match req.json().and_then(|v| read_object_request(&v)) {
        Ok(parts) => parts,
        Err(why) => return bad_request(&why),
    };
    let id = format!("0-weu-d3-{}", state.rng.hex(32));
    let object = StoredObject {
        id: id.clone(),
        kind,
        filename,
        permissions,
        content: None,
        view: None,
    };
    state.objects.insert(
        id.clone(),
        ObjectRecord {
            object,
            owner: account,
        },
    );
    Resp::json(201, &json!({"id": id}))
}

/// Check `{"type": ..., "permissions": {"8:<member>": ["read"]}, "filename": ...}`.
fn read_object_request(body: &Value) -> Result<(String, Value, Option<String>), String> {
    let body = body.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = body
        .keys()
        .find(|k| !["type", "permissions", "filename"].contains(&k.as_str()))
    {
        return Err(format!("unknown field {unknown:?}"));
    }
    let kind = match body.get("type").and_then(Value::as_str) {
        Some(kind @ ("sharing/file" | "pish/image")) => kind.to_string(),
        _ => return Err("type must be \"sharing/file\" or \"pish/image\"".into()),
    };
    let permissions = body
        .get("permissions")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
        .ok_or("permissions must be a non-empty object")?;
    // SkPy keyed read rights by member (`8:<user>`); other real clients
    // keyed them by the conversation id (`19:...@thread.skype`), which the
    // service accepted too. Anything that is not a conversation id is not.
    for (member, rights) in permissions {
        if conversation::check(member).is_err() {
            return Err(format!(
                "permission key {member:?} is neither an 8: user id nor a conversation id"
            ));
        }
        if rights != &json!(["read"]) {
            return Err(format!("permissions of {member} must be [\"read\"]"));
        }
    }
    let filename = match body.get("filename") {
        None => None,
        Some(Value::String(name)) if !name.is_empty() => Some(name.clone()),
        Some(_) => return Err("filename must be a non-empty string".into()),
    };
    if kind == "sharing/file" && filename.is_none() {
        return Err("filename is required for sharing/file".into());
    }
    Ok((kind, Value::Object(permissions.clone()), filename))
}

/// `PUT {asm}/<id>/content/<view>`: the object's bytes.
pub(crate) fn upload(state: &mut State, req: &Req, target: &Target) -> Resp {
    let Target::Object { id, view } = target else {
        return msg_error(404, 404, "no object in path");
    };
    let account = match auth::account_for(state, req, Carrier::Authorization) {
        Ok(account) => account,
        Err(resp) => return resp,
    };
    let Some(record) = state.objects.get_mut(id) else {
        return msg_error(404, 404, &format!("object {id} not found"));
    };
    if record.owner != account {
        return msg_error(403, 403, &format!("object {id} belongs to another account"));
    }
    let expected = view_for(&record.object.kind);
    if view != expected {
        return bad_request(&format!(
            "a {} object is uploaded to /content/{expected}, not /content/{view}",
            record.object.kind
        ));
    }
    record.object.content = Some(req.body.clone());
    record.object.view = Some(view.clone());
    Resp::empty(201)
}
