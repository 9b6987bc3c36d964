//! The Skype client against the strict fake Skype server, over real HTTP on
//! loopback: every flow of skype-protocol.md, every failure the real pages
//! gave, and the renewal and recovery rules.

#[allow(dead_code)]
#[path = "support/fake_skype/mod.rs"]
mod fake_skype;
#[allow(dead_code)]
#[path = "support/local_app.rs"]
mod local_app;

use std::sync::Arc;
use std::time::Duration;

use fake_skype::{Account, FakeSkype, Fault, Op};
use skype_sender::skype::{
    Attachment, AttachmentKind, ClientOptions, ConversationId, Credentials, MessageId,
    OutgoingMessage, SkypeClient, SkypeError, SkypeUrls, parse_token_file, write_token_file,
};

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
    assert_eq!(soap.body_str(), include_str!("data/soap-envelope.txt"));
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
    let file = write_token_file(&first.session().unwrap());

    // A new process: no credentials at all, only the token file.
    let second = SkypeClient::new(urls(&fake), options(), None).unwrap();
    second.restore(parse_token_file(&file).unwrap());
    let generation = second.generation();
    second
        .send(&group(), &OutgoingMessage::rich("from the file"))
        .await
        .unwrap();

    assert_eq!((fake.logins(), fake.registrations()), (1, 1));
    assert_eq!(
        second.generation(),
        generation,
        "nothing changed, nothing to save"
    );
    // The display name costs one profile read per client, then none.
    second
        .send(&group(), &OutgoingMessage::rich("again"))
        .await
        .unwrap();
    assert_eq!(fake.count(Op::Profile), 2);
    assert_eq!(fake.messages(GROUP).len(), 2);
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
    fake.inject(Op::Send, Fault::Slow(Duration::from_secs(2)), 1);
    assert_eq!(
        client
            .send(&group(), &OutgoingMessage::rich("x"))
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
