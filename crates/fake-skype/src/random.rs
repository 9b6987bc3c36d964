//! Random token values in the shapes the real service used.
//!
//! Tokens must be random so that a client cannot pass by hard-coding one, and
//! they use the awkward characters the real ones had (`+`, `/`, `=`, `!`,
//! `*`, `$`) so that a client which forgets to URL-encode them fails.

/// A generator (fastrand, seeded by the OS) with the token shapes.
pub(crate) struct Rng(fastrand::Rng);

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

impl Rng {
    pub fn new() -> Rng {
        Rng(fastrand::Rng::new())
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        std::iter::repeat_with(|| self.0.u8(..)).take(n).collect()
    }

    /// `n` characters drawn from `alphabet`.
    fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        std::iter::repeat_with(|| alphabet[self.0.usize(..alphabet.len())] as char)
            .take(n)
            .collect()
    }

    /// Letters and digits.
    pub fn alnum(&mut self, n: usize) -> String {
        self.pick(ALNUM, n)
    }

    /// Upper-case letters and digits (opid values).
    pub fn upper_alnum(&mut self, n: usize) -> String {
        self.pick(UPPER_ALNUM, n)
    }

    /// Lower-case hex of `n` characters.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = hex::encode(self.bytes(n.div_ceil(2)));
        s.truncate(n);
        s
    }

    /// Standard base64 (with `+`, `/`, `=` padding) of `n` random bytes.
    pub fn base64(&mut self, n: usize) -> String {
        super::wire::base64(&self.bytes(n))
    }

    /// A lower-case random (version 4) GUID without braces.
    pub fn guid(&mut self) -> String {
        let h = self.hex(32);
        let variant = ['8', '9', 'a', 'b'][(self.bytes(1)[0] % 4) as usize];
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            variant,
            &h[17..20],
            &h[20..32]
        )
    }

    /// A JWT-shaped skype token of about 420 characters, as the real ones were.
    pub fn skype_token(&mut self) -> String {
        const HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEwNiIsIng1dCI6Im9QMWFxQnlfR3hZU3pSaXhuQ25zdE5PU2p2cyIsInR5cCI6IkpXVCJ9";
        let payload = self.pick(BASE64URL, 234);
        let signature = self.pick(BASE64URL, 86);
        format!("{HEADER}.{payload}.{signature}")
    }

    /// A Passport compact ticket (`t=...&p=`): base64 plus `!`, `*` and `$`.
    pub fn security_token(&mut self) -> String {
        let body = self.base64(360);
        format!("t=Ew{}!*${}&p=", &body[..240], &body[240..])
    }

    /// A web-flow `t` value, form-hostile like the real ones.
    pub fn t_value(&mut self) -> String {
        format!("Ew{}!{}", self.base64(240), self.alnum(8))
    }

    /// A PPFT value: letters, digits and `!*$`, as Microsoft's were.
    pub fn ppft(&mut self) -> String {
        format!(
            "D{}!{}*{}$$",
            self.alnum(120),
            self.alnum(40),
            self.alnum(30)
        )
    }
}
