//! Lambda events as AWS sends them, for tests.

use serde_json::{Value, json};

/// An HTTP API (payload 2.0) request, as API Gateway sends it.
pub fn http_v2(method: &str, path: &str, headers: Value, body: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:16:30:00 +0000",
            "timeEpoch": 1795624200000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// `POST /send-message` with a JSON body and an `x-api-key`.
pub fn send_message(key: &str, body: Value) -> Value {
    json_request("POST", "/send-message", key, body)
}

/// `method path` with a JSON body and an `x-api-key`.
pub fn json_request(method: &str, path: &str, key: &str, body: Value) -> Value {
    http_v2(
        method,
        path,
        json!({"content-type": "application/json", "x-api-key": key}),
        &body.to_string(),
    )
}

/// A sample event of `events/`.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/events/{name}.json", crate::repo_root().display());
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Status and decoded JSON body of an API Gateway answer.
pub fn status_and_body(response: &Value) -> (u16, Value) {
    let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
    let body =
        serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (status, body)
}
