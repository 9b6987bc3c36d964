//! A tiny namespace-aware XML tree, enough to check the SOAP login envelope
//! by structure (element names resolved to namespace URIs) rather than by
//! substring, so a client that gets the prefixes, nesting or escaping wrong
//! is refused.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// One element: resolved namespace, local name, attributes and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub namespace: Option<String>,
    pub name: String,
    /// Unprefixed attributes as (local name, unescaped value).
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The unescaped character data directly inside this element.
    pub text: String,
}

impl Element {
    /// The value of an unprefixed attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Require exactly these element children, in this order, and return them.
    pub fn expect_children(&self, expected: &[(&str, &str)]) -> Result<Vec<&Element>, String> {
        let found: Vec<String> = self.children.iter().map(Element::describe).collect();
        let wanted: Vec<String> = expected
            .iter()
            .map(|(ns, name)| format!("{{{ns}}}{name}"))
            .collect();
        if found != wanted {
            return Err(format!(
                "<{}> must contain exactly {wanted:?}, found {found:?}",
                self.name
            ));
        }
        Ok(self.children.iter().collect())
    }

    /// Require that this element has no child elements and return its text.
    pub fn leaf_text(&self) -> Result<&str, String> {
        if self.children.is_empty() {
            Ok(&self.text)
        } else {
            Err(format!("<{}> must hold text only", self.name))
        }
    }

    fn describe(&self) -> String {
        format!(
            "{{{}}}{}",
            self.namespace.as_deref().unwrap_or(""),
            self.name
        )
    }
}

/// Parse a whole document into its root element.
pub(crate) fn parse(document: &str) -> Result<Element, String> {
    let mut reader = NsReader::from_str(document);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        let namespace = owned_namespace(ns);
        match event {
            Event::Start(start) => stack.push(element(&reader, namespace?, &start)?),
            Event::Empty(start) => {
                let el = element(&reader, namespace?, &start)?;
                attach(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                attach(&mut stack, &mut root, el)?;
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| format!("bad character data: {e}"))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(data) => {
                let data = String::from_utf8(data.into_inner().into_owned())
                    .map_err(|_| "CDATA is not UTF-8".to_string())?;
                push_text(&mut stack, &data)?;
            }
            Event::DocType(_) => return Err("DOCTYPE is not allowed".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("document ends inside an element".into());
    }
    root.ok_or_else(|| "document has no root element".into())
}

/// The namespace URI an element name resolved to; an undeclared prefix is
/// an error.
fn owned_namespace(ns: ResolveResult) -> Result<Option<String>, String> {
    match ns {
        ResolveResult::Bound(ns) => String::from_utf8(ns.as_ref().to_vec())
            .map(Some)
            .map_err(|_| "namespace is not UTF-8".to_string()),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(format!(
            "undeclared namespace prefix {:?}",
            String::from_utf8_lossy(&prefix)
        )),
    }
}

fn element(
    reader: &NsReader<&[u8]>,
    namespace: Option<String>,
    start: &BytesStart,
) -> Result<Element, String> {
    let name = String::from_utf8(start.local_name().as_ref().to_vec())
        .map_err(|_| "element name is not UTF-8")?;
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("bad attribute: {e}"))?;
        let (attr_ns, local) = reader.resolve_attribute(attribute.key);
        if let ResolveResult::Unknown(prefix) = attr_ns {
            return Err(format!(
                "undeclared attribute prefix {:?}",
                String::from_utf8_lossy(&prefix)
            ));
        }
        let key = attribute.key.as_ref();
        if key.starts_with(b"xmlns") || matches!(attr_ns, ResolveResult::Bound(_)) {
            continue;
        }
        let local = String::from_utf8(local.as_ref().to_vec())
            .map_err(|_| "attribute name is not UTF-8")?;
        let value = attribute
            .unescape_value()
            .map_err(|e| format!("bad attribute value: {e}"))?;
        attributes.push((local, value.into_owned()));
    }
    Ok(Element {
        namespace,
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err("more than one root element".into()),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(el) => el.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err("text outside the root element".into()),
    }
    Ok(())
}
