//! The warm path on every platform beyond Skype: one container in AWS
//! mode (its secret in moto, behind the counting proxy) posting to a
//! Teams, a Slack, a Discord and a Telegram alias, each at its strict
//! fake. A warm message must make one request to its platform and none to
//! AWS, as a Skype one does: the tokens, the Teams app token and the
//! conversation reference are the container's after the first message.

use std::sync::Arc;

use fake_discord::FakeDiscord;
use fake_slack::FakeSlack;
use fake_teams::{FakeTeams, Inbound, InboundKind, TokenSpec};
use fake_telegram::{ChatKind, FakeTelegram};
use lambda_harness::events;
use lambda_harness::moto;
use serde_json::{Value, json};

use super::harness::{API_KEY, World, http, posted};
use super::report::{Facts, Figure};
use super::{PhaseResult, Sizes};

/// The figure of [`platforms`].
pub const IDS: &[&str] = &["upstream_per_warm_message_by_platform"];

const TEAMS_APP: &str = "b0b0b0b0-1111-4222-8333-444455556666";
const TEAMS_CHAT: &str = "19:bench-chat@thread.v2";
const SLACK_TOKEN: &str = "xoxb-bench-0000-secret";
const SLACK_CHANNEL: &str = "C0BENCH01";
const DISCORD_CHANNEL: &str = "1400000000000000001";
const TELEGRAM_TOKEN: &str = "111222333:AABench-secret";
const TELEGRAM_CHAT: i64 = -1001112223334;

/// The four fakes, set up for one bot each.
struct Fakes {
    teams: FakeTeams,
    slack: FakeSlack,
    discord: FakeDiscord,
    telegram: FakeTelegram,
    discord_url: String,
}

impl Fakes {
    async fn start() -> Fakes {
        let teams = FakeTeams::start().await;
        teams.add_app(TEAMS_APP, "bench-app-password", "contoso");
        let slack = FakeSlack::start().await;
        slack.add_bot(SLACK_TOKEN, "U0BENCHBT", "T0BENCH");
        slack.add_channel(SLACK_CHANNEL, "bench");
        slack.join(SLACK_TOKEN, SLACK_CHANNEL);
        let discord = FakeDiscord::start().await;
        let discord_url = discord.add_webhook(DISCORD_CHANNEL);
        let telegram = FakeTelegram::start().await;
        telegram.add_bot(TELEGRAM_TOKEN, "bench_bot");
        telegram.add_chat(TELEGRAM_CHAT, ChatKind::Supergroup { forum: false });
        telegram.add_member(TELEGRAM_TOKEN, TELEGRAM_CHAT);
        Fakes {
            teams,
            slack,
            discord,
            telegram,
            discord_url,
        }
    }

    /// Requests each fake has received so far.
    fn counts(&self) -> [usize; 4] {
        [
            self.teams.requests().len(),
            self.slack.requests().len(),
            self.discord.requests().len(),
            self.telegram.requests().len(),
        ]
    }
}

/// The aliases, in the order of [`Fakes::counts`].
const ALIASES: [(&str, &str); 4] = [
    ("teams", "Teams"),
    ("slack", "Slack"),
    ("discord", "Discord"),
    ("telegram", "Telegram"),
];

/// Warm messages to each platform: requests at its fake and at AWS.
pub async fn platforms(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    let fakes = Fakes::start().await;
    let secret = json!({
        "api_keys": [API_KEY],
        "teams": {"app_id": TEAMS_APP, "app_password": "bench-app-password", "tenant_id": "contoso"},
        "slack": {"bot_token": SLACK_TOKEN},
        "telegram": {"bot_token": TELEGRAM_TOKEN},
        "channels": {
            "teams": {"kind": "teams", "conversation": TEAMS_CHAT},
            "slack": {"kind": "slack", "channel": SLACK_CHANNEL},
            "discord": {"kind": "discord-webhook", "url": fakes.discord_url},
            "telegram": {"kind": "telegram", "chat": TELEGRAM_CHAT},
        }
    });
    let secret_id = moto::create_secret(
        &world.secrets,
        "skype-sender-bench-platforms",
        &secret.to_string(),
    )
    .await;
    let mut extra: Vec<(&str, String)> = vec![("SECRET_ID", secret_id)];
    extra.extend(fakes.teams.client_env());
    extra.extend(fakes.slack.client_env());
    extra.extend(fakes.telegram.client_env());
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let container = world.function(&extra).await;

    // The Teams bot learns where it is installed, as in AWS.
    let added = fakes.teams.inbound_activity(
        &Inbound::new(TEAMS_APP, TEAMS_CHAT, "contoso"),
        InboundKind::BotAdded,
    );
    let token = fakes.teams.inbound_token(&TokenSpec::new(TEAMS_APP));
    let install = events::http_v2(
        "POST",
        "/api/messages",
        json!({"content-type": "application/json", "authorization": format!("Bearer {token}")}),
        &added.to_string(),
    );
    let (answer, _) = container.invoke(install).await?;
    posted(&answer).map_err(|e| container.explain(&format!("installing the Teams bot: {e}")))?;

    let messages = sizes.platform_messages.max(1);
    let mut rows = Vec::new();
    let mut details = serde_json::Map::new();
    let mut all_ok = true;
    let mut worst = 0.0f64;
    for (index, (alias, name)) in ALIASES.iter().enumerate() {
        let (answer, _) = container.invoke(http(alias, "warming up")).await?;
        posted(&answer).map_err(|e| container.explain(&format!("{name}: {e}")))?;
        let (fake_start, aws_start) = (fakes.counts()[index], world.proxy.count());
        for i in 0..messages {
            let (answer, _) = container
                .invoke(http(alias, &format!("Build {i} <b>passed</b>")))
                .await?;
            posted(&answer).map_err(|e| container.explain(&format!("{name}: {e}")))?;
        }
        let upstream = (fakes.counts()[index] - fake_start) as f64 / messages as f64;
        let aws = world.proxy.since(aws_start).len();
        all_ok &= upstream == 1.0 && aws == 0;
        worst = worst.max(upstream + aws as f64);
        rows.push(format!("{name} {upstream:.2} / {aws}"));
        details.insert(
            (*alias).to_string(),
            json!({"messages": messages, "upstream_per_message": upstream, "aws_requests": aws}),
        );
    }
    let figure = Figure::new("upstream_per_warm_message_by_platform")
        .measured(
            format!("{} (platform / AWS, per warm message)", rows.join(", ")),
            worst,
            "requests",
        )
        .verdict(all_ok)
        .details(Value::Object(details));
    Ok((vec![figure], Facts::default()))
}
