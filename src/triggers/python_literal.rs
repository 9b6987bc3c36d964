//! Python dict literals as bodies (SQS records, direct and EventBridge).
//!
//! The original ecosystem's producers queued `str(payload)` of a Python
//! dict, not JSON: `{'msg': "it's done", 'channel': 'ops', 'n': 3, 'x': None}`.
//! This reads exactly that text, as `repr()` writes it, into the JSON value
//! it stands for: a dict with string keys, whose values are strings, ints,
//! floats, `True`, `False`, `None`, and lists and dicts of those. It is a
//! small strict parser, never `eval`, and never a quote swap (which breaks
//! on the first apostrophe inside a string). Anything else is refused
//! rather than guessed: sets, tuples, bytes, prefixed strings, names and
//! calls, escapes `repr()` does not write, `inf` and `nan` (no JSON
//! number), and ints beyond 64 bits.

use std::str::Chars;

use serde_json::{Map, Number, Value};

/// Deepest nesting of dicts and lists, the outer dict included: payloads
/// are flat, and the limit keeps the recursion's stack small.
const MAX_DEPTH: usize = 32;

/// The JSON value of `text` when it is one Python dict literal (whitespace
/// around it allowed), `None` otherwise.
pub fn parse(text: &str) -> Option<Value> {
    let mut parser = Parser {
        rest: text.chars(),
        depth: 0,
    };
    parser.skip_space();
    if parser.peek() != Some('{') {
        return None;
    }
    let value = parser.value()?;
    parser.skip_space();
    parser.rest.as_str().is_empty().then_some(value)
}

/// The text still to read, and how many dicts and lists are open.
struct Parser<'a> {
    rest: Chars<'a>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.rest.clone().next()
    }

    /// Consumes `expected` if it comes next.
    fn eat(&mut self, expected: char) -> bool {
        let next = self.peek() == Some(expected);
        if next {
            self.rest.next();
        }
        next
    }

    /// Python's whitespace between tokens (newlines included: inside
    /// brackets a literal may span lines).
    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r' | '\x0c')) {
            self.rest.next();
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            '{' => {
                let mut map = Map::new();
                self.items('}', |parser| {
                    let key = parser.string()?;
                    parser.skip_space();
                    parser.eat(':').then_some(())?;
                    parser.skip_space();
                    // A repeated key keeps its last value, as in Python.
                    map.insert(key, parser.value()?);
                    Some(())
                })?;
                Some(Value::Object(map))
            }
            '[' => {
                let mut list = Vec::new();
                self.items(']', |parser| {
                    list.push(parser.value()?);
                    Some(())
                })?;
                Some(Value::Array(list))
            }
            '\'' | '"' => self.string().map(Value::String),
            '-' | '0'..='9' => self.number(),
            _ => self.keyword(),
        }
    }

    /// The opening bracket, then items separated by commas up to `close`,
    /// with a trailing comma allowed (`{'a': 1,}`, `[1,]`).
    fn items(&mut self, close: char, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.rest.next();
        loop {
            self.skip_space();
            if self.eat(close) {
                break;
            }
            item(self)?;
            self.skip_space();
            if !self.eat(',') {
                self.eat(close).then_some(())?;
                break;
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// A string in single or double quotes, without prefix (`b'..'`,
    /// `r'..'`, `u'..'` are refused as names).
    fn string(&mut self) -> Option<String> {
        let quote = self.rest.next().filter(|c| matches!(c, '\'' | '"'))?;
        let mut text = String::new();
        loop {
            match self.rest.next()? {
                c if c == quote => return Some(text),
                '\\' => text.push(self.escape()?),
                // A syntax error in Python; `repr()` writes `\n`, `\r`, `\x00`.
                '\n' | '\r' | '\0' => return None,
                c => text.push(c),
            }
        }
    }

    /// The escapes `repr()` writes, and `\"`; any other is refused
    /// (Python would keep `\q` as two characters, with a warning).
    fn escape(&mut self) -> Option<char> {
        Some(match self.rest.next()? {
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'x' => self.hex(2)?,
            'u' => self.hex(4)?,
            'U' => self.hex(8)?,
            _ => return None,
        })
    }

    /// Exactly `digits` hex digits naming a Unicode scalar value (a lone
    /// surrogate such as `\ud800` has no place in JSON text).
    fn hex(&mut self, digits: usize) -> Option<char> {
        let mut code: u32 = 0;
        for _ in 0..digits {
            code = code * 16 + self.rest.next()?.to_digit(16)?;
        }
        char::from_u32(code)
    }

    /// `-7`, `0`, `1.5`, `1e+16`, `-1.5e-07`: what `repr()` writes for
    /// ints and finite floats. No leading zeros (`07` is an error in
    /// Python), no `_`, `0x`, `+` or `j`.
    fn number(&mut self) -> Option<Value> {
        let start = self.rest.as_str();
        self.eat('-');
        let whole = self.digits()?;
        if whole.len() > 1 && whole.starts_with('0') {
            return None;
        }
        let mut float = false;
        if self.eat('.') {
            self.digits()?;
            float = true;
        }
        if self.eat('e') || self.eat('E') {
            if !self.eat('+') {
                self.eat('-');
            }
            self.digits()?;
            float = true;
        }
        let text = start.get(..start.len() - self.rest.as_str().len())?;
        if float {
            Number::from_f64(text.parse().ok()?).map(Value::Number)
        } else if let Ok(int) = text.parse::<i64>() {
            Some(int.into())
        } else {
            text.parse::<u64>().ok().map(Value::from)
        }
    }

    /// One or more ASCII digits.
    fn digits(&mut self) -> Option<&str> {
        self.word(|c| c.is_ascii_digit())
    }

    /// `True`, `False` or `None`; any other name (`true`, `null`, `inf`,
    /// `float`, `b`, a set's or a tuple's bracket) is refused.
    fn keyword(&mut self) -> Option<Value> {
        match self.word(|c| c.is_ascii_alphanumeric() || c == '_')? {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            _ => None,
        }
    }

    /// The longest non-empty run of characters that are `part` of it.
    fn word(&mut self, part: impl Fn(char) -> bool) -> Option<&str> {
        let rest = self.rest.as_str();
        let end = rest.find(|c: char| !part(c)).unwrap_or(rest.len());
        let (word, after) = (rest.get(..end)?, rest.get(end..)?);
        self.rest = after.chars();
        (!word.is_empty()).then_some(word)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn what_str_of_a_dict_gives() {
        // Each left side is what Python 3 printed for `str(d)`, each right
        // side what `json.dumps(d)` printed.
        let cases = [
            (
                r#"{'msg': 'Hello', 'channel': 'ops'}"#,
                json!({"msg": "Hello", "channel": "ops"}),
            ),
            (
                r#"{'msg': "it's", 'channel': 'ops'}"#,
                json!({"msg": "it's", "channel": "ops"}),
            ),
            (
                r#"{'msg': 'say "hi"', 'channel': 'ops'}"#,
                json!({"msg": "say \"hi\"", "channel": "ops"}),
            ),
            (
                r#"{'msg': 'both \' and "', 'channel': 'ops'}"#,
                json!({"msg": "both ' and \"", "channel": "ops"}),
            ),
            (
                r#"{'msg': 'back\\slash\nnew\tline\r\x00\x07\x7f\x85'}"#,
                json!({"msg": "back\\slash\nnew\tline\r\u{0}\u{7}\u{7f}\u{85}"}),
            ),
            (
                r#"{'msg': 'héllo ☃ 😀 \u200b \U000e0001 \xa0'}"#,
                json!({"msg": "héllo ☃ 😀 \u{200b} \u{e0001} \u{a0}"}),
            ),
            (
                r#"{'msg': "it's done", 'channel': 'ops', 'n': 3, 'x': None, 'ok': True}"#,
                json!({"msg": "it's done", "channel": "ops", "n": 3, "x": null, "ok": true}),
            ),
            (
                r#"{'n': 3, 'neg': -7, 'f': 1.5, 'big': 1e+16, 'small': -1.5e-07, 'no': False, 'zero': 0}"#,
                json!({"n": 3, "neg": -7, "f": 1.5, "big": 1e16, "small": -1.5e-7, "no": false, "zero": 0}),
            ),
            (
                r#"{'nested': {'list': [1, 'a', [None, {}], []], 'd': {'k': 'v'}}}"#,
                json!({"nested": {"list": [1, "a", [null, {}], []], "d": {"k": "v"}}}),
            ),
            (
                r#"{'max': 18446744073709551615, 'min': -9223372036854775808}"#,
                json!({"max": u64::MAX, "min": i64::MIN}),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn what_python_also_accepts() {
        let cases = [
            ("{}", json!({})),
            (
                " \n{ 'a' :1 ,\n\t'b':[ 1, ] , } \n",
                json!({"a": 1, "b": [1]}),
            ),
            (r#"{"a": "b"}"#, json!({"a": "b"})),
            ("{'a': 1, 'a': 2}", json!({"a": 2})),
            (r#"{'q': '\"'}"#, json!({"q": "\""})),
            ("{'e': 2E3}", json!({"e": 2000.0})),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Some(expected), "{text:?}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let deep = format!("{}{}", "{'a': [".repeat(16), "]}".repeat(16));
        let too_deep = format!(
            "{{'a': {}{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        let far_too_deep = format!("{{'a': {}", "[".repeat(100_000));
        assert!(parse(&deep).is_some(), "32 levels are fine");
        for text in [
            // Not a dict.
            "",
            "   ",
            "['a']",
            "'a'",
            "None",
            "dict(a=1)",
            // JSON's own tokens.
            "{'a': true}",
            "{'a': null}",
            "{'a': false}",
            // Names, calls, and values without a JSON form.
            "{'a': b}",
            "{'a': float('inf')}",
            "{'a': inf}",
            "{'a': nan}",
            "{'a': -inf}",
            "{'a': __import__('os')}",
            "{'a': True()}",
            "{'a': Truex}",
            // Keys that are not strings; sets, tuples, bytes, prefixes.
            "{1: 'a'}",
            "{None: 'a'}",
            "{('a', 1): 'b'}",
            "{'a', 'b'}",
            "{'a': {'b', 'c'}}",
            "{'a': (1, 2)}",
            "{'a': ()}",
            "{'a': b'x'}",
            "{'a': u'x'}",
            "{'a': r'x'}",
            "{'a': f'x'}",
            "{'a': 'x' 'y'}",
            // Numbers repr() never writes.
            "{'a': 07}",
            "{'a': 0x10}",
            "{'a': 1_000}",
            "{'a': +1}",
            "{'a': - 1}",
            "{'a': --1}",
            "{'a': .5}",
            "{'a': 1.}",
            "{'a': 1e}",
            "{'a': 1j}",
            "{'a': 1e999}",
            "{'a': 18446744073709551616}",
            // Escapes: unknown, short, or a lone surrogate.
            r"{'a': '\q'}",
            r"{'a': '\a'}",
            r"{'a': '\0'}",
            r"{'a': '\x4'}",
            r"{'a': '\u12'}",
            r"{'a': '\ud800'}",
            r"{'a': '\U00110000'}",
            r"{'a': '\N{BULLET}'}",
            "{'a': 'line\\\ncontinued'}",
            // Strings cut short or spanning lines.
            "{'a': 'x}",
            "{'a': \"x'}",
            "{'a': 'x\\'}",
            "{'a': 'two\nlines'}",
            "{'a': 'nul\0'}",
            // Separators.
            "{,}",
            "{'a': 1,,}",
            "{'a': 1 'b': 2}",
            "{'a' 1}",
            "{'a': [1 2]}",
            "{'a': [,]}",
            "{'a': 1]",
            "{'a': [1}",
            // Garbage after the dict, comments, non-Python whitespace.
            "{'a': 1} x",
            "{'a': 1}{}",
            "{'a': 1} # note",
            "{'a': 1, # note\n}",
            "{'a':\u{a0}1}",
            &too_deep,
            &far_too_deep,
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    /// `repr()` of a JSON value, as Python writes it for the same data.
    fn repr(value: &Value) -> String {
        match value {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Number(number) => number.to_string(),
            Value::String(text) => repr_string(text),
            Value::Array(list) => {
                let items: Vec<String> = list.iter().map(repr).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(map) => {
                let items: Vec<String> = map
                    .iter()
                    .map(|(key, value)| format!("{}: {}", repr_string(key), repr(value)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        }
    }

    fn repr_string(text: &str) -> String {
        let quote = if text.contains('\'') && !text.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::from(quote);
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == quote => out.extend(['\\', c]),
                c if c.is_control() && u32::from(c) <= 0xff => {
                    out.push_str(&format!("\\x{:02x}", u32::from(c)));
                }
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push(quote);
        out
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter_map("finite", Number::from_f64)
                .prop_map(Value::Number),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn never_panics_on_near_misses(text in r#"[{}\[\]'",: \\xuU0-9a-fTrueNonFals.e+-]{0,40}"#) {
            let _ = parse(&text);
        }

        #[test]
        fn reads_back_what_repr_writes(
            map in prop::collection::btree_map(any::<String>(), json_value(), 0..6)
        ) {
            let value = Value::Object(map.into_iter().collect());
            let text = repr(&value);
            prop_assert_eq!(parse(&text), Some(value), "{}", text);
            // Every proper prefix is cut short somewhere: refused.
            for (end, _) in text.char_indices().skip(1) {
                prop_assert_eq!(parse(&text[..end]), None, "{}", &text[..end]);
            }
        }
    }
}
