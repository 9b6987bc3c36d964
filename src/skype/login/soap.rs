//! The SOAP flow (docs/skype-protocol.md §2.2): WS-Trust `RST.srf` for a
//! security token, then the edge exchange for a skype token.

use quick_xml::Reader;
use quick_xml::escape::partial_escape;
use quick_xml::events::Event;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{Credentials, IssuedToken};
use crate::skype::error::SkypeError;
use crate::skype::http::{Api, Auth, MAX_ANSWER_BYTES, check, json_body, read_text};

/// SkPy's envelope, byte for byte (the whitespace included).
const ENVELOPE: &str = "
    <Envelope xmlns='http://schemas.xmlsoap.org/soap/envelope/'
       xmlns:wsse='http://schemas.xmlsoap.org/ws/2003/06/secext'
       xmlns:wsp='http://schemas.xmlsoap.org/ws/2002/12/policy'
       xmlns:wsa='http://schemas.xmlsoap.org/ws/2004/03/addressing'
       xmlns:wst='http://schemas.xmlsoap.org/ws/2004/04/trust'
       xmlns:ps='http://schemas.microsoft.com/Passport/SoapServices/PPCRL'>
       <Header>
           <wsse:Security>
               <wsse:UsernameToken Id='user'>
                   <wsse:Username>{username}</wsse:Username>
                   <wsse:Password>{password}</wsse:Password>
               </wsse:UsernameToken>
           </wsse:Security>
       </Header>
       <Body>
           <ps:RequestMultipleSecurityTokens Id='RSTS'>
               <wst:RequestSecurityToken Id='RST0'>
                   <wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType>
                   <wsp:AppliesTo>
                       <wsa:EndpointReference>
                           <wsa:Address>wl.skype.com</wsa:Address>
                       </wsa:EndpointReference>
                   </wsp:AppliesTo>
                   <wsse:PolicyReference URI='MBI_SSL'></wsse:PolicyReference>
               </wst:RequestSecurityToken>
           </ps:RequestMultipleSecurityTokens>
       </Body>
    </Envelope>
    ";

/// The request body, with `&`, `<` and `>` escaped as SkPy does.
pub(super) fn envelope(username: &str, password: &str) -> String {
    ENVELOPE
        .replace("{username}", &partial_escape(username))
        .replace("{password}", &partial_escape(password))
}

impl Api {
    pub(super) async fn soap_login(
        &self,
        credentials: &Credentials,
    ) -> Result<IssuedToken, SkypeError> {
        let body = envelope(&credentials.username, credentials.password.expose_secret());
        let response = self
            .http
            .post(format!("{}/RST.srf", self.urls.live))
            .body(body)
            .send()
            .await?;
        let text = read_text(check(response, Auth::Login).await?, MAX_ANSWER_BYTES).await?;
        let security_token = security_token(&text)?;
        self.exchange_at_edge(&security_token).await
    }

    /// `POST {edge}/rps/v1/rps/skypetoken`, form-encoded.
    async fn exchange_at_edge(
        &self,
        security_token: &SecretString,
    ) -> Result<IssuedToken, SkypeError> {
        let response = self
            .http
            .post(format!("{}/rps/v1/rps/skypetoken", self.urls.edge))
            .form(&[
                ("partner", "999"),
                ("access_token", security_token.expose_secret()),
                ("scopes", "client"),
            ])
            .send()
            .await?;
        let json = json_body(check(response, Auth::Login).await?, "edge response").await?;
        edge_token(&json)
    }
}

/// Reads the edge answer: a token with its lifetime, or Skype's status.
fn edge_token(json: &Value) -> Result<IssuedToken, SkypeError> {
    if let Some(token) = json.get("skypetoken").and_then(Value::as_str) {
        let expires_in = json
            .get("expiresIn")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .ok_or_else(|| SkypeError::Protocol("edge token without expiresIn".into()))?;
        return Ok(IssuedToken {
            token: SecretString::from(token),
            expires_in,
        });
    }
    if let Some(status) = json.get("status") {
        let code = status.get("code").map_or("?".into(), Value::to_string);
        let text = status.get("text").and_then(Value::as_str).unwrap_or("");
        return Err(SkypeError::LoginRefused(format!("{code} - {text}")));
    }
    Err(SkypeError::Protocol(
        "Couldn't retrieve token from edge response".into(),
    ))
}

/// Finds the first `BinarySecurityToken` (any prefix), or the `Fault`.
fn security_token(xml: &str) -> Result<SecretString, SkypeError> {
    let mut reader = Reader::from_str(xml);
    let mut element = String::new();
    let mut in_fault = false;
    let (mut code, mut reason) = (None::<String>, None::<String>);
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                element = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                in_fault |= element == "Fault";
            }
            Ok(Event::Text(text)) => {
                let text = text
                    .unescape()
                    .map_err(|_| SkypeError::Protocol("login response is not XML".into()))?;
                match element.as_str() {
                    "BinarySecurityToken" if !in_fault && !text.trim().is_empty() => {
                        return Ok(SecretString::from(text.trim().to_string()));
                    }
                    "faultcode" if in_fault => code = Some(text.trim().to_string()),
                    "faultstring" if in_fault => reason = Some(text.trim().to_string()),
                    _ => {}
                }
            }
            Ok(Event::End(end)) => {
                if end.local_name().as_ref() == b"Fault" {
                    return Err(fault(code, reason));
                }
                element.clear();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return Err(SkypeError::Protocol("login response is not XML".into())),
        }
    }
    if in_fault {
        return Err(fault(code, reason));
    }
    Err(SkypeError::Protocol(
        "Couldn't retrieve security token from login response".into(),
    ))
}

/// `"{faultcode} - {faultstring}"`, as SkPy reports it; the profile-accrual
/// fault is the SOAP face of the browser-only wall.
fn fault(code: Option<String>, reason: Option<String>) -> SkypeError {
    if code.is_none() && reason.is_none() {
        return SkypeError::Protocol("Unknown fault whilst requesting security token".into());
    }
    let text = format!(
        "{} - {}",
        code.as_deref().unwrap_or("None"),
        reason.as_deref().unwrap_or("None")
    );
    if text.contains("Profile accrual is required") {
        SkypeError::LoginWall { action: text }
    } else {
        SkypeError::LoginRefused(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_skpys_with_escaped_credentials() {
        let body = envelope("fred.adams@example.com", "p&ss<w>rd");
        assert!(body.contains("<wsse:Username>fred.adams@example.com</wsse:Username>"));
        assert!(body.contains("<wsse:Password>p&amp;ss&lt;w&gt;rd</wsse:Password>"));
        let capture = include_str!("../../../tests/data/soap-envelope.txt");
        assert_eq!(body, capture);
    }

    #[test]
    fn reads_the_token_with_any_prefix() {
        let xml = r#"<S:Envelope xmlns:S="s" xmlns:wsse="w"><S:Body><wst:RequestSecurityTokenResponseCollection xmlns:wst="t"><wst:RequestSecurityTokenResponse><wst:RequestedSecurityToken><wsse:BinarySecurityToken Id="Compact0">t=abc&amp;p=</wsse:BinarySecurityToken></wst:RequestedSecurityToken></wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection></S:Body></S:Envelope>"#;
        assert_eq!(security_token(xml).unwrap().expose_secret(), "t=abc&p=");
        let other_prefix = r#"<e><x:BinarySecurityToken>tok</x:BinarySecurityToken></e>"#;
        assert_eq!(security_token(other_prefix).unwrap().expose_secret(), "tok");
    }

    #[test]
    fn a_fault_is_a_refusal_with_its_text() {
        let xml = r#"<S:Envelope xmlns:S="s"><S:Body><S:Fault><faultcode>wsse:FailedAuthentication</faultcode><faultstring>Authentication Failure</faultstring></S:Fault></S:Body></S:Envelope>"#;
        assert_eq!(
            security_token(xml).unwrap_err(),
            SkypeError::LoginRefused("wsse:FailedAuthentication - Authentication Failure".into())
        );
        let accrual = xml.replace("Authentication Failure", "Profile accrual is required");
        assert!(matches!(
            security_token(&accrual).unwrap_err(),
            SkypeError::LoginWall { .. }
        ));
    }

    #[test]
    fn neither_token_nor_fault_is_a_protocol_error() {
        assert!(matches!(
            security_token("<a><b>x</b></a>").unwrap_err(),
            SkypeError::Protocol(_)
        ));
        assert!(matches!(
            security_token("not xml <<<").unwrap_err(),
            SkypeError::Protocol(_)
        ));
    }

    #[test]
    fn edge_answers() {
        let ok = serde_json::json!({"skypetoken": "tok", "expiresIn": 86400});
        assert_eq!(edge_token(&ok).unwrap().expires_in, 86400);
        let refused =
            serde_json::json!({"status": {"code": 40120, "text": "Authentication failed."}});
        assert_eq!(
            edge_token(&refused).err().unwrap(),
            SkypeError::LoginRefused("40120 - Authentication failed.".into())
        );
        let no_expiry = serde_json::json!({"skypetoken": "tok"});
        assert!(matches!(
            edge_token(&no_expiry).err().unwrap(),
            SkypeError::Protocol(_)
        ));
    }
}
