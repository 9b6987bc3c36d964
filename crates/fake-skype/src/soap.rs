//! `POST {live}/RST.srf`: the WS-Trust password login SkPy uses for e-mail
//! addresses. The envelope is parsed and checked element by element (with
//! namespaces) against the capture; the answer is the real service's
//! `RequestSecurityTokenResponseCollection` or an `S:Fault`.

use super::faults::PageFault;
use super::state::{State, now_secs};
use super::wire::{Req, Resp, iso8601, xml_escape};
use super::xml::{self, Element};

const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSSE: &str = "http://schemas.xmlsoap.org/ws/2003/06/secext";
const WSP: &str = "http://schemas.xmlsoap.org/ws/2002/12/policy";
const WSA: &str = "http://schemas.xmlsoap.org/ws/2004/03/addressing";
const WST: &str = "http://schemas.xmlsoap.org/ws/2004/04/trust";
const PS: &str = "http://schemas.microsoft.com/Passport/SoapServices/PPCRL";

const ISSUE: &str = "http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue";
const APPLIES_TO: &str = "wl.skype.com";
const POLICY: &str = "MBI_SSL";

/// The parts of the request the service acts on.
struct TokenRequest {
    username: String,
    password: String,
}

/// Handle one `RST.srf` request.
pub(crate) fn request_security_token(
    state: &mut State,
    req: &Req,
    page_fault: Option<PageFault>,
) -> Resp {
    let request = match std::str::from_utf8(&req.body)
        .map_err(|_| "body is not UTF-8".to_string())
        .and_then(xml::parse)
        .and_then(|root| read_request(&root))
    {
        Ok(request) => request,
        Err(why) => return fault(400, "S:Client", &format!("Invalid request: {why}")),
    };
    let account = state
        .find_account(&request.username)
        .filter(|&i| state.accounts[i].password == request.password);
    let Some(account) = account else {
        return fault(200, "wsse:FailedAuthentication", "Authentication Failure");
    };
    match page_fault {
        Some(PageFault::LoginWall) => {
            return fault(
                200,
                "wsse:FailedAuthentication",
                "Profile accrual is required",
            );
        }
        Some(PageFault::TwoFactor) => {
            return fault(
                200,
                "wsse:FailedAuthentication",
                "Two-step verification is required for this account",
            );
        }
        Some(PageFault::NoTField) => return Resp::xml(200, response_without_token()),
        Some(PageFault::NeedsOpid) | None => {}
    }
    let token = state.rng.security_token();
    state.security_tokens.insert(token.clone(), account);
    Resp::xml(200, token_response(&token))
}

/// Check the envelope has exactly the capture's structure and values.
fn read_request(root: &Element) -> Result<TokenRequest, String> {
    if root.namespace.as_deref() != Some(SOAP_ENV) || root.name != "Envelope" {
        return Err(format!("root must be {{{SOAP_ENV}}}Envelope"));
    }
    let top = root.expect_children(&[(SOAP_ENV, "Header"), (SOAP_ENV, "Body")])?;
    let security = top[0].expect_children(&[(WSSE, "Security")])?;
    let username_token = security[0].expect_children(&[(WSSE, "UsernameToken")])?;
    let credentials =
        username_token[0].expect_children(&[(WSSE, "Username"), (WSSE, "Password")])?;
    let username = credentials[0].leaf_text()?.to_string();
    let password = credentials[1].leaf_text()?.to_string();
    if username.is_empty() {
        return Err("empty Username".into());
    }

    let multiple = top[1].expect_children(&[(PS, "RequestMultipleSecurityTokens")])?;
    let rst = multiple[0].expect_children(&[(WST, "RequestSecurityToken")])?;
    let parts = rst[0].expect_children(&[
        (WST, "RequestType"),
        (WSP, "AppliesTo"),
        (WSSE, "PolicyReference"),
    ])?;
    let request_type = parts[0].leaf_text()?;
    if request_type != ISSUE {
        return Err(format!("RequestType must be {ISSUE}, got {request_type:?}"));
    }
    let reference = parts[1].expect_children(&[(WSA, "EndpointReference")])?;
    let address = reference[0].expect_children(&[(WSA, "Address")])?;
    let address = address[0].leaf_text()?;
    if address != APPLIES_TO {
        return Err(format!(
            "AppliesTo address must be {APPLIES_TO}, got {address:?}"
        ));
    }
    let policy = parts[2];
    if policy.attribute("URI") != Some(POLICY) {
        return Err(format!("PolicyReference URI must be {POLICY}"));
    }
    if !policy.leaf_text()?.trim().is_empty() {
        return Err("PolicyReference must be empty".into());
    }
    Ok(TokenRequest { username, password })
}

const RESPONSE_NAMESPACES: &str = concat!(
    r#"xmlns:S="http://www.w3.org/2003/05/soap-envelope" "#,
    r#"xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" "#,
    r#"xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" "#,
    r#"xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" "#,
    r#"xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust" "#,
    r#"xmlns:wsa="http://www.w3.org/2005/08/addressing" "#,
    r#"xmlns:psf="http://schemas.microsoft.com/Passport/SoapServices/SOAPFault""#,
);

fn passport_header(authstate: &str, reqstatus: &str) -> String {
    let now = iso8601(now_secs());
    format!(
        "<S:Header><psf:pp><psf:serverVersion>1</psf:serverVersion>\
         <psf:authstate>{authstate}</psf:authstate><psf:reqstatus>{reqstatus}</psf:reqstatus>\
         <psf:serverInfo Path=\"Live1\" RollingUpgradeState=\"ExclusiveNew\" LocVersion=\"0\" \
         ServerTime=\"{now}\">BN1NXXXX 2016.01.01.00.00.00</psf:serverInfo>\
         <psf:cookies/><psf:response/></psf:pp></S:Header>"
    )
}

fn token_response(token: &str) -> String {
    token_collection(&format!(
        "<wst:RequestedSecurityToken><wsse:BinarySecurityToken Id=\"Compact0\">{}\
         </wsse:BinarySecurityToken></wst:RequestedSecurityToken>",
        xml_escape(token)
    ))
}

/// A well-formed answer that holds neither a token nor a fault.
fn response_without_token() -> String {
    token_collection("")
}

fn token_collection(requested_token: &str) -> String {
    let created = iso8601(now_secs());
    let expires = iso8601(now_secs() + 86_400);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><S:Envelope {RESPONSE_NAMESPACES}>{header}\
         <S:Body><wst:RequestSecurityTokenResponseCollection>\
         <wst:RequestSecurityTokenResponse><wst:TokenType>urn:passport:compact</wst:TokenType>\
         <wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{APPLIES_TO}</wsa:Address>\
         </wsa:EndpointReference></wsp:AppliesTo>\
         <wst:Lifetime><wsu:Created>{created}</wsu:Created><wsu:Expires>{expires}</wsu:Expires></wst:Lifetime>\
         {requested_token}\
         <wst:RequestedAttachedReference><wsse:SecurityTokenReference>\
         <wsse:Reference URI=\"/Ej6qsdnCHzBUdP2nCpXkFeyF+A=\"></wsse:Reference>\
         </wsse:SecurityTokenReference></wst:RequestedAttachedReference>\
         </wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection>\
         </S:Body></S:Envelope>",
        header = passport_header("0x48803", "0x0"),
    )
}

/// An `S:Fault` answer with the given code and string.
fn fault(status: u16, code: &str, text: &str) -> Resp {
    Resp::xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\" ?><S:Envelope {RESPONSE_NAMESPACES}>{header}\
             <S:Body><S:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>\
             <psf:error><psf:value>0x80048821</psf:value><psf:internalerror><psf:code>0x80041012</psf:code>\
             <psf:text>{text}</psf:text></psf:internalerror></psf:error></S:Fault></S:Body></S:Envelope>",
            header = passport_header("0x80048800", "0x80048821"),
            code = xml_escape(code),
            text = xml_escape(text),
        ),
    )
}
