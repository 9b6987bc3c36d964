//! The answer to a post, whatever the trigger: one target answers as the
//! original service did; several answer with one result per target.

use http::HeaderName;
use http::header::RETRY_AFTER;
use serde_json::{Value, json};

use crate::app::Outcome;
use crate::domain::{Delivered, DeliveryStatus};
use crate::error::{AppError, ErrorCode};

/// The results of one request, one per target.
pub struct Posted {
    outcomes: Vec<Outcome>,
    /// What a success says (`Posted message`, `Posted file`).
    what: &'static str,
}

/// An HTTP answer before it is put into its event shape (REST v1 or
/// HTTP v2).
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// Headers beside `Content-Type: application/json`.
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Self::new(200, body)
    }

    /// `status` with `body`.
    pub fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// With `Retry-After` when a wait is known.
    fn retry_after(mut self, seconds: Option<u64>) -> Self {
        if let Some(seconds) = seconds {
            self.headers.push((RETRY_AFTER, seconds.to_string()));
        }
        self
    }
}

/// An error's answer: `{"msg", "error"}`, with its wait in the body and in
/// `Retry-After`.
impl From<AppError> for Reply {
    fn from(err: AppError) -> Self {
        let mut body = json!({"msg": err.message, "error": err.code});
        if let Some(after) = err.retry_after {
            body["retry_after"] = json!(after);
        }
        Reply::new(err.status, body).retry_after(err.retry_after)
    }
}

impl Posted {
    /// The results of posting `what`.
    pub fn new(outcomes: Vec<Outcome>, what: &'static str) -> Self {
        Self { outcomes, what }
    }

    /// The HTTP answer. One target: its result (an error answers as any
    /// error). Several: 200 when all took it, 207 when some did, else the
    /// failures' common status (502 when they differ).
    pub fn http(self) -> Result<Reply, AppError> {
        if let [single] = self.outcomes.as_slice() {
            let delivered = single.result.clone()?;
            let accepted = delivered.status == DeliveryStatus::Accepted;
            let mut body = delivered_json(&delivered);
            body["msg"] = json!(if accepted {
                "Accepted for delivery (Teams confirms acceptance only)"
            } else {
                self.what
            });
            return Ok(Reply::new(if accepted { 202 } else { 200 }, body));
        }
        let failed: Vec<&AppError> = self
            .outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err())
            .collect();
        let total = self.outcomes.len();
        let results: Vec<Value> = self.outcomes.iter().map(result_json).collect();
        let retry_after = failed.iter().filter_map(|e| e.retry_after).max();
        let (status, msg, error) = if failed.is_empty() {
            (200, format!("{} to {total} channels", self.what), None)
        } else if failed.len() < total {
            (
                207,
                format!(
                    "{} to {} of {total} channels; retry with the same idempotency key to post only where it failed",
                    self.what,
                    total - failed.len()
                ),
                Some(ErrorCode::PartialFailure),
            )
        } else {
            let first = failed[0].status;
            let status = if failed.iter().all(|e| e.status == first) {
                first
            } else {
                502
            };
            (
                status,
                format!("nothing was posted to the {total} channels"),
                Some(ErrorCode::AllFailed),
            )
        };
        let mut body = json!({"msg": msg, "results": results});
        if let Some(error) = error {
            body["error"] = json!(error);
        }
        if let (Some(after), false) = (retry_after, status < 400) {
            // An error answer carries its wait in the body too, as every
            // single-channel error does.
            body["retry_after"] = json!(after);
        }
        Ok(Reply::new(status, body).retry_after(retry_after))
    }

    /// The answer to a direct invocation (and EventBridge, SQS): every
    /// target took it, or a function error (so Lambda retries; with an
    /// idempotency key only the failed targets are posted again).
    pub fn direct(self) -> Result<Value, AppError> {
        if let [single] = self.outcomes.as_slice() {
            let delivered = single.result.clone()?;
            let mut body = delivered_json(&delivered);
            body["ok"] = json!(true);
            return Ok(body);
        }
        let failures: Vec<String> = self
            .outcomes
            .iter()
            .filter_map(|o| {
                let err = o.result.as_ref().err()?;
                Some(format!("{}: {} ({})", o.channel, err.message, err.code))
            })
            .collect();
        if failures.is_empty() {
            let results: Vec<Value> = self.outcomes.iter().map(result_json).collect();
            return Ok(json!({"ok": true, "results": results}));
        }
        let first = self
            .outcomes
            .iter()
            .find_map(|o| o.result.as_ref().err())
            .cloned()
            .unwrap_or_else(|| AppError::new(ErrorCode::PartialFailure, ""));
        let posted = self.outcomes.len() - failures.len();
        Err(AppError {
            code: if posted > 0 {
                ErrorCode::PartialFailure
            } else {
                ErrorCode::AllFailed
            },
            message: format!(
                "posted to {posted} of {} channels; failed: {}",
                self.outcomes.len(),
                failures.join("; ")
            ),
            ..first
        })
    }
}

fn delivered_json(delivered: &Delivered) -> Value {
    let mut body = json!({
        "channel": delivered.channel,
        "status": delivered.status,
    });
    if let Some(id) = &delivered.id {
        body["id"] = json!(id);
    }
    if let Some(time) = delivered.arrival_time {
        body["arrival_time"] = json!(time);
    }
    body
}

fn result_json(outcome: &Outcome) -> Value {
    match &outcome.result {
        Ok(delivered) => {
            let mut body = delivered_json(delivered);
            body["ok"] = json!(true);
            body
        }
        Err(err) => {
            let mut body = json!({
                "channel": outcome.channel,
                "ok": false,
                "status_code": err.status,
                "error": err.code,
                "msg": err.message,
            });
            if let Some(after) = err.retry_after {
                body["retry_after"] = json!(after);
            }
            body
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(channel: &str, status: DeliveryStatus) -> Outcome {
        Outcome {
            channel: channel.into(),
            result: Ok(Delivered {
                id: (status == DeliveryStatus::Posted).then(|| "1".to_string()),
                channel: channel.into(),
                arrival_time: None,
                status,
            }),
        }
    }

    fn failed(channel: &str, status: u16) -> Outcome {
        Outcome {
            channel: channel.into(),
            result: Err(AppError {
                status,
                ..AppError::new(ErrorCode::SkypeRateLimited, "slow down")
            }),
        }
    }

    #[test]
    fn one_target_answers_as_the_original_service() {
        let answer = Posted::new(vec![ok("8:a", DeliveryStatus::Posted)], "Posted message")
            .http()
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["msg"], "Posted message");
        assert_eq!(answer.body["id"], "1");
        let accepted = Posted::new(vec![ok("ops", DeliveryStatus::Accepted)], "Posted message")
            .http()
            .unwrap();
        assert_eq!(
            (accepted.status, &accepted.body["status"]),
            (202, &json!("accepted"))
        );
        let err = Posted::new(vec![failed("8:a", 429)], "Posted message")
            .http()
            .err()
            .unwrap();
        assert_eq!(err.status, 429);
    }

    #[test]
    fn several_targets_answer_per_target() {
        let all = Posted::new(
            vec![
                ok("8:a", DeliveryStatus::Posted),
                ok("ops", DeliveryStatus::Accepted),
            ],
            "Posted message",
        );
        assert_eq!(all.http().unwrap().status, 200);
        let partial = Posted::new(
            vec![ok("8:a", DeliveryStatus::Posted), failed("8:b", 429)],
            "Posted message",
        )
        .http()
        .unwrap();
        assert_eq!(partial.status, 207);
        assert_eq!(partial.body["results"][1]["status_code"], 429);
        assert_eq!(partial.body["error"], "partial_failure");
        let mut throttled = failed("8:b", 429);
        if let Err(err) = &mut throttled.result {
            err.retry_after = Some(30);
        }
        let none = Posted::new(vec![failed("8:a", 429), throttled], "Posted message")
            .http()
            .unwrap();
        assert_eq!(none.status, 429, "their common status");
        assert_eq!(
            (&none.headers, &none.body["retry_after"]),
            (&vec![(RETRY_AFTER, "30".to_string())], &json!(30))
        );
        let mixed = Posted::new(
            vec![failed("8:a", 429), failed("8:b", 503)],
            "Posted message",
        )
        .http()
        .unwrap();
        assert_eq!(mixed.status, 502);
        let direct = Posted::new(
            vec![ok("8:a", DeliveryStatus::Posted), failed("8:b", 429)],
            "Posted message",
        )
        .direct()
        .unwrap_err();
        assert_eq!(
            (direct.status, direct.code.as_str()),
            (429, "partial_failure")
        );
        assert!(direct.message.contains("8:b: slow down"));
    }
}
