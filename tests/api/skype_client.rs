//! The Skype client against the strict fake Skype server, over real HTTP on
//! loopback: every flow of `docs/skype-protocol.md`, every failure the real
//! pages gave, and the renewal and recovery rules.

use std::sync::Arc;
use std::time::Duration;

use crate::SendFresh;
use fake_skype::{Account, FakeSkype, Fault, Op};
use skype_sender::skype::{
    Attachment, AttachmentKind, ClientOptions, ConversationId, Credentials, LoginGate, MessageId,
    OutgoingMessage, SentMessage, Session, SkypeClient, SkypeError, SkypeUrls, parse_token_file,
    write_token_file,
};

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const EMAIL: &str = "fred.adams@example.com";
const SKYPE_NAME: &str = "fred.2";
const PASSWORD: &str = "p&ss<w>rd";

async fn fake() -> FakeSkype {
    let fake = FakeSkype::start().await;
    fake.add_account(Account::fred());
    fake
}

fn urls(fake: &FakeSkype) -> SkypeUrls {
    local_app::skype_urls(fake)
}

fn options() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_secs(2),
        ..ClientOptions::default()
    }
}

fn client(fake: &FakeSkype, username: &str, password: &str) -> SkypeClient {
    let credentials = Credentials::new(username, password);
    SkypeClient::new(urls(fake), options(), Some(credentials)).unwrap()
}

fn group() -> ConversationId {
    ConversationId::parse(GROUP).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Every request the client made, except the deliberate redirect, was accepted.
fn assert_all_accepted(fake: &FakeSkype) {
    for request in fake.requests() {
        let redirect = request.op == Some(Op::Register) && request.status == 404;
        assert!(
            request.status < 400 || redirect,
            "the fake rejected {} {} with {}",
            request.method,
            request.path,
            request.status
        );
    }
}

#[tokio::test]
async fn soap_login_registers_through_the_redirect_and_sends_rich_text() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let text = r#"<b raw_pre="*" raw_post="*">Bold</b> <at id="8:joe.4">Joe Bloggs</at>"#;

    let sent = client
        .send(&group(), &OutgoingMessage::rich(text))
        .await
        .unwrap();

    let stored = fake.messages(GROUP);
    assert_eq!(stored.len(), 1);
    let message = &stored[0];
    assert_eq!(message.id, sent.id);
    assert_eq!(Some(message.arrival_time), sent.arrival_time);
    assert_eq!(message.messagetype, "RichText");
    assert_eq!(message.content.as_deref(), Some(text));
    assert_eq!(message.has_mentions.as_deref(), Some("true"));
    assert_eq!(message.imdisplayname.as_deref(), Some("Fred Adams"));
    assert_eq!(
        message.clientmessageid.as_deref(),
        Some(sent.client_message_id.as_str())
    );

    let ops: Vec<Option<Op>> = fake.requests().iter().map(|r| r.op).collect();
    assert_eq!(
        ops,
        [
            Op::Soap,
            Op::EdgeToken,
            Op::Profile,
            Op::Register,
            Op::Register,
            Op::PresenceDoc,
            Op::Send
        ]
        .map(Some)
    );
    let soap = &fake.requests()[0];
    assert_eq!(soap.body_str(), include_str!("../data/soap-envelope.txt"));
    assert_eq!(soap.header("user-agent"), Some("SkPy"));

    let session = client.session().unwrap();
    assert_eq!(session.registration.msgs_host, fake.home_msgs_host());
    assert_eq!(session.auth.user_id, "fred.2");
    assert!(session.auth.expires_at > now() + 80_000);
    assert!(session.registration.expires_at > now() + 80_000);
    assert_eq!((fake.logins(), fake.registrations()), (1, 1));
    assert_all_accepted(&fake);
}

#[tokio::test]
async fn web_login_sends_the_cookies_and_plain_text() {
    let fake = fake().await;
    let client = client(&fake, SKYPE_NAME, PASSWORD);

    client
        .send(&group(), &OutgoingMessage::plain("Hello <world> & co"))
        .await
        .unwrap();

    let message = &fake.messages(GROUP)[0];
    assert_eq!(message.messagetype, "Text");
    assert_eq!(message.content.as_deref(), Some("Hello <world> & co"));
    assert_eq!(message.has_mentions.as_deref(), Some("false"));
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.op == Some(Op::WebPost))
        .unwrap();
    let cookies = post.header("cookie").unwrap();
    assert!(cookies.contains("MSPRequ=") && cookies.contains("MSPOK="));
    assert!(cookies.contains("CkTst=G"));
    assert_eq!(fake.count(Op::WebToken), 1);
    assert_eq!(fake.count(Op::Soap), 0);
    assert_all_accepted(&fake);
}

#[tokio::test]
async fn web_login_follows_the_opid_step() {
    let fake = fake().await;
    fake.inject(Op::WebPost, Fault::NeedsOpid, 1);
    let client = client(&fake, SKYPE_NAME, PASSWORD);

    client.ensure_session().await.unwrap();

    assert_eq!(fake.count(Op::WebPost), 2);
    let second = fake
        .requests()
        .into_iter()
        .filter(|r| r.op == Some(Op::WebPost))
        .nth(1)
        .unwrap();
    assert!(second.body_str().contains("type=28"));
    assert_eq!(fake.logins(), 1);
}

async fn login_error(username: &str, password: &str, fault: Option<(Op, Fault)>) -> SkypeError {
    let fake = fake().await;
    if let Some((op, fault)) = fault {
        fake.inject(op, fault, 1);
    }
    let err = client(&fake, username, password)
        .send(&group(), &OutgoingMessage::rich("hi"))
        .await
        .unwrap_err();
    assert!(fake.messages(GROUP).is_empty());
    assert_eq!(fake.logins(), 0);
    err
}

#[tokio::test]
async fn every_login_failure_is_a_typed_error_with_a_plain_message() {
    assert_eq!(
        login_error(EMAIL, "wrong", None).await,
        SkypeError::LoginRefused("wsse:FailedAuthentication - Authentication Failure".into())
    );
    let web_refusal = login_error(SKYPE_NAME, "wrong", None).await;
    assert!(
        matches!(&web_refusal, SkypeError::LoginRefused(text) if text.contains("password is incorrect") && !text.contains('<')),
        "{web_refusal:?}"
    );
    let wall = login_error(SKYPE_NAME, PASSWORD, Some((Op::WebPost, Fault::LoginWall))).await;
    assert!(
        matches!(&wall, SkypeError::LoginWall { action } if !action.contains('?')),
        "{wall:?}"
    );
    assert!(wall.to_string().contains("login with a web browser first"));
    assert!(matches!(
        login_error(EMAIL, PASSWORD, Some((Op::Soap, Fault::LoginWall))).await,
        SkypeError::LoginWall { .. }
    ));
    assert_eq!(
        login_error(SKYPE_NAME, PASSWORD, Some((Op::WebPost, Fault::TwoFactor))).await,
        SkypeError::TwoFactorUnsupported
    );
    let incomplete = login_error(SKYPE_NAME, PASSWORD, Some((Op::WebPost, Fault::NoTField))).await;
    assert_eq!(incomplete, SkypeError::LoginIncomplete);
    assert!(incomplete.to_string().contains("Couldn't retrieve t field"));
    assert!(incomplete.to_string().contains("web browser"));
    assert_eq!(
        login_error(EMAIL, PASSWORD, Some((Op::Soap, Fault::LoginRateLimit))).await,
        SkypeError::LoginRateLimited {
            retry_after: Some(Duration::from_secs(300))
        }
    );
}

#[tokio::test]
async fn after_a_login_throttle_no_login_is_tried_until_it_ends() {
    let fake = fake().await;
    fake.inject(Op::Soap, Fault::LoginRateLimit, 1);
    let client = client(&fake, EMAIL, PASSWORD);
    assert!(matches!(
        client.ensure_session().await,
        Err(SkypeError::LoginRateLimited { .. })
    ));
    let again = client.ensure_session().await.unwrap_err();
    assert!(
        matches!(again, SkypeError::LoginRateLimited { retry_after: Some(after) } if after.as_secs() > 250)
    );
    assert_eq!(
        fake.count(Op::Soap),
        1,
        "the throttle window was not respected"
    );
    assert!(
        matches!(client.login_blocked(), Some(SkypeError::LoginRateLimited { retry_after: Some(after) }) if after.as_secs() > 250),
        "{:?}",
        client.login_blocked()
    );
}

#[tokio::test]
async fn registration_without_redirect_stays_on_the_first_host() {
    let fake = fake().await;
    fake.set_redirect(false);
    let client = client(&fake, EMAIL, PASSWORD);
    let session = client.ensure_session().await.unwrap();
    assert_eq!(session.registration.msgs_host, fake.urls().msgs);
    assert!(session.registration.endpoint_id.is_some());
    assert_eq!(fake.count(Op::Register), 1);
    assert_eq!(fake.count(Op::PresenceDoc), 1);
    let register = fake
        .requests()
        .into_iter()
        .find(|r| r.op == Some(Op::Register))
        .unwrap();
    let lock = register.header("lockandkey").unwrap();
    assert!(lock.starts_with("appId=msmsgs@msnmsgr.com; time="));
    assert_eq!(register.header("behavioroverride"), Some("redirectAs404"));
    assert_all_accepted(&fake);
}

#[tokio::test]
async fn a_saved_token_file_sends_without_any_login() {
    let fake = fake().await;
    let first = client(&fake, EMAIL, PASSWORD);
    first.ensure_session().await.unwrap();
    let logged_in = first.session().unwrap();
    assert_eq!(
        logged_in.auth.display_name.as_deref(),
        Some("Fred Adams"),
        "a login reads the display name with the profile"
    );
    let file = write_token_file(&logged_in);
    let profile_reads = fake.count(Op::Profile);

    // A new process: no credentials at all, only the token file (which
    // has no room for the display name).
    let second = SkypeClient::new(urls(&fake), options(), None).unwrap();
    second.restore(parse_token_file(&file).unwrap());
    let generation = second.generation();
    second
        .send(&group(), &OutgoingMessage::rich("from the file"))
        .await
        .unwrap();

    assert_eq!((fake.logins(), fake.registrations()), (1, 1));
    assert_eq!(fake.count(Op::Profile), profile_reads + 1);
    assert_eq!(
        second.generation(),
        generation + 1,
        "the learnt display name is a change worth saving"
    );
    assert_eq!(
        second.session().unwrap().auth.display_name.as_deref(),
        Some("Fred Adams")
    );
    // Read once, then known.
    second
        .send(&group(), &OutgoingMessage::rich("again"))
        .await
        .unwrap();
    assert_eq!(fake.count(Op::Profile), profile_reads + 1);
    assert_eq!(second.generation(), generation + 1, "nothing new to save");
    assert_eq!(fake.messages(GROUP).len(), 2);

    // A session that comes with its name (as the token store keeps it)
    // costs no profile read at all.
    let third = SkypeClient::new(urls(&fake), options(), None).unwrap();
    third.restore((*logged_in).clone());
    third
        .send(&group(), &OutgoingMessage::rich("named"))
        .await
        .unwrap();
    assert_eq!(fake.count(Op::Profile), profile_reads + 1);
    assert!(
        fake.messages(GROUP)
            .iter()
            .all(|m| m.imdisplayname.as_deref() == Some("Fred Adams"))
    );
}

#[tokio::test]
async fn the_clock_renews_registration_or_login_before_expiry() {
    let fake = fake().await;
    let first = client(&fake, EMAIL, PASSWORD);
    let mut session = (*first.ensure_session().await.unwrap()).clone();

    // Registration expiring within the margin: register again, no login.
    session.registration.expires_at = now() + 60;
    let renewing = client(&fake, EMAIL, PASSWORD);
    renewing.restore(session.clone());
    let before = renewing.generation();
    renewing
        .send(&group(), &OutgoingMessage::rich("a"))
        .await
        .unwrap();
    assert_eq!((fake.logins(), fake.registrations()), (1, 2));
    assert!(
        renewing.generation() > before,
        "a renewed session must be saved"
    );

    // Skype token expiring within the margin: log in again.
    session.auth.expires_at = now() + 60;
    let relogging = client(&fake, EMAIL, PASSWORD);
    relogging.restore(session);
    relogging
        .send(&group(), &OutgoingMessage::rich("b"))
        .await
        .unwrap();
    assert_eq!((fake.logins(), fake.registrations()), (2, 3));
    assert_eq!(fake.messages(GROUP).len(), 2);
}

#[tokio::test]
async fn refresh_renews_whatever_expires_within_the_window() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let first = client.ensure_session().await.unwrap();
    let same = client
        .refresh_if_expiring(Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&first, &same));
    client
        .refresh_if_expiring(Duration::from_secs(2 * 86_400))
        .await
        .unwrap();
    assert_eq!(fake.logins(), 2);
}

async fn recovers_once_from(fault: Fault) {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    client.ensure_session().await.unwrap();
    fake.inject(Op::Send, fault, 1);

    client
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap();

    assert_eq!(fake.messages(GROUP).len(), 1, "{fault:?}");
    assert_eq!(fake.count(Op::Send), 2, "{fault:?}");
    assert_eq!((fake.logins(), fake.registrations()), (1, 2), "{fault:?}");
}

#[tokio::test]
async fn a_stale_registration_is_renewed_once_and_the_send_retried() {
    recovers_once_from(Fault::Unauthorized).await;
    recovers_once_from(Fault::EndpointMissing).await;
    recovers_once_from(Fault::TokenMismatch).await;
}

#[tokio::test]
async fn a_refused_registration_is_not_retried_in_a_loop() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    client.ensure_session().await.unwrap();
    fake.inject(Op::Send, Fault::Unauthorized, 10);

    let err = client
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap_err();

    assert_eq!(err, SkypeError::RegistrationRejected);
    assert_eq!(fake.count(Op::Send), 2);
    assert_eq!(fake.registrations(), 2);
}

#[tokio::test]
async fn a_refused_skype_token_leads_to_one_new_login() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    client.ensure_session().await.unwrap();
    // Skype forgets both tokens while we still believe in them.
    fake.expire_skype_tokens();
    fake.expire_registrations();

    client
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap();

    assert_eq!(fake.messages(GROUP).len(), 1);
    assert_eq!(fake.logins(), 2);
}

#[tokio::test]
async fn rate_limits_surface_with_retry_after_and_are_not_retried_here() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    client.ensure_session().await.unwrap();
    fake.inject(
        Op::Send,
        Fault::RateLimited {
            retry_after: Some(7),
        },
        1,
    );

    let err = client
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap_err();

    assert_eq!(
        err,
        SkypeError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert_eq!(fake.count(Op::Send), 1);
    fake.inject(Op::Send, Fault::RateLimited { retry_after: None }, 1);
    let err = client
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap_err();
    assert_eq!(err, SkypeError::RateLimited { retry_after: None });
}

#[tokio::test]
async fn server_errors_and_slow_answers_are_typed() {
    let fake = fake().await;
    let client = SkypeClient::new(
        urls(&fake),
        ClientOptions {
            request_timeout: Duration::from_millis(300),
            ..ClientOptions::default()
        },
        Some(Credentials::new(EMAIL, PASSWORD)),
    )
    .unwrap();
    client.ensure_session().await.unwrap();

    fake.inject(Op::Send, Fault::Status(503), 1);
    assert_eq!(
        client
            .send(&group(), &OutgoingMessage::rich("x"))
            .await
            .unwrap_err(),
        SkypeError::Unavailable { status: 503 }
    );
    // A post that got no answer may have arrived; anything else timed out.
    fake.inject(Op::Send, Fault::Slow(Duration::from_secs(2)), 1);
    assert_eq!(
        client
            .send(&group(), &OutgoingMessage::rich("x"))
            .await
            .unwrap_err(),
        SkypeError::OutcomeUnknown
    );
    fake.inject(Op::Edit, Fault::Slow(Duration::from_secs(2)), 1);
    let id = MessageId::parse("1").unwrap();
    assert_eq!(
        client
            .edit(&group(), &id, &OutgoingMessage::rich("x"))
            .await
            .unwrap_err(),
        SkypeError::Timeout
    );
}

#[tokio::test]
async fn action_edit_and_delete() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let group = group();

    client
        .send(&group, &OutgoingMessage::action("waves"))
        .await
        .unwrap();
    let sent = client
        .send(&group, &OutgoingMessage::rich("first"))
        .await
        .unwrap();
    let id = MessageId::parse(&sent.id).unwrap();
    let edit_time = client
        .edit(&group, &id, &OutgoingMessage::rich("edited text"))
        .await
        .unwrap();
    assert!(edit_time.is_some());
    client.delete(&group, &id).await.unwrap();

    let stored = fake.messages(GROUP);
    assert_eq!(stored[0].content.as_deref(), Some("Fred Adams waves"));
    assert_eq!(stored[0].skypeemoteoffset, Some(11));
    let edited = stored.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(edited.content.as_deref(), Some("edited text"));
    assert!(edited.edited && edited.deleted);

    let unknown = MessageId::parse("999999").unwrap();
    let err = client.delete(&group, &unknown).await.unwrap_err();
    assert!(
        matches!(err, SkypeError::Rejected { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(
        fake.registrations(),
        1,
        "an unknown message is not a stale registration"
    );
}

#[tokio::test]
async fn files_and_images_go_through_asm() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let file = Attachment {
        kind: AttachmentKind::File,
        name: "notes.txt".into(),
        bytes: b"hello file".to_vec(),
    };
    let image = Attachment {
        kind: AttachmentKind::Image,
        name: "pic.png".into(),
        bytes: b"\x89PNG....".to_vec(),
    };

    client.send_file(&group(), &file).await.unwrap();
    client.send_file(&group(), &image).await.unwrap();

    let stored = fake.messages(GROUP);
    assert_eq!(stored[0].messagetype, "RichText/Media_GenericFile");
    assert_eq!(stored[1].messagetype, "RichText/UriObject");
    let created: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.op == Some(Op::AsmCreate))
        .collect();
    assert_eq!(created.len(), 2);
    for (request, attachment) in created.iter().zip([&file, &image]) {
        let id = fake_object_id(&stored, request, &fake);
        let object = fake.object(&id).unwrap();
        assert_eq!(object.content.as_deref(), Some(attachment.bytes.as_slice()));
    }
    assert_all_accepted(&fake);
}

/// The ASM object a stored message points at.
fn fake_object_id(
    stored: &[fake_skype::StoredMessage],
    request: &fake_skype::RecordedRequest,
    _fake: &FakeSkype,
) -> String {
    let kind = if request.body_str().contains("sharing/file") {
        0
    } else {
        1
    };
    let content = stored[kind].content.clone().unwrap();
    let start = content.find("/v1/objects/").unwrap() + "/v1/objects/".len();
    content[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn concurrent_sends_on_a_cold_client_log_in_once() {
    let fake = fake().await;
    let client = Arc::new(client(&fake, EMAIL, PASSWORD));
    let sends = (0..20).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .send(&group(), &OutgoingMessage::rich(format!("message {i}")))
                .await
        })
    });
    for send in sends {
        send.await.unwrap().unwrap();
    }
    assert_eq!((fake.logins(), fake.registrations()), (1, 1));
    let stored = fake.messages(GROUP);
    assert_eq!(stored.len(), 20);
    let mut ids: Vec<_> = stored.iter().map(|m| m.clientmessageid.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "client message ids must be unique");
}

#[tokio::test]
async fn without_a_password_an_expired_session_asks_for_a_token_file() {
    let fake = fake().await;
    let first = client(&fake, EMAIL, PASSWORD);
    let mut session = (*first.ensure_session().await.unwrap()).clone();
    session.auth.expires_at = now() - 1;
    let client = SkypeClient::new(urls(&fake), options(), None).unwrap();
    client.restore(session);
    let err = client.ensure_session().await.unwrap_err();
    assert_eq!(err, SkypeError::LoginRequired);
    assert!(err.to_string().contains("token file"));
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let session = client.ensure_session().await.unwrap();
    let shown = format!("{client:?} {session:?}");
    use secrecy::ExposeSecret;
    assert!(!shown.contains(PASSWORD));
    assert!(!shown.contains(session.auth.token.expose_secret()));
    assert!(!shown.contains(session.registration.token.expose_secret()));
}

#[tokio::test]
async fn registration_gives_up_after_the_hop_cap() {
    let fake = fake().await;
    let client = SkypeClient::new(
        urls(&fake),
        ClientOptions {
            max_registration_hops: 0,
            ..options()
        },
        Some(Credentials::new(EMAIL, PASSWORD)),
    )
    .unwrap();
    let err = client.ensure_session().await.unwrap_err();
    assert!(
        matches!(&err, SkypeError::Protocol(text) if text.contains("moved host")),
        "{err:?}"
    );
    assert_eq!(fake.count(Op::Register), 1);
}

#[tokio::test]
async fn a_login_wall_is_reported_once_not_retried_until_a_person_acts() {
    let fake = fake().await;
    fake.inject(Op::WebPost, Fault::LoginWall, 1);
    let client = client(&fake, SKYPE_NAME, PASSWORD);
    let first = client.ensure_session().await.unwrap_err();
    let second = client.ensure_session().await.unwrap_err();
    assert!(matches!(first, SkypeError::LoginWall { .. }));
    assert_eq!(
        first, second,
        "the same answer, without asking Microsoft again"
    );
    assert_eq!(fake.count(Op::WebPost), 1);

    // New credentials (the person fixed the account): logins resume.
    client.set_credentials(Some(Credentials::new(SKYPE_NAME, PASSWORD)));
    assert_eq!(
        fake.count(Op::WebPost),
        1,
        "the same credentials change nothing"
    );
    assert!(client.ensure_session().await.is_err());
    client.set_credentials(Some(Credentials::new(EMAIL, PASSWORD)));
    client.ensure_session().await.unwrap();
    assert_eq!(fake.logins(), 1);
}

// ---------------------------------------------------------------- redirects

/// A request that reached the other host.
#[derive(Debug, Clone)]
struct Seen {
    headers: String,
    body: String,
}

/// Another host a redirect points at: it records whatever reaches it and
/// answers like a willing Skype (201 with a message `Location`), so a
/// followed redirect would look like a posted message.
struct OtherHost {
    base: String,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl OtherHost {
    async fn start() -> OtherHost {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let location = format!("{base}/v1/users/ME/conversations/{GROUP}/messages/1");
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let log = log.clone();
            let location = location.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .unwrap_or_default();
                log.lock().unwrap().push(Seen {
                    headers: format!("{} {} {:?}", parts.method, parts.uri, parts.headers),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                (
                    axum::http::StatusCode::CREATED,
                    [("Location", location)],
                    r#"{"OriginalArrivalTime": 1}"#,
                )
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        OtherHost { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn is_redirect_error(err: &SkypeError, status: u16) -> bool {
    matches!(err, SkypeError::Protocol(text) if text.contains(&format!("redirect (HTTP {status})")))
}

#[tokio::test]
async fn a_redirected_send_is_an_error_and_the_message_goes_nowhere() {
    let fake = fake().await;
    let other = OtherHost::start().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let session = client.ensure_session().await.unwrap();
    use secrecy::ExposeSecret;
    let registration_token = session.registration.token.expose_secret().to_string();

    for status in [301, 302, 303, 307, 308] {
        let target = format!("{}/v1/users/ME/conversations/{GROUP}/messages", other.base);
        fake.inject(Op::Send, Fault::redirect(status, target), 1);
        let err = client
            .send(&group(), &OutgoingMessage::plain("secret plans"))
            .await
            .unwrap_err();
        assert!(is_redirect_error(&err, status), "{status}: {err:?}");
    }

    assert!(other.seen().is_empty(), "{:?}", other.seen());
    assert!(fake.messages(GROUP).is_empty());
    // Nothing that left carried the token anywhere but the fake.
    assert!(
        other
            .seen()
            .iter()
            .all(|s| !s.headers.contains(&registration_token))
    );
}

#[tokio::test]
async fn a_redirected_registration_sends_the_skype_token_nowhere() {
    let fake = fake().await;
    let other = OtherHost::start().await;
    fake.inject(
        Op::Register,
        Fault::redirect(307, format!("{}/v1/users/ME/endpoints", other.base)),
        1,
    );
    let client = client(&fake, EMAIL, PASSWORD);

    let err = client.ensure_session().await.unwrap_err();

    assert!(is_redirect_error(&err, 307), "{err:?}");
    assert!(other.seen().is_empty(), "{:?}", other.seen());
    assert_eq!(fake.registrations(), 0);
}

#[tokio::test]
async fn a_redirected_login_posts_the_password_nowhere() {
    for (username, op) in [(EMAIL, Op::Soap), (SKYPE_NAME, Op::WebPost)] {
        let fake = fake().await;
        let other = OtherHost::start().await;
        fake.inject(op, Fault::redirect(307, format!("{}/login", other.base)), 1);
        let client = client(&fake, username, PASSWORD);

        let err = client.ensure_session().await.unwrap_err();

        assert!(is_redirect_error(&err, 307), "{op:?}: {err:?}");
        assert!(other.seen().is_empty(), "{op:?}: {:?}", other.seen());
        assert!(
            other.seen().iter().all(|s| !s.body.contains("ss%3Cw"))
                && other.seen().iter().all(|s| !s.body.contains("p&amp;ss")),
            "the password left"
        );
        assert_eq!(fake.logins(), 0);
    }
}

#[tokio::test]
async fn the_login_page_redirect_is_followed_only_to_trusted_urls() {
    let fake = fake().await;
    let other = OtherHost::start().await;
    let port = other.base.rsplit(':').next().unwrap().to_string();
    // Loopback reached through a name that is neither https nor a loopback
    // address as written: untrusted by the rule of SkypeUrls.
    let untrusted = format!("http://[::ffff:127.0.0.1]:{port}/login/oauth/microsoft");
    fake.inject(Op::WebStart, Fault::redirect(302, untrusted), 1);
    let client = client(&fake, SKYPE_NAME, PASSWORD);

    let err = client.ensure_session().await.unwrap_err();

    assert!(
        matches!(&err, SkypeError::Protocol(text) if text.contains("untrusted")),
        "{err:?}"
    );
    assert!(other.seen().is_empty(), "{:?}", other.seen());
    assert_eq!(fake.count(Op::WebPost), 0);
}

/// The web flow's first page on the fake, with its query.
fn login_page(fake: &FakeSkype) -> String {
    format!(
        "{}/login/oauth/microsoft?client_id=578134&redirect_uri=https%3A%2F%2Fweb.skype.com",
        fake.urls().login
    )
}

#[tokio::test]
async fn the_login_page_redirect_on_the_login_host_is_followed() {
    let fake = fake().await;
    let page = login_page(&fake);
    // An absolute Location, then a relative one (resolved against the
    // page that gave it).
    let origin = fake.urls().msgs.trim_end_matches("/v1").to_string();
    let relative = page.strip_prefix(&origin).unwrap().to_string();
    fake.inject(Op::WebStart, Fault::redirect(301, page.clone()), 1);
    fake.inject(Op::WebStart, Fault::redirect(302, relative), 1);
    let client = client(&fake, SKYPE_NAME, PASSWORD);

    client
        .send(&group(), &OutgoingMessage::plain("after two hops"))
        .await
        .unwrap();

    assert_eq!(fake.count(Op::WebStart), 3);
    assert_eq!(fake.logins(), 1);
    assert_eq!(fake.messages(GROUP).len(), 1);
}

#[tokio::test]
async fn a_login_page_redirect_loop_is_cut_off() {
    let fake = fake().await;
    fake.inject(Op::WebStart, Fault::redirect(302, login_page(&fake)), 20);
    let client = client(&fake, SKYPE_NAME, PASSWORD);

    let err = client.ensure_session().await.unwrap_err();

    assert!(
        matches!(&err, SkypeError::Protocol(text) if text.contains("redirected more than")),
        "{err:?}"
    );
    assert_eq!(fake.count(Op::WebStart), 6, "the first request and 5 hops");
    assert_eq!(fake.count(Op::WebPost), 0);
}

// ---------------------------------------------------------------- bounded reads

#[tokio::test]
async fn a_huge_answer_is_cut_short_not_read_whole() {
    const HUGE: usize = 150 * 1024 * 1024;
    let fake = fake().await;
    let first = client(&fake, EMAIL, PASSWORD);
    let mut session = (*first.ensure_session().await.unwrap()).clone();
    // As from a bare token file: the name must be read from the profile.
    session.auth.display_name = None;

    // An error body: its start is enough to say what happened.
    fake.inject(
        Op::Send,
        Fault::HugeBody {
            status: 500,
            bytes: HUGE,
        },
        1,
    );
    let started = std::time::Instant::now();
    let err = first
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap_err();
    assert_eq!(err, SkypeError::Unavailable { status: 500 });
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A success body past the cap is a bad answer (here the profile, read
    // once by a new client before its first post).
    let second = SkypeClient::new(urls(&fake), options(), None).unwrap();
    second.restore(session);
    fake.inject(
        Op::Profile,
        Fault::HugeBody {
            status: 200,
            bytes: HUGE,
        },
        1,
    );
    let started = std::time::Instant::now();
    let err = second
        .send(&group(), &OutgoingMessage::rich("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SkypeError::Protocol(text) if text.contains("larger than 1048576 bytes")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(fake.messages(GROUP).is_empty());
}

// ---------------------------------------------------------------- the uncertain send

/// A client that gives up on an answer after `timeout`.
fn impatient_client(fake: &FakeSkype, timeout: Duration) -> SkypeClient {
    let options = ClientOptions {
        request_timeout: timeout,
        ..ClientOptions::default()
    };
    SkypeClient::new(urls(fake), options, Some(Credentials::new(EMAIL, PASSWORD))).unwrap()
}

const CLIENT_ID: &str = "1234567890123456789";

#[tokio::test]
async fn a_late_answer_is_an_unknown_outcome_and_the_read_back_finds_the_message() {
    let fake = fake().await;
    fake.set_dedupe(false);
    let client = impatient_client(&fake, Duration::from_millis(300));
    client.ensure_session().await.unwrap();
    assert_eq!(client.find_sent(&group(), CLIENT_ID).await.unwrap(), None);
    fake.inject(Op::Send, Fault::AnswerLate(Duration::from_secs(2)), 1);

    let err = client
        .send_as(&group(), &OutgoingMessage::rich("once"), CLIENT_ID)
        .await
        .unwrap_err();

    assert_eq!(err, SkypeError::OutcomeUnknown);
    assert!(err.is_transient());
    let stored = fake.messages(GROUP);
    assert_eq!(stored.len(), 1, "Skype took it");
    let found = client.find_sent(&group(), CLIENT_ID).await.unwrap();
    assert_eq!(
        found,
        Some(SentMessage {
            id: stored[0].id.clone(),
            arrival_time: Some(stored[0].arrival_time),
            client_message_id: CLIENT_ID.into(),
        })
    );
    // Found, so nothing is sent again: still exactly one message.
    assert_eq!(fake.messages(GROUP).len(), 1);
    assert_eq!(fake.count(Op::Send), 1);
}

#[tokio::test]
async fn a_connection_dropped_after_the_post_is_an_unknown_outcome() {
    let fake = fake().await;
    fake.set_dedupe(false);
    let client = client(&fake, EMAIL, PASSWORD);
    client.ensure_session().await.unwrap();
    fake.inject(Op::Send, Fault::DropAfterHandling, 1);

    let err = client
        .send_as(&group(), &OutgoingMessage::rich("once"), CLIENT_ID)
        .await
        .unwrap_err();

    assert_eq!(err, SkypeError::OutcomeUnknown);
    let found = client
        .find_sent(&group(), CLIENT_ID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fake.messages(GROUP).len(), 1);
    assert_eq!(found.id, fake.messages(GROUP)[0].id);
}

#[tokio::test]
async fn a_post_that_never_connected_is_not_an_unknown_outcome() {
    let fake = fake().await;
    let first = client(&fake, EMAIL, PASSWORD);
    let mut session = (*first.ensure_session().await.unwrap()).clone();
    // A messaging host nobody listens on: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    session.registration.msgs_host = format!("http://127.0.0.1:{port}/v1");
    let client = client(&fake, EMAIL, PASSWORD);
    client.restore(session);

    let err = client
        .send_as(&group(), &OutgoingMessage::rich("x"), CLIENT_ID)
        .await
        .unwrap_err();

    assert!(matches!(err, SkypeError::Connection(_)), "{err:?}");
}

#[tokio::test]
async fn an_uploaded_file_whose_post_got_no_answer_is_an_unknown_outcome() {
    let fake = fake().await;
    fake.set_dedupe(false);
    let client = impatient_client(&fake, Duration::from_millis(300));
    client.ensure_session().await.unwrap();
    fake.inject(Op::Send, Fault::AnswerLate(Duration::from_secs(2)), 1);
    let file = Attachment {
        kind: AttachmentKind::File,
        name: "notes.txt".into(),
        bytes: b"hello".to_vec(),
    };

    let err = client
        .send_file_as(&group(), &file, CLIENT_ID)
        .await
        .unwrap_err();

    assert_eq!(err, SkypeError::OutcomeUnknown);
    let found = client
        .find_sent(&group(), CLIENT_ID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, fake.messages(GROUP)[0].id);

    // A late answer anywhere before the post (here the upload) posted nothing.
    fake.inject(Op::AsmUpload, Fault::AnswerLate(Duration::from_secs(2)), 1);
    let err = client
        .send_file_as(&group(), &file, "1234567890123456780")
        .await
        .unwrap_err();
    assert_eq!(err, SkypeError::Timeout);
    assert_eq!(fake.messages(GROUP).len(), 1);
}

#[tokio::test]
async fn the_read_back_renews_a_stale_registration_once_and_sees_only_our_messages() {
    let fake = fake().await;
    let client = client(&fake, EMAIL, PASSWORD);
    let sent = client
        .send_as(&group(), &OutgoingMessage::rich("mine"), CLIENT_ID)
        .await
        .unwrap();
    fake.inject(Op::ListMessages, Fault::EndpointMissing, 1);

    let found = client.find_sent(&group(), CLIENT_ID).await.unwrap();

    assert_eq!(found.as_ref().map(|m| &m.id), Some(&sent.id));
    assert_eq!(found.unwrap().arrival_time, sent.arrival_time);
    assert_eq!(fake.count(Op::ListMessages), 2);
    assert_eq!(fake.registrations(), 2);
    let list = fake
        .requests()
        .into_iter()
        .rfind(|r| r.op == Some(Op::ListMessages))
        .unwrap();
    assert_eq!(
        list.query.as_deref(),
        Some(
            "startTime=0&pageSize=100&view=msnp24Equivalent&targetType=Passport%7CSkype%7CLync%7CThread"
        )
    );
    assert!(
        list.header("registrationtoken")
            .is_some_and(|t| t.starts_with("registrationToken="))
    );
    assert_all_accepted_but(&fake, Op::ListMessages);
}

/// Like [`assert_all_accepted`], but `op` may have drawn an injected error.
fn assert_all_accepted_but(fake: &FakeSkype, op: Op) {
    for request in fake.requests() {
        let redirect = request.op == Some(Op::Register) && request.status == 404;
        assert!(
            request.status < 400 || redirect || request.op == Some(op),
            "the fake rejected {} {} with {}",
            request.method,
            request.path,
            request.status
        );
    }
}

// ---------------------------------------------------------------- a fix while blocked

/// A login gate whose store holds whatever the test puts there, counting
/// how often it is asked.
#[derive(Default)]
struct StoreGate {
    stored: std::sync::Mutex<Option<Session>>,
    looks: std::sync::atomic::AtomicUsize,
}

impl StoreGate {
    fn looks(&self) -> usize {
        self.looks.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl LoginGate for StoreGate {
    async fn before_login(
        &self,
        _refused: Option<&Session>,
    ) -> Result<Option<Session>, SkypeError> {
        Ok(None)
    }

    async fn after_login(&self, _outcome: Result<&Session, &SkypeError>) {}

    async fn stored_session(
        &self,
        _refused: Option<&Session>,
    ) -> Result<Option<Session>, SkypeError> {
        self.looks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(self.stored.lock().unwrap().clone())
    }
}

const LOOK_INTERVAL: Duration = Duration::from_millis(300);

fn gated_client(
    fake: &FakeSkype,
    credentials: Option<Credentials>,
    gate: &Arc<StoreGate>,
) -> SkypeClient {
    let options = ClientOptions {
        stored_session_interval: LOOK_INTERVAL,
        ..options()
    };
    let gate: Arc<dyn LoginGate> = gate.clone();
    SkypeClient::new(urls(fake), options, credentials)
        .unwrap()
        .with_login_gate(gate)
}

/// A good session, as a person would upload it (logged in elsewhere).
async fn uploaded_session(fake: &FakeSkype) -> Session {
    let elsewhere = client(fake, EMAIL, PASSWORD);
    (*elsewhere.ensure_session().await.unwrap()).clone()
}

#[tokio::test]
async fn a_session_stored_during_a_login_wall_is_used_without_a_login() {
    let fake = fake().await;
    fake.inject(Op::WebPost, Fault::LoginWall, 1);
    let gate = Arc::new(StoreGate::default());
    let client = gated_client(&fake, Some(Credentials::new(SKYPE_NAME, PASSWORD)), &gate);
    let (conversation, message) = (group(), OutgoingMessage::rich("fixed"));
    let send = || client.send(&conversation, &message);

    assert!(matches!(
        client.ensure_session().await,
        Err(SkypeError::LoginWall { .. })
    ));
    assert!(matches!(
        client.login_blocked(),
        Some(SkypeError::LoginWall { .. })
    ));
    // Blocked: the store is looked at, at most once per interval.
    assert!(matches!(send().await, Err(SkypeError::LoginWall { .. })));
    assert!(matches!(send().await, Err(SkypeError::LoginWall { .. })));
    assert_eq!(gate.looks(), 1);

    // A person uploads a good session; it is seen at the next look.
    *gate.stored.lock().unwrap() = Some(uploaded_session(&fake).await);
    let logins = fake.logins();
    assert!(matches!(send().await, Err(SkypeError::LoginWall { .. })));
    assert_eq!(gate.looks(), 1, "not before the interval");
    tokio::time::sleep(LOOK_INTERVAL).await;

    send().await.unwrap();

    assert_eq!(gate.looks(), 2);
    assert_eq!(fake.messages(GROUP).len(), 1);
    assert_eq!(fake.logins(), logins, "no login");
    assert_eq!(fake.count(Op::WebPost), 1, "Microsoft was not asked again");
    assert_eq!(client.login_blocked(), None, "the block is lifted");
    send().await.unwrap();
    assert_eq!(gate.looks(), 2, "a fresh session needs no look");
}

#[tokio::test]
async fn without_a_password_a_stored_session_replaces_an_expired_one() {
    let fake = fake().await;
    let gate = Arc::new(StoreGate::default());
    let client = gated_client(&fake, None, &gate);
    let mut expired = uploaded_session(&fake).await;
    expired.auth.expires_at = now() - 1;
    client.restore(expired);

    assert_eq!(
        client.ensure_session().await.unwrap_err(),
        SkypeError::LoginRequired
    );
    *gate.stored.lock().unwrap() = Some(uploaded_session(&fake).await);
    tokio::time::sleep(LOOK_INTERVAL).await;

    client
        .send(&group(), &OutgoingMessage::rich("from the upload"))
        .await
        .unwrap();
    assert_eq!(gate.looks(), 2);
    assert_eq!(fake.messages(GROUP).len(), 1);
    assert_eq!(fake.logins(), 2, "the two logins elsewhere, none here");
}

#[tokio::test]
async fn a_stale_stored_session_is_not_adopted() {
    let fake = fake().await;
    fake.inject(Op::Soap, Fault::LoginRateLimit, 1);
    let gate = Arc::new(StoreGate::default());
    let client = gated_client(&fake, Some(Credentials::new(EMAIL, PASSWORD)), &gate);
    assert!(client.ensure_session().await.is_err());
    let mut stale = uploaded_session(&fake).await;
    stale.auth.expires_at = now() + 10;
    *gate.stored.lock().unwrap() = Some(stale);

    let err = client.ensure_session().await.unwrap_err();

    assert!(
        matches!(err, SkypeError::LoginRateLimited { .. }),
        "{err:?}"
    );
    assert_eq!(gate.looks(), 1);
    assert!(client.login_blocked().is_some());
}
