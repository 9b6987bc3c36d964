//! The web ("Live") login flow SkPy uses for Skype names: PPFT + cookies from
//! the Skype login page, the password post to `post.srf` (with its optional
//! opid round), and the `t` → skypetoken exchange.
//!
//! The pages carry the same markers as Microsoft's (`id="t"`, `sErrTxt:'...'`,
//! `V: [ {`, `<form name="fmHF"`), in the same combinations: notably the
//! success page also holds an `fmHF` form, so a client that checks the
//! markers in the wrong order is caught.

use super::faults::PageFault;
use super::state::{State, WebSession, now_secs};
use super::wire::{Req, Resp, exact_fields, xml_escape};

const CLIENT_ID: &str = "578134";
const REDIRECT_URI: &str = "https://web.skype.com";
const SITE_NAME: &str = "lw.skype.com";
/// `wreply` of the `post.srf` query, once URL-decoded.
const WREPLY: &str = "https://lw.skype.com/login/oauth/proxy?client_id=578134&site_name=lw.skype.com&redirect_uri=https%3A%2F%2Fweb.skype.com%2F";

/// `GET {login}/login/oauth/microsoft`: the sign-in page with PPFT and the
/// `MSPRequ` / `MSPOK` cookies.
pub(crate) fn start(state: &mut State, req: &Req) -> Resp {
    if let Err(why) = check_oauth_query(req) {
        return bad_page(&why);
    }
    let ppft = state.rng.ppft();
    let msprequ = format!("id=N&lt={}&co=1&r={}", now_secs(), state.rng.alnum(12));
    let mspok = format!("$uuid-{}", state.rng.guid());
    state.web_sessions.insert(
        ppft.clone(),
        WebSession {
            msprequ: msprequ.clone(),
            mspok: mspok.clone(),
            pending_opid: None,
        },
    );
    let page = format!(
        "<!DOCTYPE html><html><head><title>Sign in to your Microsoft account</title></head><body>\
         <form name=\"f1\" id=\"i0281\" novalidate=\"novalidate\" spellcheck=\"false\" method=\"post\" \
         autocomplete=\"off\" action=\"https://login.live.com/ppsecure/post.srf\">\
         <input type=\"hidden\" name=\"PPFT\" id=\"i0327\" value=\"{ppft}\"/>\
         <input type=\"hidden\" name=\"PPSX\" value=\"Passpo\"/>\
         </form><script type=\"text/javascript\">var ServerData = {{sCtx:'',iPawnIcon:0,\
         sFT:'{ppft}',urlPost:'https://login.live.com/ppsecure/post.srf'}};</script></body></html>",
        ppft = xml_escape(&ppft),
    );
    Resp::html(200, page)
        .header("Set-Cookie", format!("MSPRequ={msprequ}; path=/; HttpOnly"))
        .header("Set-Cookie", format!("MSPOK={mspok}; path=/; HttpOnly"))
}

/// `POST {live}/ppsecure/post.srf`: the password post, or the opid follow-up.
pub(crate) fn post(state: &mut State, req: &Req, page_fault: Option<PageFault>) -> Resp {
    if let Err(why) = check_post_query(req) {
        return bad_page(&why);
    }
    if let Err(why) = req.require_media_type("application/x-www-form-urlencoded") {
        return bad_page(&why);
    }
    let pairs = match req.form() {
        Ok(pairs) => pairs,
        Err(why) => return bad_page(&why),
    };
    if pairs.iter().any(|(name, _)| name == "opid") {
        opid_post(state, req, &pairs, page_fault)
    } else {
        password_post(state, req, &pairs, page_fault)
    }
}

fn password_post(
    state: &mut State,
    req: &Req,
    pairs: &[(String, String)],
    page_fault: Option<PageFault>,
) -> Resp {
    let fields = match exact_fields(pairs, &["login", "passwd", "PPFT", "loginoptions"]) {
        Ok(fields) => fields,
        Err(why) => return bad_page(&why),
    };
    if fields["loginoptions"] != "3" {
        return bad_page("loginoptions must be 3");
    }
    let ppft = fields["PPFT"];
    if let Err(why) = check_session(state, req, ppft) {
        return bad_page(&why);
    }
    let account = state
        .find_account(fields["login"])
        .filter(|&i| state.accounts[i].password == fields["passwd"]);
    match account {
        Some(account) => outcome(state, ppft, account, page_fault),
        None => Resp::html(200, error_page(&xml_escape(ppft))),
    }
}

fn opid_post(
    state: &mut State,
    req: &Req,
    pairs: &[(String, String)],
    page_fault: Option<PageFault>,
) -> Resp {
    let names = [
        "opid",
        "PPFT",
        "site_name",
        "oauthPartner",
        "client_id",
        "redirect_uri",
        "type",
    ];
    let fields = match exact_fields(pairs, &names) {
        Ok(fields) => fields,
        Err(why) => return bad_page(&why),
    };
    let expected = [
        ("site_name", SITE_NAME),
        ("oauthPartner", "999"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("type", "28"),
    ];
    if let Some((name, value)) = expected.iter().find(|(n, v)| fields[n] != *v) {
        return bad_page(&format!("{name} must be {value}"));
    }
    let ppft = fields["PPFT"];
    if let Err(why) = check_session(state, req, ppft) {
        return bad_page(&why);
    }
    let pending = state.web_sessions.get_mut(ppft).and_then(|session| {
        let matches = session
            .pending_opid
            .as_ref()
            .is_some_and(|(opid, _)| opid == fields["opid"]);
        if matches {
            session.pending_opid.take()
        } else {
            None
        }
    });
    match pending {
        Some((_, account)) => outcome(state, ppft, account, page_fault),
        None => bad_page("unknown or already used opid"),
    }
}

/// The page after accepted credentials: `t`, or what a fault asks for.
fn outcome(state: &mut State, ppft: &str, account: usize, page_fault: Option<PageFault>) -> Resp {
    let ppft_html = xml_escape(ppft);
    let page = match page_fault {
        Some(PageFault::LoginWall) => wall_page(),
        Some(PageFault::TwoFactor) => two_factor_page(&ppft_html),
        Some(PageFault::NoTField) => blank_page(&ppft_html),
        Some(PageFault::NeedsOpid) => {
            let opid = state.rng.upper_alnum(16);
            if let Some(session) = state.web_sessions.get_mut(ppft) {
                session.pending_opid = Some((opid.clone(), account));
            }
            opid_page(&opid, &ppft_html)
        }
        None => {
            // The login is complete: the PPFT is spent, `t` is single use.
            state.web_sessions.remove(ppft);
            let t = state.rng.t_value();
            state.t_values.insert(t.clone(), account);
            t_page(&xml_escape(&t))
        }
    };
    Resp::html(200, page)
}

/// `POST {login}/login/microsoft`: `t` for a skypetoken.
pub(crate) fn skype_token(state: &mut State, req: &Req) -> Resp {
    if let Err(why) = check_oauth_query(req) {
        return bad_page(&why);
    }
    if let Err(why) = req.require_media_type("application/x-www-form-urlencoded") {
        return bad_page(&why);
    }
    let pairs = match req.form() {
        Ok(pairs) => pairs,
        Err(why) => return bad_page(&why),
    };
    let names = [
        "t",
        "client_id",
        "oauthPartner",
        "site_name",
        "redirect_uri",
    ];
    let fields = match exact_fields(&pairs, &names) {
        Ok(fields) => fields,
        Err(why) => return bad_page(&why),
    };
    let expected = [
        ("client_id", CLIENT_ID),
        ("oauthPartner", "999"),
        ("site_name", SITE_NAME),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some((name, value)) = expected.iter().find(|(n, v)| fields[n] != *v) {
        return bad_page(&format!("{name} must be {value}"));
    }
    let Some(account) = state.t_values.remove(fields["t"]) else {
        return Resp::html(
            401,
            page(
                "Sign in",
                "<div id=\"error\">We couldn't sign you in: the t value is invalid or was already used.</div>",
            ),
        );
    };
    let token = state.issue_skype_token(account);
    let lifetime = state.skype_lifetime;
    Resp::html(
        200,
        page(
            "Skype",
            &format!(
                "<form id=\"redirectForm\" name=\"redirectForm\" method=\"post\" action=\"{REDIRECT_URI}\">\
                 <input type=\"hidden\" name=\"skypetoken\" value=\"{token}\"/>\
                 <input type=\"hidden\" name=\"expires_in\" value=\"{lifetime}\"/>\
                 <input type=\"hidden\" name=\"session_id\" value=\"{session}\"/>\
                 <input type=\"hidden\" name=\"site_name\" value=\"{SITE_NAME}\"/>\
                 <input type=\"hidden\" name=\"redirect_uri\" value=\"{REDIRECT_URI}\"/>\
                 </form>",
                token = xml_escape(&token),
                session = state.rng.guid(),
            ),
        ),
    )
}

/// `client_id=578134&redirect_uri=https://web.skype.com`, nothing else.
fn check_oauth_query(req: &Req) -> Result<(), String> {
    let pairs = req.query_pairs()?;
    let fields = exact_fields(&pairs, &["client_id", "redirect_uri"])?;
    if fields["client_id"] != CLIENT_ID {
        return Err(format!("client_id must be {CLIENT_ID}"));
    }
    if fields["redirect_uri"] != REDIRECT_URI {
        return Err(format!("redirect_uri must be {REDIRECT_URI}"));
    }
    Ok(())
}

/// `wa=wsignin1.0&wp=MBI_SSL&wreply=<the proxy URL>`, nothing else.
fn check_post_query(req: &Req) -> Result<(), String> {
    let pairs = req.query_pairs()?;
    let fields = exact_fields(&pairs, &["wa", "wp", "wreply"])?;
    if fields["wa"] != "wsignin1.0" {
        return Err("wa must be wsignin1.0".into());
    }
    if fields["wp"] != "MBI_SSL" {
        return Err("wp must be MBI_SSL".into());
    }
    if fields["wreply"] != WREPLY {
        return Err(format!(
            "wreply must decode to {WREPLY}, got {}",
            fields["wreply"]
        ));
    }
    Ok(())
}

/// The PPFT must be one we issued, sent with that session's cookies and a
/// `CkTst=G<digits>` cookie.
fn check_session(state: &State, req: &Req, ppft: &str) -> Result<(), String> {
    let cookies = req.cookies();
    let cookie = |name: &str| {
        cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let session = state
        .web_sessions
        .get(ppft)
        .ok_or("unknown or already used PPFT")?;
    if cookie("MSPRequ") != Some(session.msprequ.as_str()) {
        return Err("cookie MSPRequ missing or not the one issued with this PPFT".into());
    }
    if cookie("MSPOK") != Some(session.mspok.as_str()) {
        return Err("cookie MSPOK missing or not the one issued with this PPFT".into());
    }
    let cktst = cookie("CkTst")
        .and_then(|v| v.strip_prefix('G'))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    if !cktst {
        return Err("cookie CkTst=G<unix ms> missing or malformed".into());
    }
    Ok(())
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"/><title>{title}</title></head>\
         <body>{body}</body></html>"
    )
}

fn bad_page(why: &str) -> Resp {
    Resp::html(
        400,
        page(
            "Bad request",
            &format!("<div id=\"error\">{}</div>", xml_escape(why)),
        ),
    )
}

/// Success: the auto-submitting `fmHF` form that carries `t`.
fn t_page(t: &str) -> String {
    page(
        "Continue",
        &format!(
            "<form name=\"fmHF\" id=\"fmHF\" action=\"https://lw.skype.com/login/oauth/proxy?client_id=578134&amp;site_name=lw.skype.com&amp;redirect_uri=https%3A%2F%2Fweb.skype.com%2F\" method=\"post\" target=\"_top\">\
             <input type=\"hidden\" name=\"NAPExp\" id=\"NAPExp\" value=\"Fri, 01-Jan-2100 00:00:00 GMT\">\
             <input type=\"hidden\" name=\"wbids\" id=\"wbids\" value=\"0\">\
             <input type=\"hidden\" name=\"pprid\" id=\"pprid\" value=\"00000000deadbeef\">\
             <input type=\"hidden\" name=\"t\" id=\"t\" value=\"{t}\">\
             </form><script type=\"text/javascript\">function OnBack(){{}} document.fmHF.submit();</script>"
        ),
    )
}

/// Wrong password: Microsoft's `sErrTxt`, with its escaped quote.
fn error_page(ppft: &str) -> String {
    page(
        "Sign in to your Microsoft account",
        &format!(
            "<script type=\"text/javascript\">var ServerData = {{sFT:'{ppft}',iMaxStackForKnockoutAsyncComponents:10000,\
             sErrTxt:'Your account or password is incorrect. If you don\\'t remember your password, \
             <a href=\"https://account.live.com/ResetPassword.aspx?wreply=https://login.live.com/\">reset it now.</a>',\
             sErrorCode:'1402',bIsFidoSupported:true}};</script>"
        ),
    )
}

/// The second-factor page: a non-empty proof list `V: [ {...} ]`.
fn two_factor_page(ppft: &str) -> String {
    page(
        "Help us protect your account",
        &format!(
            "<script type=\"text/javascript\">var ServerData = {{sFT:'{ppft}',D:[],\
             V: [ {{\"data\":\"fr*****@example.com\",\"type\":1,\"display\":\"fr*****@example.com\",\
             \"otcEnabled\":true,\"otcSent\":false,\"isLost\":false,\"isSleeping\":false,\
             \"isSADef\":true,\"isVoiceDef\":false,\"isVoiceOnly\":false,\"pushEnabled\":false}} ],\
             sSAUsername:''}};</script>"
        ),
    )
}

/// The captcha / consent / new-terms wall.
fn wall_page() -> String {
    page(
        "Continue",
        "<form name=\"fmHF\" id=\"fmHF\" action=\"https://account.live.com/ar/cancel?ru=https://login.live.com/login.srf%3fid%3d38936\" method=\"post\" target=\"_top\">\
         <input type=\"hidden\" name=\"pprid\" id=\"pprid\" value=\"00000000deadbeef\">\
         <input type=\"hidden\" name=\"ipt\" id=\"ipt\" value=\"wall\">\
         <input type=\"hidden\" name=\"uaid\" id=\"uaid\" value=\"0\">\
         </form><script type=\"text/javascript\">document.fmHF.submit();</script>",
    )
}

/// A page that asks for the opid round: `opid=` in `urlPost`, no `t`.
fn opid_page(opid: &str, ppft: &str) -> String {
    page(
        "Sign in",
        &format!(
            "<script type=\"text/javascript\">var ServerData = {{sFT:'{ppft}',\
             urlPost:'https://login.live.com/ppsecure/post.srf?wa=wsignin1.0&wp=MBI_SSL&opid={opid}&route=C105_BAY',\
             iLoginMode:28}};</script>"
        ),
    )
}

/// A page with none of the markers (Microsoft did not finish the login).
fn blank_page(ppft: &str) -> String {
    page(
        "Sign in to your Microsoft account",
        &format!("<script type=\"text/javascript\">var ServerData = {{sFT:'{ppft}'}};</script>"),
    )
}
