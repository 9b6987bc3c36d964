//! Tests of the strict fake Skype itself, driven with raw HTTP requests shaped
//! exactly like SkPy's (the wire format of `docs/skype-protocol.md`; one
//! request SkPy sent is kept as `tests/data/soap-envelope.txt`).
//!
//! If the fake accepted something the real service refused, every client
//! test built on it would prove nothing; so beyond the happy paths, most
//! tests here are about what the fake rejects, and how.

use std::time::{Duration, Instant};

use fake_skype::lock_and_key;
use fake_skype::{Account, FakeSkype, FakeUrls, Fault, Op};
use regex_lite::Regex;
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

const UA: &str = "SkPy";
const CLIENT_INFO: &str = "os=Windows; osVer=10; proc=x86; lcid=en-US; deviceType=1; country=US; clientName=skype4life; clientVer=1418/9.99.0.999//skype4life";
const CONV: &str = "19:cccccccccccccccccccccccccccccccc@thread.skype";
const FRED_EMAIL: &str = "fred.adams@example.com";
const FRED_PASSWORD: &str = "p&ss<w>rd";
/// The LockAndKey header of the capture (a real SkPy computation).
const CAPTURE_LOCK_AND_KEY: &str = "appId=msmsgs@msnmsgr.com; time=1795619355; lockAndKeyResponse=558305cefad84afe1e0bacdaea03fc49";
const PRESENCE_DOC: &str = r#"{"id": "messagingService", "type": "EndpointPresenceDoc", "selfLink": "uri", "privateInfo": {"epname": "skype"}, "publicInfo": {"capabilities": "", "type": 1, "skypeNameVersion": "skype.com", "nodeInfo": "xx", "version": "908/1.30.0.128"}}"#;
const WREPLY: &str = "https://lw.skype.com/login/oauth/proxy?client_id=578134&site_name=lw.skype.com&redirect_uri=https%3A%2F%2Fweb.skype.com%2F";

// ---------------------------------------------------------------- harness

/// A running fake with Fred's account, and a client that speaks like SkPy.
struct Harness {
    fake: FakeSkype,
    urls: FakeUrls,
    http: Client,
}

/// A logged-in, registered session.
struct Session {
    skype_token: String,
    /// `registrationToken=<base64>`, prefix kept.
    registration: String,
    msgs: String,
    endpoint: String,
}

/// A web-flow start: PPFT and the two cookies.
struct WebStart {
    ppft: String,
    msprequ: String,
    mspok: String,
}

impl Harness {
    async fn new() -> Harness {
        let fake = FakeSkype::start().await;
        fake.add_account(Account::fred());
        let http = Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        Harness {
            urls: fake.urls(),
            fake,
            http,
        }
    }

    /// A request with SkPy's User-Agent and the given headers.
    fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method, url).header("User-Agent", UA);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
    }

    async fn soap(&self, username: &str, password: &str) -> Response {
        self.soap_raw(soap_envelope(username, password)).await
    }

    async fn soap_raw(&self, body: String) -> Response {
        self.request(Method::POST, &format!("{}/RST.srf", self.urls.live), &[])
            .body(body)
            .send()
            .await
            .expect("soap request")
    }

    /// A SOAP login as Fred: the security token `t=...&p=`.
    async fn security_token(&self) -> String {
        let xml = self
            .soap(FRED_EMAIL, FRED_PASSWORD)
            .await
            .text()
            .await
            .unwrap();
        binary_security_token(&xml).expect("a BinarySecurityToken")
    }

    async fn edge(&self, security_token: &str) -> Response {
        self.request(
            Method::POST,
            &format!("{}/rps/v1/rps/skypetoken", self.urls.edge),
            &[],
        )
        .form(&[
            ("partner", "999"),
            ("access_token", security_token),
            ("scopes", "client"),
        ])
        .send()
        .await
        .expect("edge request")
    }

    /// SOAP login + edge exchange: a fresh skype token for Fred.
    async fn skype_token(&self) -> String {
        let security_token = self.security_token().await;
        let body: Value = self.edge(&security_token).await.json().await.unwrap();
        body["skypetoken"].as_str().expect("skypetoken").to_string()
    }

    async fn profile(&self, headers: &[(&str, &str)]) -> Response {
        self.request(
            Method::GET,
            &format!("{}/users/self/profile", self.urls.api),
            headers,
        )
        .send()
        .await
        .unwrap()
    }

    async fn register_with(&self, msgs: &str, headers: &[(&str, &str)], body: &str) -> Response {
        self.request(Method::POST, &format!("{msgs}/users/ME/endpoints"), headers)
            .body(body.to_string())
            .send()
            .await
            .expect("register request")
    }

    /// Register exactly as SkPy does, at `msgs`.
    async fn register(&self, msgs: &str, skype_token: &str) -> Response {
        let authentication = format!("skypetoken={skype_token}");
        self.register_with(
            msgs,
            &registration_headers(&authentication, &current_lock_and_key()),
            r#"{"endpointFeatures": "Agent"}"#,
        )
        .await
    }

    /// Log in and register, following the redirect-as-404 like SkPy.
    async fn session(&self) -> Session {
        let skype_token = self.skype_token().await;
        self.session_for(skype_token).await
    }

    async fn session_for(&self, skype_token: String) -> Session {
        let mut msgs = self.urls.msgs.clone();
        for _ in 0..3 {
            let resp = self.register(&msgs, &skype_token).await;
            let location = header(&resp, "location").expect("Location");
            let (host, endpoint) = parse_endpoint_location(&location);
            if host != msgs {
                msgs = host;
                continue;
            }
            let set = header(&resp, "set-registrationtoken").expect("Set-RegistrationToken");
            let registration = set.split(';').next().unwrap().to_string();
            return Session {
                skype_token,
                registration,
                msgs,
                endpoint: endpoint.expect("endpoint id in Location"),
            };
        }
        panic!("registration did not settle on a host");
    }

    /// The headers SkPy sends on a message post.
    fn message_headers<'a>(&self, session: &'a Session) -> Vec<(&'static str, &'a str)> {
        vec![
            ("ClientInfo", CLIENT_INFO),
            ("RegistrationToken", session.registration.as_str()),
            ("Content-Type", "application/json"),
        ]
    }

    async fn send_with(
        &self,
        msgs: &str,
        conversation: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Response {
        self.request(
            Method::POST,
            &format!("{msgs}/users/ME/conversations/{conversation}/messages"),
            headers,
        )
        .body(body)
        .send()
        .await
        .expect("send request")
    }

    async fn send(&self, session: &Session, conversation: &str, body: &Value) -> Response {
        let headers = self.message_headers(session);
        self.send_with(&session.msgs, conversation, &headers, body.to_string())
            .await
    }

    async fn edit(&self, session: &Session, id: &str, body: &Value) -> Response {
        self.request(
            Method::PUT,
            &format!(
                "{}/users/ME/conversations/{CONV}/messages/{id}",
                session.msgs
            ),
            &[
                ("RegistrationToken", session.registration.as_str()),
                ("Content-Type", "application/json"),
            ],
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
    }

    async fn delete(&self, session: &Session, id: &str) -> Response {
        self.request(
            Method::DELETE,
            &format!(
                "{}/users/ME/conversations/{CONV}/messages/{id}",
                session.msgs
            ),
            &[("RegistrationToken", session.registration.as_str())],
        )
        .send()
        .await
        .unwrap()
    }

    async fn web_start(&self) -> WebStart {
        let resp = self
            .request(
                Method::GET,
                &format!("{}/login/oauth/microsoft", self.urls.login),
                &[],
            )
            .query(&[
                ("client_id", "578134"),
                ("redirect_uri", "https://web.skype.com"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let cookie = |name: &str| {
            cookies
                .iter()
                .find_map(|c| c.strip_prefix(&format!("{name}=")))
                .map(|c| c.split(';').next().unwrap().to_string())
                .unwrap_or_else(|| panic!("cookie {name} in {cookies:?}"))
        };
        let (msprequ, mspok) = (cookie("MSPRequ"), cookie("MSPOK"));
        let page = resp.text().await.unwrap();
        let ppft = capture(
            r#"<input type="hidden" name="PPFT" id="i0327" value="([^"]+)"/>"#,
            &page,
        )
        .expect("PPFT input");
        WebStart {
            ppft: html_unescape(&ppft),
            msprequ,
            mspok,
        }
    }

    async fn web_post(
        &self,
        start: &WebStart,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Response {
        let cookie = cookie.map(str::to_string).unwrap_or_else(|| {
            format!(
                "MSPRequ={}; MSPOK={}; CkTst=G1795619355669",
                start.msprequ, start.mspok
            )
        });
        self.request(
            Method::POST,
            &format!("{}/ppsecure/post.srf", self.urls.live),
            &[("Cookie", &cookie)],
        )
        .query(&[("wa", "wsignin1.0"), ("wp", "MBI_SSL"), ("wreply", WREPLY)])
        .form(form)
        .send()
        .await
        .unwrap()
    }

    async fn web_password(&self, start: &WebStart, login: &str, password: &str) -> Response {
        self.web_post(
            start,
            None,
            &[
                ("login", login),
                ("passwd", password),
                ("PPFT", &start.ppft),
                ("loginoptions", "3"),
            ],
        )
        .await
    }

    /// The opid follow-up post.
    async fn web_opid(&self, start: &WebStart, opid: &str) -> Response {
        self.web_post(
            start,
            None,
            &[
                ("opid", opid),
                ("PPFT", &start.ppft),
                ("site_name", "lw.skype.com"),
                ("oauthPartner", "999"),
                ("client_id", "578134"),
                ("redirect_uri", "https://web.skype.com"),
                ("type", "28"),
            ],
        )
        .await
    }

    async fn web_token(&self, t: &str) -> Response {
        self.request(
            Method::POST,
            &format!("{}/login/microsoft", self.urls.login),
            &[],
        )
        .query(&[
            ("client_id", "578134"),
            ("redirect_uri", "https://web.skype.com"),
        ])
        .form(&[
            ("t", t),
            ("client_id", "578134"),
            ("oauthPartner", "999"),
            ("site_name", "lw.skype.com"),
            ("redirect_uri", "https://web.skype.com"),
        ])
        .send()
        .await
        .unwrap()
    }

    async fn asm_create(&self, skype_token: &str, body: &Value) -> Response {
        let authorization = format!("skype_token {skype_token}");
        self.request(
            Method::POST,
            &self.urls.asm,
            &[
                ("X-Client-Version", "0/0.0.0.0"),
                ("Authorization", &authorization),
                ("Content-Type", "application/json"),
            ],
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
    }

    async fn asm_upload(&self, skype_token: &str, id: &str, view: &str, bytes: &[u8]) -> Response {
        let authorization = format!("skype_token {skype_token}");
        self.request(
            Method::PUT,
            &format!("{}/{id}/content/{view}", self.urls.asm),
            &[("Authorization", &authorization)],
        )
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
    }
}

/// SkPy's SOAP envelope, character for character, with XML escaping.
fn soap_envelope(username: &str, password: &str) -> String {
    soap_template()
        .replace("{username}", &xml_escape(username))
        .replace("{password}", &xml_escape(password))
}

/// SkPy's envelope as captured, with placeholders for the credentials.
fn soap_template() -> String {
    include_str!("../../../tests/data/soap-envelope.txt")
        .replace("fred.adams@example.com", "{username}")
        .replace("p&amp;ss&lt;w&gt;rd", "{password}")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn binary_security_token(xml: &str) -> Option<String> {
    capture(
        r#"<wsse:BinarySecurityToken Id="Compact0">([^<]*)</wsse:BinarySecurityToken>"#,
        xml,
    )
    .map(|t| html_unescape(&t))
}

/// Fail unless `xml` parses as a whole (a client's XML parser must cope).
fn assert_well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed: {e}\n{xml}"),
        }
    }
}

fn capture(pattern: &str, text: &str) -> Option<String> {
    Regex::new(pattern)
        .unwrap()
        .captures(text)
        .map(|c| c[1].to_string())
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn current_lock_and_key() -> String {
    let time = now_secs().to_string();
    format!(
        "appId=msmsgs@msnmsgr.com; time={time}; lockAndKeyResponse={}",
        lock_and_key::response(&time)
    )
}

fn registration_headers<'a>(
    authentication: &'a str,
    lock: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("LockAndKey", lock),
        ("Authentication", authentication),
        ("BehaviorOverride", "redirectAs404"),
        ("Content-Type", "application/json"),
    ]
}

/// `(msgs host, endpoint id)` from a registration `Location`.
fn parse_endpoint_location(location: &str) -> (String, Option<String>) {
    let re =
        Regex::new(r"^(https?://[^/]+/v1)/users/ME/endpoints(?:/%7B([0-9a-f-]{36})%7D)?$").unwrap();
    let c = re
        .captures(location)
        .unwrap_or_else(|| panic!("unexpected Location {location}"));
    (
        c[1].to_string(),
        c.get(2).map(|m| format!("{{{}}}", m.as_str())),
    )
}

fn text_message(content: &str, clientmessageid: &str) -> Value {
    json!({
        "contenttype": "text",
        "messagetype": "Text",
        "content": content,
        "imdisplayname": "Fred Adams",
        "Has-Mentions": "false",
        "clientmessageid": clientmessageid,
    })
}

async fn json_of(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

async fn text_of(resp: Response) -> (u16, String) {
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

// ---------------------------------------------------------------- LockAndKey

#[test]
fn lock_and_key_matches_the_protocol_vectors() {
    let vectors = [
        ("1718093263", "e9a72ea6428574f6a0c38e365dc3d061"),
        ("1451606400", "362420c48750c8e5db6ec9bcdf79e32c"),
        ("1700000000", "abe5fadd8fa2021a9041e263584ea4ab"),
        ("0", "7e30ab8c9305229bc07f71417ab07032"),
        ("12345678901234", "dc9cad7e610b5bc6f722722accd9d46e"),
        // From the capture: SkPy's own header.
        ("1795619355", "558305cefad84afe1e0bacdaea03fc49"),
    ];
    for (challenge, expected) in vectors {
        assert_eq!(
            lock_and_key::response(challenge),
            expected,
            "challenge {challenge}"
        );
    }
}

#[test]
fn lock_and_key_intermediates_match_the_protocol_doc() {
    assert_eq!(
        lock_and_key::clear_text("1451606400"),
        b"1451606400msmsgs@msnmsgr.com0000".to_vec()
    );
    assert_eq!(
        lock_and_key::key_words("1451606400"),
        [0xd6ec57be, 0xbcdd2552, 0xae051d53, 0x75f60c0a]
    );
    assert_eq!(
        lock_and_key::mac_and_sum("1451606400"),
        (0x12cc7388, 0x591575d5)
    );
    // Already a multiple of 8: a full block of padding.
    let clear = lock_and_key::clear_text("123456");
    assert_eq!(clear.len(), 32);
    assert!(clear.ends_with(b"msmsgs@msnmsgr.com00000000"));
}

#[test]
fn lock_and_key_header_must_have_skpys_shape() {
    assert!(lock_and_key::verify_header(CAPTURE_LOCK_AND_KEY).is_ok());
    let bad = [
        "appId=msmsgs@msnmsgr.com; time=1795619355",
        "appId=other@example.com; time=1795619355; lockAndKeyResponse=558305cefad84afe1e0bacdaea03fc49",
        "appId=msmsgs@msnmsgr.com; time=abc; lockAndKeyResponse=558305cefad84afe1e0bacdaea03fc49",
        "appId=msmsgs@msnmsgr.com; time=1795619355; lockAndKeyResponse=558305CEFAD84AFE1E0BACDAEA03FC49",
        "time=1795619355; appId=msmsgs@msnmsgr.com; lockAndKeyResponse=558305cefad84afe1e0bacdaea03fc49",
    ];
    for header in bad {
        assert!(
            matches!(
                lock_and_key::verify_header(header),
                Err(lock_and_key::LockAndKeyError::Malformed(_))
            ),
            "{header}"
        );
    }
    assert_eq!(
        lock_and_key::verify_header(
            "appId=msmsgs@msnmsgr.com; time=1795619356; lockAndKeyResponse=558305cefad84afe1e0bacdaea03fc49"
        ),
        Err(lock_and_key::LockAndKeyError::WrongMac {
            time: "1795619356".into()
        })
    );
}

proptest::proptest! {
    /// Any challenge's own MAC passes, and changing one hex digit fails.
    #[test]
    fn lock_and_key_accepts_exactly_the_right_mac(time in 0u64..100_000_000_000_000, flip in 0usize..32) {
        let time = time.to_string();
        let mac = lock_and_key::response(&time);
        proptest::prop_assert_eq!(mac.len(), 32);
        let header = format!("appId=msmsgs@msnmsgr.com; time={time}; lockAndKeyResponse={mac}");
        proptest::prop_assert!(lock_and_key::verify_header(&header).is_ok());
        let mut wrong: Vec<char> = mac.chars().collect();
        wrong[flip] = if wrong[flip] == '0' { '1' } else { '0' };
        let wrong: String = wrong.into_iter().collect();
        let header = format!("appId=msmsgs@msnmsgr.com; time={time}; lockAndKeyResponse={wrong}");
        proptest::prop_assert!(
            matches!(
                lock_and_key::verify_header(&header),
                Err(lock_and_key::LockAndKeyError::WrongMac { .. })
            ),
            "a wrong MAC was accepted"
        );
    }
}

// ---------------------------------------------------------------- happy paths

#[tokio::test]
async fn soap_login_register_and_message_lifecycle_as_skpy_does_it() {
    let h = Harness::new().await;

    // SOAP: the password holds & < >, escaped in the envelope.
    let resp = h.soap(FRED_EMAIL, FRED_PASSWORD).await;
    let (status, xml) = text_of(resp).await;
    assert_eq!(status, 200);
    assert!(xml.contains("<wst:RequestSecurityTokenResponseCollection"));
    assert!(xml.contains("&amp;p=</wsse:BinarySecurityToken>"), "{xml}");
    assert_well_formed(&xml);
    let security_token = binary_security_token(&xml).unwrap();
    assert!(security_token.starts_with("t=") && security_token.ends_with("&p="));

    // Edge: the security token, form-encoded.
    let (status, edge) = json_of(h.edge(&security_token).await).await;
    assert_eq!(status, 200);
    let skype_token = edge["skypetoken"].as_str().unwrap().to_string();
    assert!(skype_token.len() > 300, "{skype_token}");
    assert_eq!(edge["expiresIn"], 86400);
    assert_eq!(edge["skypeid"], "fred.2");
    assert_eq!(h.fake.logins(), 1);

    // Profile.
    let (status, profile) = json_of(h.profile(&[("X-SkypeToken", &skype_token)]).await).await;
    assert_eq!(status, 200);
    assert_eq!(profile["username"], "fred.2");
    assert_eq!(profile["firstname"], "Fred");
    assert_eq!(profile["lastname"], "Adams");

    // Registration on the primary host: 404 + Location to the home host, no token.
    let authentication = format!("skypetoken={skype_token}");
    let headers = registration_headers(&authentication, CAPTURE_LOCK_AND_KEY);
    let body = r#"{"endpointFeatures": "Agent"}"#;
    let resp = h.register_with(&h.urls.msgs, &headers, body).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        header(&resp, "location").unwrap(),
        format!("{}/users/ME/endpoints", h.fake.home_msgs_host())
    );
    assert!(header(&resp, "set-registrationtoken").is_none());
    assert_eq!(h.fake.registrations(), 0);

    // ... and on the home host: the token.
    let resp = h
        .register_with(&h.fake.home_msgs_host(), &headers, body)
        .await;
    assert_eq!(resp.status(), 200);
    let location = header(&resp, "location").unwrap();
    let (host, endpoint) = parse_endpoint_location(&location);
    assert_eq!(host, h.fake.home_msgs_host());
    let endpoint = endpoint.unwrap();
    let set = header(&resp, "set-registrationtoken").unwrap();
    let re = Regex::new(
        r"^registrationToken=([A-Za-z0-9+/=]+); expires=([0-9]+); endpointId=(\{[0-9a-f-]{36}\})$",
    )
    .unwrap();
    let c = re.captures(&set).unwrap_or_else(|| panic!("{set}"));
    let expires: u64 = c[2].parse().unwrap();
    assert!(expires.abs_diff(now_secs() + 86_400) < 10);
    assert_eq!(&c[3], endpoint);
    let registration = format!("registrationToken={}", &c[1]);
    let (_, listed) = json_of(resp).await;
    assert_eq!(listed[0]["id"], endpoint.as_str());
    assert_eq!(h.fake.registrations(), 1);

    let session = Session {
        skype_token,
        registration,
        msgs: host,
        endpoint,
    };

    // Presence docs.
    let guid = session.endpoint.trim_matches(|c| c == '{' || c == '}');
    let resp = h
        .request(
            Method::PUT,
            &format!(
                "{}/users/ME/endpoints/%7B{guid}%7D/presenceDocs/messagingService",
                session.msgs
            ),
            &[
                ("RegistrationToken", &session.registration),
                ("Content-Type", "application/json"),
            ],
        )
        .body(PRESENCE_DOC)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = h
        .request(
            Method::GET,
            &format!(
                "{}/users/ME/presenceDocs/messagingService?view=expanded",
                session.msgs
            ),
            &[("RegistrationToken", &session.registration)],
        )
        .send()
        .await
        .unwrap();
    let (status, doc) = json_of(resp).await;
    assert_eq!(status, 200);
    assert!(doc.is_object());

    // Plain, rich with a mention, /me, contacts, typing: bodies of the capture.
    let plain = r#"{"contenttype": "text", "messagetype": "Text", "content": "Hello <world> & co", "imdisplayname": "Fred Adams", "Has-Mentions": "false", "clientmessageid": "1795619355675"}"#;
    let rich = r#"{"contenttype": "text", "messagetype": "RichText", "content": "<b raw_pre=\"*\" raw_post=\"*\">Bold</b> <at id=\"8:joe.4\">Joe Bloggs</at>", "imdisplayname": "Fred Adams", "Has-Mentions": "true", "clientmessageid": "1795619355676"}"#;
    let action = r#"{"contenttype": "text", "messagetype": "Text", "content": "Fred Adams waves", "imdisplayname": "Fred Adams", "Has-Mentions": "false", "skypeemoteoffset": 11, "clientmessageid": "1795619355677"}"#;
    let contacts = r#"{"contenttype": "text", "messagetype": "RichText/Contacts", "content": "<contacts><c t=\"s\" s=\"joe.4\" f=\"Joe Bloggs\"/></contacts>", "clientmessageid": "1795619355679"}"#;
    let typing = r#"{"contenttype": "text", "messagetype": "Control/Typing", "content": null, "clientmessageid": "1795619355694"}"#;
    let headers = h.message_headers(&session);
    let mut ids = Vec::new();
    for body in [plain, rich, action, contacts, typing] {
        let resp = h
            .send_with(&session.msgs, CONV, &headers, body.to_string())
            .await;
        assert_eq!(resp.status(), 201, "{body}");
        let location = header(&resp, "location").unwrap();
        let (_, arrival) = json_of(resp).await;
        let id = location.rsplit('/').next().unwrap().to_string();
        assert!(location.starts_with(&format!(
            "{}/users/ME/conversations/{CONV}/messages/",
            session.msgs
        )));
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
        assert!(arrival["OriginalArrivalTime"].as_u64().unwrap() > 0);
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "server ids are unique");

    let stored = h.fake.messages(CONV);
    assert_eq!(stored.len(), 4, "typing is not a message");
    assert_eq!(stored[0].content.as_deref(), Some("Hello <world> & co"));
    assert_eq!(stored[0].sender, "fred.2");
    assert_eq!(stored[1].has_mentions.as_deref(), Some("true"));
    assert_eq!(stored[2].skypeemoteoffset, Some(11));
    assert_eq!(stored[3].messagetype, "RichText/Contacts");

    // Edit and delete the plain message (no ClientInfo, as in the capture).
    let edit = json!({"contenttype": "text", "messagetype": "Text", "content": "edited text", "imdisplayname": "Fred Adams", "Has-Mentions": "false"});
    let (status, body) = json_of(h.edit(&session, &ids[0], &edit).await).await;
    assert_eq!(status, 200);
    assert!(body["edittime"].as_u64().is_some());
    let (status, body) = json_of(h.delete(&session, &ids[0]).await).await;
    assert_eq!(status, 200);
    assert!(body["deletetime"].as_u64().is_some());
    let first = &h.fake.messages(CONV)[0];
    assert!(first.edited && first.deleted);
    assert_eq!(first.content.as_deref(), Some("edited text"));

    // Every request was recorded with its op, host and status.
    let requests = h.fake.requests();
    assert_eq!(h.fake.count(Op::Register), 2);
    assert_eq!(h.fake.count(Op::Send), 5);
    let register: Vec<_> = requests
        .iter()
        .filter(|r| r.op == Some(Op::Register))
        .collect();
    assert_eq!(register[0].host, "primary");
    assert_eq!(register[0].status, 404);
    assert_eq!(register[1].host, "home");
    assert_eq!(
        register[1].header("behavioroverride"),
        Some("redirectAs404")
    );
    let soap = &requests[0];
    assert_eq!(soap.op, Some(Op::Soap));
    assert!(soap.body_str().contains("p&amp;ss&lt;w&gt;rd"));
}

#[tokio::test]
async fn soap_accepts_the_skype_name_too() {
    let h = Harness::new().await;
    let (status, xml) = text_of(h.soap("fred.2", FRED_PASSWORD).await).await;
    assert_eq!(status, 200);
    assert!(binary_security_token(&xml).is_some());
}

#[tokio::test]
async fn web_flow_logs_in_with_ppft_cookies_and_t() {
    let h = Harness::new().await;
    let start = h.web_start().await;
    let resp = h.web_password(&start, "fred.2", FRED_PASSWORD).await;
    let (status, page) = text_of(resp).await;
    assert_eq!(status, 200);
    // The success page also has an fmHF form: `t` must be checked first.
    assert!(page.contains("name=\"fmHF\""));
    let t = capture(
        r#"<input type="hidden" name="t" id="t" value="([^"]+)">"#,
        &page,
    )
    .unwrap();
    let t = html_unescape(&t);

    let (status, page) = text_of(h.web_token(&t).await).await;
    assert_eq!(status, 200);
    let token = capture(
        r#"<input type="hidden" name="skypetoken" value="([^"]+)"/>"#,
        &page,
    )
    .unwrap();
    let expires = capture(
        r#"<input type="hidden" name="expires_in" value="([0-9]+)"/>"#,
        &page,
    )
    .unwrap();
    assert_eq!(expires, "86400");
    assert_eq!(h.fake.logins(), 1);
    let resp = h.profile(&[("X-SkypeToken", &token)]).await;
    assert_eq!(resp.status(), 200);

    // `t` is single use.
    assert_eq!(h.web_token(&t).await.status(), 401);
    assert_eq!(h.fake.logins(), 1);
    // So is the PPFT once the login completed.
    let resp = h.web_password(&start, "fred.2", FRED_PASSWORD).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn web_flow_with_an_opid_round() {
    let h = Harness::new().await;
    h.fake.inject(Op::WebPost, Fault::NeedsOpid, 1);
    let start = h.web_start().await;
    let (status, page) = text_of(h.web_password(&start, FRED_EMAIL, FRED_PASSWORD).await).await;
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"t\""));
    let opid = capture(r"(?i)opid=([A-Z0-9]+)", &page).expect("opid in page");

    // A wrong opid is refused; the right one gives t.
    assert_eq!(h.web_opid(&start, "WRONG0000").await.status(), 400);
    let resp = h.web_opid(&start, &opid).await;
    let (status, page) = text_of(resp).await;
    assert_eq!(status, 200);
    let t = capture(r#"name="t" id="t" value="([^"]+)""#, &page).expect("t after opid");
    assert_eq!(h.web_token(&html_unescape(&t)).await.status(), 200);
    // The opid round cannot be replayed.
    assert_eq!(h.web_opid(&start, &opid).await.status(), 400);
    assert_eq!(h.fake.count(Op::WebPost), 4);
}

// ---------------------------------------------------------------- login rejections

#[tokio::test]
async fn soap_wrong_password_is_an_authentication_fault() {
    let h = Harness::new().await;
    let (status, xml) = text_of(h.soap(FRED_EMAIL, "password").await).await;
    assert_eq!(status, 200);
    assert!(xml.contains(
        "<S:Fault><faultcode>wsse:FailedAuthentication</faultcode><faultstring>Authentication Failure</faultstring>"
    ));
    assert!(binary_security_token(&xml).is_none());
    assert_well_formed(&xml);
    // An unknown user is the same fault.
    let (_, xml) = text_of(h.soap("nobody@example.com", FRED_PASSWORD).await).await;
    assert!(xml.contains("Authentication Failure"));
}

#[tokio::test]
async fn soap_rejects_unescaped_or_misshapen_envelopes() {
    let h = Harness::new().await;
    // The password not XML-escaped: not well-formed.
    let unescaped = soap_template()
        .replace("{username}", FRED_EMAIL)
        .replace("{password}", FRED_PASSWORD);
    let cases = [
        ("not xml", "this is not xml".to_string()),
        ("unescaped password", unescaped),
        (
            "wrong AppliesTo",
            soap_envelope(FRED_EMAIL, FRED_PASSWORD).replace(">wl.skype.com<", ">skype.com<"),
        ),
        (
            "wrong policy",
            soap_envelope(FRED_EMAIL, FRED_PASSWORD).replace("URI='MBI_SSL'", "URI='MBI'"),
        ),
        (
            "wrong request type",
            soap_envelope(FRED_EMAIL, FRED_PASSWORD).replace("trust/Issue", "trust/Renew"),
        ),
        (
            "wrong wsse namespace",
            soap_envelope(FRED_EMAIL, FRED_PASSWORD).replace(
                "http://schemas.xmlsoap.org/ws/2003/06/secext",
                "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
            ),
        ),
        (
            "substring only",
            format!(
                "<x>{}</x>",
                "<wsse:Username>fred.adams@example.com</wsse:Username><wsse:Password>p&amp;ss&lt;w&gt;rd</wsse:Password> wl.skype.com MBI_SSL"
            ),
        ),
    ];
    for (what, body) in cases {
        let (status, xml) = text_of(h.soap_raw(body).await).await;
        assert_eq!(status, 400, "{what}: {xml}");
        assert!(xml.contains("<S:Fault>"), "{what}");
        assert!(binary_security_token(&xml).is_none(), "{what}");
    }
}

#[tokio::test]
async fn edge_requires_a_form_and_an_issued_token() {
    let h = Harness::new().await;
    let security_token = h.security_token().await;
    let url = format!("{}/rps/v1/rps/skypetoken", h.urls.edge);

    // JSON instead of a form.
    let resp = h
        .request(Method::POST, &url, &[])
        .json(&json!({"partner": "999", "access_token": security_token, "scopes": "client"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 415);
    assert!(body["status"]["code"].is_number());

    // A wrong partner, a missing field.
    for form in [
        vec![
            ("partner", "998"),
            ("access_token", security_token.as_str()),
            ("scopes", "client"),
        ],
        vec![
            ("partner", "999"),
            ("access_token", security_token.as_str()),
        ],
    ] {
        let resp = h
            .request(Method::POST, &url, &[])
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }

    // A token that was never issued.
    let (status, body) = json_of(h.edge("t=forged&p=").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": {"code": 40120, "text": "Authentication failed. Bad username or password."}})
    );

    // The real one works once, then is spent.
    assert_eq!(h.edge(&security_token).await.status(), 200);
    let (_, body) = json_of(h.edge(&security_token).await).await;
    assert_eq!(body["status"]["code"], 40120);
    assert_eq!(h.fake.logins(), 1);
}

#[tokio::test]
async fn web_flow_wrong_password_shows_serrtxt() {
    let h = Harness::new().await;
    let start = h.web_start().await;
    let (status, page) = text_of(h.web_password(&start, "fred.2", "password").await).await;
    assert_eq!(status, 200);
    assert!(page.contains(
        "sErrTxt:'Your account or password is incorrect. If you don\\'t remember your password, <a href="
    ));
    assert!(page.contains("reset it now.</a>'"));
    assert!(!page.contains("id=\"t\""));
}

#[tokio::test]
async fn web_flow_rejects_wrong_cookies_ppft_and_query() {
    let h = Harness::new().await;
    let start = h.web_start().await;
    let form = |ppft: &str| {
        vec![
            ("login".to_string(), "fred.2".to_string()),
            ("passwd".to_string(), FRED_PASSWORD.to_string()),
            ("PPFT".to_string(), ppft.to_string()),
            ("loginoptions".to_string(), "3".to_string()),
        ]
    };
    let post = |cookie: Option<String>, ppft: String, wreply: &'static str| {
        let h = &h;
        let start = &start;
        let form = form(&ppft);
        async move {
            let cookie = cookie.unwrap_or_else(|| {
                format!(
                    "MSPRequ={}; MSPOK={}; CkTst=G1795619355669",
                    start.msprequ, start.mspok
                )
            });
            h.request(
                Method::POST,
                &format!("{}/ppsecure/post.srf", h.urls.live),
                &[("Cookie", &cookie)],
            )
            .query(&[("wa", "wsignin1.0"), ("wp", "MBI_SSL"), ("wreply", wreply)])
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
        }
    };
    let no_cktst = format!("MSPRequ={}; MSPOK={}", start.msprequ, start.mspok);
    let wrong_mspok = format!("MSPRequ={}; MSPOK=$uuid-forged; CkTst=G1", start.msprequ);
    assert_eq!(post(Some(no_cktst), start.ppft.clone(), WREPLY).await, 400);
    assert_eq!(
        post(Some(wrong_mspok), start.ppft.clone(), WREPLY).await,
        400
    );
    assert_eq!(
        post(Some(String::new()), start.ppft.clone(), WREPLY).await,
        400
    );
    assert_eq!(post(None, "forged-ppft".into(), WREPLY).await, 400);
    assert_eq!(
        post(None, start.ppft.clone(), "https://lw.skype.com/").await,
        400
    );
    // Still fine with everything right.
    assert_eq!(post(None, start.ppft.clone(), WREPLY).await, 200);

    // The start page checks its query too.
    let resp = h
        .request(
            Method::GET,
            &format!("{}/login/oauth/microsoft", h.urls.login),
            &[],
        )
        .query(&[
            ("client_id", "1"),
            ("redirect_uri", "https://web.skype.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

// ---------------------------------------------------------------- skype tokens

#[tokio::test]
async fn skype_token_missing_unknown_expired_or_in_the_wrong_header() {
    let h = Harness::new().await;
    let token = h.skype_token().await;

    let (status, body) = json_of(h.profile(&[]).await).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = json_of(h.profile(&[("X-SkypeToken", "forged")]).await).await;
    assert_eq!(status, 401);
    let authentication = format!("skypetoken={token}");
    let (status, _) = json_of(h.profile(&[("Authentication", &authentication)]).await).await;
    assert_eq!(status, 401, "profile wants X-SkypeToken");
    // A token issued by another (fake) service is foreign here.
    let other = Harness::new().await;
    let foreign = other.skype_token().await;
    let (status, _) = json_of(h.profile(&[("X-SkypeToken", &foreign)]).await).await;
    assert_eq!(status, 401, "foreign token");
    assert_eq!(h.register(&h.urls.msgs, &foreign).await.status(), 401);

    h.fake.expire_skype_tokens();
    let (status, body) = json_of(h.profile(&[("X-SkypeToken", &token)]).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["status"]["code"], 40160);
    assert!(
        body["status"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Skypetoken has expired at ")
    );
    let resp = h.register(&h.urls.msgs, &token).await;
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body["status"]["code"].clone()),
        (401, json!(40160))
    );

    // A zero lifetime issues tokens that are already expired.
    h.fake.set_token_lifetime(0, 86_400);
    let short = h.skype_token().await;
    let (status, body) = json_of(h.profile(&[("X-SkypeToken", &short)]).await).await;
    assert_eq!(
        (status, body["status"]["code"].clone()),
        (401, json!(40160))
    );
}

// ---------------------------------------------------------------- registration

#[tokio::test]
async fn registration_rejects_bad_lock_and_key_headers_and_bodies() {
    let h = Harness::new().await;
    h.fake.set_redirect(false);
    let token = h.skype_token().await;
    let authentication = format!("skypetoken={token}");
    let lock = current_lock_and_key();
    let good_body = r#"{"endpointFeatures": "Agent"}"#;
    let msgs = h.urls.msgs.clone();

    let wrong_mac = "appId=msmsgs@msnmsgr.com; time=1795619356; lockAndKeyResponse=558305cefad84afe1e0bacdaea03fc49";
    let (status, body) = json_of(
        h.register_with(
            &msgs,
            &registration_headers(&authentication, wrong_mac),
            good_body,
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["message"].as_str().unwrap().contains("LockAndKey"),
        "{body}"
    );

    let malformed = "appId=msmsgs@msnmsgr.com; time=1795619355; lockAndKeyResponse=XYZ";
    let resp = h
        .register_with(
            &msgs,
            &registration_headers(&authentication, malformed),
            good_body,
        )
        .await;
    assert_eq!(resp.status(), 400);

    let without = |name: &str| {
        registration_headers(&authentication, &lock)
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect::<Vec<_>>()
    };
    for missing in ["LockAndKey", "BehaviorOverride", "Content-Type"] {
        let resp = h.register_with(&msgs, &without(missing), good_body).await;
        assert_eq!(resp.status(), 400, "without {missing}");
    }
    let resp = h
        .register_with(&msgs, &without("Authentication"), good_body)
        .await;
    assert_eq!(resp.status(), 401);
    let bare = [("Authentication", token.as_str())];
    let mut headers = without("Authentication");
    headers.extend(bare);
    assert_eq!(
        h.register_with(&msgs, &headers, good_body).await.status(),
        401
    );

    for body in [
        "{}",
        r#"{"endpointFeatures": "Other"}"#,
        "endpointFeatures=Agent",
        "",
    ] {
        let resp = h
            .register_with(&msgs, &registration_headers(&authentication, &lock), body)
            .await;
        assert_eq!(resp.status(), 400, "body {body:?}");
    }
    assert_eq!(h.fake.registrations(), 0);

    // With redirect off, the primary host issues the token itself.
    let resp = h.register(&msgs, &token).await;
    assert_eq!(resp.status(), 200);
    let (host, endpoint) = parse_endpoint_location(&header(&resp, "location").unwrap());
    assert_eq!(host, msgs);
    assert!(endpoint.is_some());
    assert_eq!(h.fake.registrations(), 1);
}

#[tokio::test]
async fn registration_token_rules_on_messaging() {
    let h = Harness::new().await;
    let session = h.session().await;
    assert_eq!(session.msgs, h.fake.home_msgs_host());
    let body = text_message("hi", "1").to_string();

    let send = |registration: Option<String>, msgs: String| {
        let h = &h;
        let body = body.clone();
        async move {
            let mut headers = vec![
                ("ClientInfo", CLIENT_INFO),
                ("Content-Type", "application/json"),
            ];
            if let Some(r) = &registration {
                headers.push(("RegistrationToken", r.as_str()));
            }
            json_of(h.send_with(&msgs, CONV, &headers, body).await).await
        }
    };
    let bare = session
        .registration
        .strip_prefix("registrationToken=")
        .unwrap()
        .to_string();

    let (status, _) = send(None, session.msgs.clone()).await;
    assert_eq!(status, 401, "missing");
    let (status, _) = send(Some(bare), session.msgs.clone()).await;
    assert_eq!(status, 401, "bare token without its prefix");
    let (status, _) = send(
        Some("registrationToken=forged".into()),
        session.msgs.clone(),
    )
    .await;
    assert_eq!(status, 401, "unknown");
    // The token was issued by the home host: the primary host does not know the endpoint.
    let (status, body) = send(Some(session.registration.clone()), h.urls.msgs.clone()).await;
    assert_eq!(
        (status, body["errorCode"].clone()),
        (404, json!(729)),
        "foreign host"
    );
    // The full Set-RegistrationToken value is accepted too (prefix first).
    let full = format!(
        "{}; expires=1; endpointId={}",
        session.registration, session.endpoint
    );
    let (status, _) = send(Some(full), session.msgs.clone()).await;
    assert_eq!(status, 201);

    h.fake.expire_registrations();
    let (status, body) = send(Some(session.registration.clone()), session.msgs.clone()).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"errorCode": 729, "message": "You must create an endpoint before performing this operation."})
    );

    // A new registration with the same skype token works again.
    let fresh = h.session_for(session.skype_token.clone()).await;
    assert_eq!(
        h.send(&fresh, CONV, &text_message("again", "2"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn presence_doc_must_match_and_name_the_registered_endpoint() {
    let h = Harness::new().await;
    let session = h.session().await;
    let put = |endpoint: String, body: &'static str| {
        let h = &h;
        let session = &session;
        async move {
            h.request(
                Method::PUT,
                &format!(
                    "{}/users/ME/endpoints/{endpoint}/presenceDocs/messagingService",
                    session.msgs
                ),
                &[
                    ("RegistrationToken", &session.registration),
                    ("Content-Type", "application/json"),
                ],
            )
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
        }
    };
    let guid = session
        .endpoint
        .trim_matches(|c| c == '{' || c == '}')
        .to_string();
    assert_eq!(put(format!("%7B{guid}%7D"), PRESENCE_DOC).await, 200);
    assert_eq!(
        put(
            "%7B00000000-0000-4000-8000-000000000000%7D".into(),
            PRESENCE_DOC
        )
        .await,
        404
    );
    assert_eq!(
        put(format!("%7B{guid}%7D"), r#"{"id": "messagingService"}"#).await,
        400
    );
    let resp = h
        .request(
            Method::GET,
            &format!("{}/users/ME/presenceDocs/messagingService", session.msgs),
            &[("RegistrationToken", &session.registration)],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "view=expanded is required");
}

// ---------------------------------------------------------------- sending

#[tokio::test]
async fn send_rejects_malformed_bodies() {
    let h = Harness::new().await;
    let session = h.session().await;
    let base = text_message("hello", "1795619355675");
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let rich_mention = json!({"contenttype": "text", "messagetype": "RichText", "content": "hi <at id=\"8:joe.4\">Joe</at>", "imdisplayname": "Fred Adams", "Has-Mentions": "false", "clientmessageid": "5"});
    let cases = [
        ("no imdisplayname", without("imdisplayname")),
        ("no clientmessageid", without("clientmessageid")),
        ("no Has-Mentions", without("Has-Mentions")),
        ("no content", without("content")),
        ("no contenttype", without("contenttype")),
        ("Has-Mentions as a bool", with("Has-Mentions", json!(false))),
        (
            "Has-Mentions not true/false",
            with("Has-Mentions", json!("no")),
        ),
        (
            "clientmessageid as a number",
            with("clientmessageid", json!(1795619355675u64)),
        ),
        (
            "clientmessageid not digits",
            with("clientmessageid", json!("abc")),
        ),
        ("unknown messagetype", with("messagetype", json!("Html"))),
        ("contenttype not text", with("contenttype", json!("html"))),
        ("content not a string", with("content", json!(42))),
        ("unknown field", with("has_mentions", json!("false"))),
        ("emote offset wrong", with("skypeemoteoffset", json!(3))),
        ("emote without the name", {
            let mut b = with("skypeemoteoffset", json!(11));
            b["content"] = json!("waves");
            b
        }),
        ("Has-Mentions false with a mention", rich_mention.clone()),
        ("Has-Mentions true without a mention", {
            let mut b = with("Has-Mentions", json!("true"));
            b["messagetype"] = json!("RichText");
            b
        }),
        ("Has-Mentions true on plain Text", {
            let mut b = with("Has-Mentions", json!("true"));
            b["content"] = json!("hi <at id=\"8:joe.4\">Joe</at>");
            b
        }),
        ("body not an object", json!([])),
    ];
    for (what, body) in cases {
        let (status, reply) = json_of(h.send(&session, CONV, &body).await).await;
        assert_eq!(status, 400, "{what}: {reply}");
        assert!(reply["message"].is_string(), "{what}");
    }
    assert!(h.fake.messages(CONV).is_empty());

    // The right Has-Mentions passes.
    let mut fixed = rich_mention;
    fixed["Has-Mentions"] = json!("true");
    assert_eq!(h.send(&session, CONV, &fixed).await.status(), 201);
}

#[tokio::test]
async fn send_rejects_missing_headers_and_bad_conversations() {
    let h = Harness::new().await;
    let session = h.session().await;
    let body = text_message("hello", "1").to_string();
    let all = h.message_headers(&session);
    let without = |name: &str| {
        all.iter()
            .copied()
            .filter(|(n, _)| *n != name)
            .collect::<Vec<_>>()
    };

    for missing in ["ClientInfo", "Content-Type"] {
        let resp = h
            .send_with(&session.msgs, CONV, &without(missing), body.clone())
            .await;
        assert_eq!(resp.status(), 400, "without {missing}");
    }
    let mut other_client = without("ClientInfo");
    other_client.push(("ClientInfo", "os=Linux"));
    let resp = h
        .send_with(&session.msgs, CONV, &other_client, body.clone())
        .await;
    assert_eq!(resp.status(), 400);

    let (status, reply) = json_of(
        h.send_with(&session.msgs, "48:notes", &all, body.clone())
            .await,
    )
    .await;
    assert_eq!(status, 403, "{reply}");
    for bad in ["19:abc@thread.skype", "fred.2", "8:", "3:someone"] {
        let resp = h.send_with(&session.msgs, bad, &all, body.clone()).await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    for good in [
        "8:joe.4",
        "8:live:.cid.92bd244e945d8335",
        "28:concierge",
        "2:joe@example.com",
    ] {
        let resp = h.send_with(&session.msgs, good, &all, body.clone()).await;
        assert_eq!(resp.status(), 201, "{good}");
    }
    // A percent-encoded id is the same conversation.
    let encoded = "19%3Acccccccccccccccccccccccccccccccc%40thread.skype";
    let other = text_message("encoded", "2").to_string();
    assert_eq!(
        h.send_with(&session.msgs, encoded, &all, other)
            .await
            .status(),
        201
    );
    assert_eq!(h.fake.messages(CONV).len(), 1);

    // No User-Agent at all.
    let resp = h
        .http
        .post(format!(
            "{}/users/ME/conversations/{CONV}/messages",
            session.msgs
        ))
        .header("ClientInfo", CLIENT_INFO)
        .header("RegistrationToken", &session.registration)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let last = h.fake.requests().pop().unwrap();
    assert_eq!((last.op, last.status), (Some(Op::Send), 400));
    assert_eq!(last.header("user-agent"), None);
}

#[tokio::test]
async fn repeated_clientmessageid_is_deduplicated() {
    let h = Harness::new().await;
    let session = h.session().await;
    let body = text_message("once", "1795619355675");
    let first = h.send(&session, CONV, &body).await;
    let second = h.send(&session, CONV, &body).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 201)
    );
    assert_eq!(header(&first, "location"), header(&second, "location"));
    assert_eq!(h.fake.messages(CONV).len(), 1);
    // Another conversation is another message.
    assert_eq!(h.send(&session, "8:joe.4", &body).await.status(), 201);
    assert_eq!(h.fake.messages("8:joe.4").len(), 1);
}

#[tokio::test]
async fn dedupe_can_be_turned_off() {
    let h = Harness::new().await;
    h.fake.set_dedupe(false);
    let session = h.session().await;
    let body = text_message("twice", "1795619355675");
    let first = h.send(&session, CONV, &body).await;
    let second = h.send(&session, CONV, &body).await;
    assert_ne!(header(&first, "location"), header(&second, "location"));
    assert_eq!(h.fake.messages(CONV).len(), 2);
}

/// `GET` of a conversation's messages with the given query.
async fn list(h: &Harness, session: &Session, query: &str, token: Option<&str>) -> Response {
    let mut headers = vec![];
    if let Some(token) = token {
        headers.push(("RegistrationToken", token));
    }
    let url = format!(
        "{}/users/ME/conversations/{CONV}/messages?{query}",
        session.msgs
    );
    h.request(Method::GET, &url, &headers).send().await.unwrap()
}

const LIST_QUERY: &str =
    "startTime=0&pageSize=100&view=msnp24Equivalent&targetType=Passport%7CSkype%7CLync%7CThread";

#[tokio::test]
async fn messages_are_listed_newest_first_in_skypes_shape() {
    let h = Harness::new().await;
    let session = h.session().await;
    for (i, content) in ["one", "two", "three"].iter().enumerate() {
        let resp = h
            .send(
                &session,
                CONV,
                &text_message(content, &format!("{}", 100 + i)),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let token = session.registration.as_str();

    let (status, body) = json_of(list(&h, &session, LIST_QUERY, Some(token)).await).await;

    assert_eq!(status, 200, "{body}");
    let messages = body["messages"].as_array().unwrap();
    let contents: Vec<&str> = messages
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["three", "two", "one"]);
    let stored = h.fake.messages(CONV);
    let newest = &messages[0];
    assert_eq!(newest["id"], json!(stored[2].id));
    assert_eq!(newest["version"], json!(stored[2].id));
    assert_eq!(newest["clientmessageid"], json!("102"));
    assert_eq!(newest["type"], json!("Message"));
    assert_eq!(newest["messagetype"], json!("Text"));
    assert_eq!(newest["conversationid"], json!(CONV));
    assert!(
        newest["from"]
            .as_str()
            .unwrap()
            .ends_with("/v1/users/ME/contacts/8:fred.2")
    );
    assert!(newest["conversationLink"].as_str().unwrap().ends_with(CONV));
    let time = newest["originalarrivaltime"].as_str().unwrap();
    let parsed = humantime::parse_rfc3339(time).unwrap();
    let ms = parsed
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert_eq!(ms, stored[2].arrival_time);
    assert_eq!(body["_metadata"]["totalCount"], json!(3));
    assert!(body["_metadata"].get("backwardLink").is_none());

    // One page at a time, older pages through the backward link.
    let paged = LIST_QUERY.replace("pageSize=100", "pageSize=2");
    let (_, first) = json_of(list(&h, &session, &paged, Some(token)).await).await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 2);
    let back = first["_metadata"]["backwardLink"].as_str().unwrap();
    let resp = h
        .request(Method::GET, back, &[("RegistrationToken", token)])
        .send()
        .await
        .unwrap();
    let (_, older) = json_of(resp).await;
    assert_eq!(older["messages"][0]["content"], json!("one"));
    assert_eq!(older["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn listing_messages_needs_the_token_and_skpys_parameters() {
    let h = Harness::new().await;
    let session = h.session().await;
    let token = session.registration.clone();
    let token = token.as_str();
    assert_eq!(list(&h, &session, LIST_QUERY, None).await.status(), 401);
    let unprefixed = token.trim_start_matches("registrationToken=");
    assert_eq!(
        list(&h, &session, LIST_QUERY, Some(unprefixed))
            .await
            .status(),
        401
    );
    for bad in [
        "startTime=0&view=msnp24Equivalent&targetType=Passport%7CSkype%7CLync%7CThread",
        &LIST_QUERY.replace("pageSize=100", "pageSize=0"),
        &LIST_QUERY.replace("msnp24Equivalent", "supportsExtendedHistory"),
        &LIST_QUERY.replace("%7CThread", ""),
        &LIST_QUERY.replace("startTime=0", "startTime=yesterday"),
        &format!("{LIST_QUERY}&extra=1"),
    ] {
        let resp = list(&h, &session, bad, Some(token)).await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    // The token of the other host is a stale endpoint there.
    let primary = Session {
        msgs: h.urls.msgs.clone(),
        ..session
    };
    let (status, body) = json_of(list(&h, &primary, LIST_QUERY, Some(token)).await).await;
    assert_eq!((status, &body["errorCode"]), (404, &json!(729)));
    let last = h.fake.requests().pop().unwrap();
    assert_eq!(last.op, Some(Op::ListMessages));
}

#[tokio::test]
async fn late_and_dropped_answers_still_store_the_message() {
    let h = Harness::new().await;
    h.fake.set_dedupe(false);
    let session = h.session().await;

    h.fake
        .inject(Op::Send, Fault::AnswerLate(Duration::from_millis(300)), 1);
    let started = Instant::now();
    let resp = h.send(&session, CONV, &text_message("late", "1")).await;
    assert_eq!(resp.status(), 201);
    assert!(started.elapsed() >= Duration::from_millis(300));

    h.fake.inject(Op::Send, Fault::DropAfterHandling, 1);
    let headers = h.message_headers(&session);
    let dropped = h
        .request(
            Method::POST,
            &format!("{}/users/ME/conversations/{CONV}/messages", session.msgs),
            &headers,
        )
        .body(text_message("dropped", "2").to_string())
        .send()
        .await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(h.fake.messages(CONV).len(), 2);
    let last = h.fake.requests().pop().unwrap();
    assert_eq!((last.op, last.status), (Some(Op::Send), 0));
    // The fake goes on serving.
    assert_eq!(
        h.send(&session, CONV, &text_message("after", "3"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn redirect_and_huge_body_faults_answer_instead_of_handling() {
    let h = Harness::new().await;
    let session = h.session().await;
    let no_redirects = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let headers = h.message_headers(&session);
    let post = |body: Value| {
        let mut request = no_redirects
            .post(format!(
                "{}/users/ME/conversations/{CONV}/messages",
                session.msgs
            ))
            .header("User-Agent", UA);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        request.body(body.to_string()).send()
    };

    h.fake.inject(
        Op::Send,
        Fault::redirect(307, "https://elsewhere.example/x"),
        1,
    );
    let resp = post(text_message("a", "1")).await.unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(
        header(&resp, "location").as_deref(),
        Some("https://elsewhere.example/x")
    );

    h.fake.inject(
        Op::Send,
        Fault::HugeBody {
            status: 500,
            bytes: 3 * 1024 * 1024 + 5,
        },
        1,
    );
    let resp = post(text_message("b", "2")).await.unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.bytes().await.unwrap().len(), 3 * 1024 * 1024 + 5);
    assert!(h.fake.messages(CONV).is_empty());
}

#[tokio::test]
async fn edit_and_delete_need_an_existing_own_message() {
    let h = Harness::new().await;
    let session = h.session().await;
    let resp = h.send(&session, CONV, &text_message("original", "1")).await;
    let id = header(&resp, "location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let edit = json!({"contenttype": "text", "messagetype": "Text", "content": "edited", "imdisplayname": "Fred Adams", "Has-Mentions": "false"});

    assert_eq!(h.edit(&session, "123", &edit).await.status(), 404);
    assert_eq!(h.delete(&session, "123").await.status(), 404);
    let mut with_id = edit.clone();
    with_id["clientmessageid"] = json!("2");
    assert_eq!(h.edit(&session, &id, &with_id).await.status(), 400);
    let mut no_name = edit.clone();
    no_name.as_object_mut().unwrap().remove("imdisplayname");
    assert_eq!(h.edit(&session, &id, &no_name).await.status(), 400);

    // Another account cannot touch Fred's message.
    h.fake.add_account(Account {
        skype_name: "joe.4".into(),
        email: Some("joe@example.com".into()),
        password: "joe-pass".into(),
        user_id: "joe.4".into(),
        first_name: "Joe".into(),
        last_name: "Bloggs".into(),
    });
    let xml = h
        .soap("joe@example.com", "joe-pass")
        .await
        .text()
        .await
        .unwrap();
    let (_, edge) = json_of(h.edge(&binary_security_token(&xml).unwrap()).await).await;
    let joe = h
        .session_for(edge["skypetoken"].as_str().unwrap().to_string())
        .await;
    assert_eq!(h.edit(&joe, &id, &edit).await.status(), 403);
    assert_eq!(h.delete(&joe, &id).await.status(), 403);

    assert_eq!(h.edit(&session, &id, &edit).await.status(), 200);
    assert_eq!(h.delete(&session, &id).await.status(), 200);
    assert_eq!(h.delete(&session, &id).await.status(), 404);
    assert_eq!(h.edit(&session, &id, &edit).await.status(), 404);
}

// ---------------------------------------------------------------- files and images

fn file_message(id: &str, asm: &str, name: &str, size: usize) -> Value {
    let content = format!(
        "<URIObject type=\"File.1\" uri=\"{asm}/{id}\" url_thumbnail=\"{asm}/{id}/views/thumbnail\"><Title>Title: {name}</Title><Description>Description: {name}</Description><OriginalName v=\"{name}\"/><FileSize v=\"{size}\"/><a href=\"https://login.skype.com/login/sso?go=webclient.xmm&docid={id}\">https://login.skype.com/login/sso?go=webclient.xmm&docid={id}</a></URIObject>"
    );
    json!({"contenttype": "text", "messagetype": "RichText/Media_GenericFile", "content": content, "clientmessageid": "1795619355680"})
}

#[tokio::test]
async fn files_and_images_go_through_asm() {
    let h = Harness::new().await;
    let session = h.session().await;
    let permissions = json!({"8:anna.7": ["read"], "8:joe.4": ["read"], "8:fred.2": ["read"]});

    let (status, created) = json_of(
        h.asm_create(
            &session.skype_token,
            &json!({"type": "sharing/file", "permissions": permissions, "filename": "notes.txt"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        Regex::new("^0-weu-d3-[0-9a-f]{32}$").unwrap().is_match(&id),
        "{id}"
    );

    // A message pointing at an object without content is refused.
    let message = file_message(&id, &h.urls.asm, "notes.txt", 10);
    assert_eq!(h.send(&session, CONV, &message).await.status(), 400);
    // Files go to /content/original, not imgpsh.
    assert_eq!(
        h.asm_upload(&session.skype_token, &id, "imgpsh", b"hello file")
            .await
            .status(),
        400
    );
    assert_eq!(
        h.asm_upload(&session.skype_token, &id, "original", b"hello file")
            .await
            .status(),
        201
    );
    let object = h.fake.object(&id).unwrap();
    assert_eq!(object.content.as_deref(), Some(&b"hello file"[..]));
    assert_eq!(object.filename.as_deref(), Some("notes.txt"));
    assert_eq!(object.permissions, permissions);

    let wrong_size = file_message(&id, &h.urls.asm, "notes.txt", 11);
    assert_eq!(h.send(&session, CONV, &wrong_size).await.status(), 400);
    assert_eq!(h.send(&session, CONV, &message).await.status(), 201);

    // An image, as SkPy sends it.
    let (status, created) = json_of(
        h.asm_create(
            &session.skype_token,
            &json!({"type": "pish/image", "permissions": permissions}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let image = created["id"].as_str().unwrap().to_string();
    let png = b"\x89PNG....";
    assert_eq!(
        h.asm_upload(&session.skype_token, &image, "imgpsh", png)
            .await
            .status(),
        201
    );
    let asm = &h.urls.asm;
    let content = format!(
        "<URIObject type=\"Picture.1\" uri=\"{asm}/{image}\" url_thumbnail=\"{asm}/{image}/views/imgt1\"><Title/><Description/><OriginalName v=\"pic.png\"/><a href=\"https://api.asm.skype.com/s/i?{image}\">https://api.asm.skype.com/s/i?{image}</a><meta type=\"photo\" originalName=\"pic.png\"/></URIObject>"
    );
    let picture = json!({"contenttype": "text", "messagetype": "RichText/UriObject", "content": content, "clientmessageid": "1795619355693"});
    assert_eq!(h.send(&session, CONV, &picture).await.status(), 201);
    // The picture type cannot point at the file object.
    let mut mixed = picture.clone();
    mixed["content"] = json!(content.replace(&image, &id));
    mixed["clientmessageid"] = json!("7");
    assert_eq!(h.send(&session, CONV, &mixed).await.status(), 400);
    assert_eq!(h.fake.messages(CONV).len(), 2);
}

#[tokio::test]
async fn asm_rejects_bad_headers_and_bodies() {
    let h = Harness::new().await;
    let token = h.skype_token().await;
    let good =
        json!({"type": "sharing/file", "permissions": {"8:joe.4": ["read"]}, "filename": "a.txt"});
    let bad_bodies = [
        json!({"type": "sharing/file", "permissions": {"8:joe.4": ["read"]}}),
        json!({"type": "sharing/other", "permissions": {"8:joe.4": ["read"]}, "filename": "a"}),
        json!({"type": "pish/image", "permissions": {}}),
        json!({"type": "pish/image", "permissions": {"joe.4": ["read"]}}),
        json!({"type": "pish/image", "permissions": {"48:notes": ["read"]}}),
        json!({"type": "pish/image", "permissions": {"8:joe.4": ["write"]}}),
    ];
    for body in bad_bodies {
        assert_eq!(h.asm_create(&token, &body).await.status(), 400, "{body}");
    }
    let url = h.urls.asm.clone();
    let authorization = format!("skype_token {token}");
    let no_version = h
        .request(
            Method::POST,
            &url,
            &[
                ("Authorization", &authorization),
                ("Content-Type", "application/json"),
            ],
        )
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 400);
    let bearer = format!("Bearer {token}");
    let wrong_auth = h
        .request(
            Method::POST,
            &url,
            &[
                ("Authorization", &bearer),
                ("X-Client-Version", "0/0.0.0.0"),
                ("Content-Type", "application/json"),
            ],
        )
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_auth.status(), 401);
    assert_eq!(
        h.asm_upload(&token, "0-weu-d3-missing", "original", b"x")
            .await
            .status(),
        404
    );
    assert_eq!(h.asm_create(&token, &good).await.status(), 201);
    // Keyed by the conversation id, as other real clients did.
    let by_thread = json!({"type": "pish/image", "permissions": {CONV: ["read"]}});
    assert_eq!(h.asm_create(&token, &by_thread).await.status(), 201);
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn login_faults_on_the_web_flow() {
    let h = Harness::new().await;
    let cases = [
        (
            Fault::LoginWall,
            "<form name=\"fmHF\" id=\"fmHF\" action=\"https://account.live.com/ar/cancel?ru=",
        ),
        (Fault::TwoFactor, "V: [ {"),
    ];
    for (fault, marker) in cases {
        h.fake.inject(Op::WebPost, fault, 1);
        let start = h.web_start().await;
        let (status, page) = text_of(h.web_password(&start, "fred.2", FRED_PASSWORD).await).await;
        assert_eq!(status, 200);
        assert!(page.contains(marker), "{fault:?}: {page}");
        assert!(!page.contains("id=\"t\""), "{fault:?}");
        assert!(!page.contains("sErrTxt"), "{fault:?}");
    }
    h.fake.inject(Op::WebPost, Fault::NoTField, 1);
    let start = h.web_start().await;
    let (_, page) = text_of(h.web_password(&start, "fred.2", FRED_PASSWORD).await).await;
    for marker in ["id=\"t\"", "sErrTxt", "V: [", "fmHF", "opid="] {
        assert!(!page.contains(marker), "NoTField page has {marker}");
    }
    assert_eq!(h.fake.logins(), 0);
}

#[tokio::test]
async fn login_faults_on_soap() {
    let h = Harness::new().await;
    h.fake.inject(Op::Soap, Fault::LoginWall, 1);
    let (status, xml) = text_of(h.soap(FRED_EMAIL, FRED_PASSWORD).await).await;
    assert_eq!(status, 200);
    assert!(
        xml.contains("<faultstring>Profile accrual is required</faultstring>"),
        "{xml}"
    );
    h.fake.inject(Op::Soap, Fault::NoTField, 1);
    let (_, xml) = text_of(h.soap(FRED_EMAIL, FRED_PASSWORD).await).await;
    assert!(
        !xml.contains("BinarySecurityToken") && !xml.contains("Fault>"),
        "{xml}"
    );
    assert_well_formed(&xml);
    h.fake.inject(Op::Soap, Fault::TwoFactor, 1);
    let (_, xml) = text_of(h.soap(FRED_EMAIL, FRED_PASSWORD).await).await;
    assert!(xml.contains("<S:Fault>"));
    // Faults are consumed: the next login succeeds.
    let (_, xml) = text_of(h.soap(FRED_EMAIL, FRED_PASSWORD).await).await;
    assert!(binary_security_token(&xml).is_some());

    h.fake.inject(Op::Soap, Fault::LoginRateLimit, 1);
    let resp = h.soap(FRED_EMAIL, FRED_PASSWORD).await;
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("300"));
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"errorCode": 803, "message": "Login Rate limit exceeded"})
    );
}

#[tokio::test]
async fn service_faults_on_messaging_are_fifo_per_op() {
    let h = Harness::new().await;
    let session = h.session().await;
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        text_message("hi", &n.to_string())
    };

    h.fake.inject(Op::Send, Fault::EndpointMissing, 1);
    h.fake.inject(Op::Send, Fault::Unauthorized, 1);
    h.fake.inject(Op::Send, Fault::TokenMismatch, 1);
    h.fake.inject(
        Op::Send,
        Fault::RateLimited {
            retry_after: Some(7),
        },
        1,
    );
    h.fake
        .inject(Op::Send, Fault::RateLimited { retry_after: None }, 1);
    h.fake.inject(Op::Send, Fault::Status(503), 2);
    h.fake.inject(Op::Profile, Fault::SkypeTokenExpired, 1);

    let (status, body) = json_of(h.send(&session, CONV, &next()).await).await;
    assert_eq!((status, body["errorCode"].clone()), (404, json!(729)));
    let (status, _) = json_of(h.send(&session, CONV, &next()).await).await;
    assert_eq!(status, 401);
    let (status, body) = json_of(h.send(&session, CONV, &next()).await).await;
    assert_eq!(status, 403);
    assert!(body["message"].as_str().unwrap().contains(
        "The content in the registration token does not match the content in the authentication ticket"
    ));
    let resp = h.send(&session, CONV, &next()).await;
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("7"));
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body),
        (
            429,
            json!({"errorCode": 800, "message": "Command Rate limit exceeded Throttling command"})
        )
    );
    let resp = h.send(&session, CONV, &next()).await;
    assert_eq!(
        (resp.status().as_u16(), header(&resp, "retry-after")),
        (429, None)
    );
    for _ in 0..2 {
        let (status, body) = json_of(h.send(&session, CONV, &next()).await).await;
        assert_eq!(status, 503);
        assert!(body.is_object());
    }
    assert!(h.fake.messages(CONV).is_empty());
    assert_eq!(h.send(&session, CONV, &next()).await.status(), 201);
    assert_eq!(h.fake.messages(CONV).len(), 1);

    // Other ops kept their own queue.
    let (status, body) = json_of(h.profile(&[("X-SkypeToken", &session.skype_token)]).await).await;
    assert_eq!(
        (status, body["status"]["code"].clone()),
        (401, json!(40160))
    );
    assert_eq!(
        h.profile(&[("X-SkypeToken", &session.skype_token)])
            .await
            .status(),
        200
    );
    assert_eq!(h.fake.count(Op::Send), 8);
}

#[tokio::test]
async fn slow_fault_delays_then_answers_normally() {
    let h = Harness::new().await;
    let token = h.skype_token().await;
    h.fake
        .inject(Op::Profile, Fault::Slow(Duration::from_millis(80)), 1);
    let started = Instant::now();
    let resp = h.profile(&[("X-SkypeToken", &token)]).await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn a_page_fault_on_a_non_login_op_is_a_visible_setup_error() {
    let h = Harness::new().await;
    let token = h.skype_token().await;
    h.fake.inject(Op::Profile, Fault::NeedsOpid, 1);
    let (status, body) = json_of(h.profile(&[("X-SkypeToken", &token)]).await).await;
    assert_eq!(status, 500);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("test setup error")
    );
}

// ---------------------------------------------------------------- routing, recording, emulator pages

#[tokio::test]
async fn wrong_hosts_paths_and_methods_are_refused_and_recorded() {
    let h = Harness::new().await;
    let home = h.fake.home_msgs_host();
    let home_origin = home.trim_end_matches("/v1");
    let cases = [
        (Method::POST, format!("{home_origin}/live/RST.srf"), 404),
        (Method::POST, format!("{}/RST.srf", h.urls.login), 404),
        (
            Method::GET,
            format!("{}/users/ME/endpoints", h.urls.msgs),
            405,
        ),
        (Method::GET, format!("{}/nothing", h.urls.api), 404),
    ];
    for (method, url, expected) in cases {
        let resp = h.request(method, &url, &[]).send().await.unwrap();
        assert_eq!(resp.status(), expected, "{url}");
    }
    let requests = h.fake.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.op.is_none()));
    assert_eq!(requests[0].host, "home");
    assert_eq!(requests[2].status, 405);
}

#[tokio::test]
async fn emulator_pages_and_hook_show_accepted_messages() {
    let h = Harness::new().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    h.fake
        .on_message(move |m| sink.lock().unwrap().push(m.content.clone()));
    let session = h.session().await;
    assert_eq!(
        h.send(&session, CONV, &text_message("shown", "1"))
            .await
            .status(),
        201
    );
    assert_eq!(*seen.lock().unwrap(), vec![Some("shown".to_string())]);

    let origin = h.urls.msgs.trim_end_matches("/v1").to_string();
    let (status, counts) = json_of(
        h.http
            .get(format!("{origin}/_emulator/conversations"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, counts), (200, json!({CONV: 1})));
    let (status, list) = json_of(
        h.http
            .get(format!("{origin}/_emulator/conversations/{CONV}/messages"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["content"], "shown");
    assert_eq!(list[0]["sender"], "fred.2");
}
