//! Builds a [`Document`] from a reader's open/close/text calls, so the
//! readers only translate their syntax. Tolerant by design: closing what
//! is not open is ignored, what is left open is closed at the end, and
//! nesting deeper than [`MAX_DEPTH`] is flattened (no input can make the
//! writers recurse without bound).

use std::mem;

use super::document::{Block, Document, Inline, link};
use crate::domain::{Piece, split_inline};

/// The deepest nesting of blocks, and of inline spans, kept.
pub const MAX_DEPTH: usize = 12;

/// An inline span a reader can open and close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// A paragraph (opened implicitly by text when none is open).
    Paragraph,
    /// A heading.
    Heading,
    /// Strong emphasis.
    Bold,
    /// Emphasis.
    Italic,
    /// Strikethrough.
    Strike,
    /// A link to the given (not yet checked) destination.
    Link(String),
    /// Text kept without its markup (an image's alt text, say).
    Plain,
}

/// A block container a reader can open and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A quotation.
    Quote,
    /// A list, numbered from the start when `Some`.
    List(Option<u64>),
    /// A list item.
    Item,
}

enum BlockFrame {
    Root(Vec<Block>),
    Quote(Vec<Block>),
    List(Option<u64>, Vec<Vec<Block>>),
    Item(Vec<Block>),
}

struct InlineFrame {
    span: Span,
    children: Vec<Inline>,
}

/// The document under construction.
pub struct Builder {
    blocks: Vec<BlockFrame>,
    inlines: Vec<InlineFrame>,
    /// Opens ignored for depth, per kind: their closes are ignored too.
    skipped_blocks: usize,
    skipped_spans: usize,
    /// Whether `@{id}` in text is a mention.
    inline_mentions: bool,
}

impl Builder {
    /// An empty document; `inline_mentions` turns `@{id|Name}` in text
    /// into mentions.
    pub fn new(inline_mentions: bool) -> Self {
        Self {
            blocks: vec![BlockFrame::Root(Vec::new())],
            inlines: Vec::new(),
            skipped_blocks: 0,
            skipped_spans: 0,
            inline_mentions,
        }
    }

    /// Text; a newline (or CRLF) in it is a line break.
    pub fn text(&mut self, text: &str) {
        for (index, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if index > 0 {
                self.inline(Inline::Break);
            }
            if !line.is_empty() {
                self.inline(Inline::Text(line.to_string()));
            }
        }
    }

    /// An inline element (adjacent text is merged).
    pub fn inline(&mut self, inline: Inline) {
        if self.inlines.is_empty() {
            self.inlines.push(InlineFrame {
                span: Span::Paragraph,
                children: Vec::new(),
            });
        }
        if let Some(frame) = self.inlines.last_mut() {
            push_merged(&mut frame.children, inline);
        }
    }

    /// A leaf block (code): ends the open paragraph.
    pub fn block(&mut self, block: Block) {
        self.end_paragraph();
        self.push_block(block);
    }

    /// Opens a span; a paragraph or heading ends the open one first.
    pub fn open(&mut self, span: Span) {
        if matches!(span, Span::Paragraph | Span::Heading) {
            self.end_paragraph();
        } else if self.inlines.len() > MAX_DEPTH {
            self.skipped_spans += 1;
            return;
        } else if self.inlines.is_empty() {
            self.open(Span::Paragraph);
        }
        self.inlines.push(InlineFrame {
            span,
            children: Vec::new(),
        });
    }

    /// Closes the innermost open span of `span`'s kind and whatever was
    /// opened inside it.
    pub fn close(&mut self, span: &Span) {
        let same_kind = |open: &Span| mem::discriminant(open) == mem::discriminant(span);
        let is_paragraph = matches!(span, Span::Paragraph | Span::Heading);
        if !is_paragraph && self.skipped_spans > 0 {
            self.skipped_spans -= 1;
            return;
        }
        let Some(at) = self
            .inlines
            .iter()
            .rposition(|frame| same_kind(&frame.span))
        else {
            return;
        };
        if at == 0 {
            self.end_paragraph();
            return;
        }
        while self.inlines.len() > at {
            self.pop_span();
        }
    }

    /// Opens a block container (ends the open paragraph).
    pub fn open_container(&mut self, container: Container) {
        self.end_paragraph();
        if self.blocks.len() > MAX_DEPTH {
            self.skipped_blocks += 1;
            return;
        }
        self.blocks.push(match container {
            Container::Quote => BlockFrame::Quote(Vec::new()),
            Container::List(start) => BlockFrame::List(start, Vec::new()),
            Container::Item => BlockFrame::Item(Vec::new()),
        });
    }

    /// Closes the innermost open container of that kind and whatever was
    /// opened inside it.
    pub fn close_container(&mut self, container: Container) {
        self.end_paragraph();
        if self.skipped_blocks > 0 {
            self.skipped_blocks -= 1;
            return;
        }
        let kind = |frame: &BlockFrame| {
            matches!(
                (frame, container),
                (BlockFrame::Quote(_), Container::Quote)
                    | (BlockFrame::List(..), Container::List(_))
                    | (BlockFrame::Item(_), Container::Item)
            )
        };
        let Some(at) = self.blocks.iter().rposition(kind) else {
            return;
        };
        while self.blocks.len() > at.max(1) {
            self.pop_container();
        }
    }

    /// The document, everything still open closed.
    pub fn finish(mut self) -> Document {
        self.end_paragraph();
        while self.blocks.len() > 1 {
            self.pop_container();
        }
        match self.blocks.pop() {
            Some(BlockFrame::Root(blocks)) => Document { blocks },
            _ => Document::default(),
        }
    }

    fn end_paragraph(&mut self) {
        self.skipped_spans = 0;
        while self.inlines.len() > 1 {
            self.pop_span();
        }
        let Some(frame) = self.inlines.pop() else {
            return;
        };
        let children = self.expand(frame.children);
        if children
            .iter()
            .all(|inline| matches!(inline, Inline::Break))
        {
            return;
        }
        self.push_block(match frame.span {
            Span::Heading => Block::Heading(children),
            _ => Block::Paragraph(children),
        });
    }

    fn pop_span(&mut self) {
        let Some(frame) = self.inlines.pop() else {
            return;
        };
        let children = match frame.span {
            Span::Link(_) => frame.children,
            _ => self.expand(frame.children),
        };
        let made = match frame.span {
            Span::Bold => vec![Inline::Bold(children)],
            Span::Italic => vec![Inline::Italic(children)],
            Span::Strike => vec![Inline::Strike(children)],
            Span::Link(href) => link(&href, children),
            Span::Paragraph | Span::Heading | Span::Plain => children,
        };
        if let Some(parent) = self.inlines.last_mut() {
            for inline in made {
                push_merged(&mut parent.children, inline);
            }
        }
    }

    fn push_block(&mut self, block: Block) {
        match self.blocks.last_mut() {
            Some(
                BlockFrame::Root(blocks) | BlockFrame::Quote(blocks) | BlockFrame::Item(blocks),
            ) => {
                blocks.push(block);
            }
            Some(BlockFrame::List(_, items)) => items.push(vec![block]),
            None => {}
        }
    }

    fn pop_container(&mut self) {
        let Some(frame) = self.blocks.pop() else {
            return;
        };
        match frame {
            BlockFrame::Root(blocks) => self.blocks.push(BlockFrame::Root(blocks)),
            BlockFrame::Quote(blocks) => self.push_block(Block::Quote(blocks)),
            BlockFrame::List(start, items) => self.push_block(Block::List { start, items }),
            BlockFrame::Item(blocks) => match self.blocks.last_mut() {
                Some(BlockFrame::List(_, items)) => items.push(blocks),
                _ => blocks.into_iter().for_each(|block| self.push_block(block)),
            },
        }
    }

    /// Turns `@{id|Name}` in text into mentions, when asked to.
    fn expand(&self, children: Vec<Inline>) -> Vec<Inline> {
        if !self.inline_mentions {
            return children;
        }
        let mut out = Vec::with_capacity(children.len());
        for inline in children {
            let Inline::Text(text) = inline else {
                out.push(inline);
                continue;
            };
            for piece in split_inline(&text) {
                out.push(match piece {
                    Piece::Text(text) => Inline::Text(text.to_string()),
                    Piece::Mention(mention) => Inline::Mention(mention),
                });
            }
        }
        out
    }
}

fn push_merged(children: &mut Vec<Inline>, inline: Inline) {
    if let (Some(Inline::Text(last)), Inline::Text(text)) = (children.last_mut(), &inline) {
        last.push_str(text);
        return;
    }
    children.push(inline);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn spans_close_what_was_opened_inside() {
        let mut b = Builder::new(false);
        b.text("a ");
        b.open(Span::Bold);
        b.text("b ");
        b.open(Span::Italic);
        b.text("c");
        b.close(&Span::Bold);
        b.close(&Span::Italic);
        b.text(" d");
        assert_eq!(
            b.finish().blocks,
            vec![Block::Paragraph(vec![
                text("a "),
                Inline::Bold(vec![text("b "), Inline::Italic(vec![text("c")])]),
                text(" d"),
            ])]
        );
    }

    #[test]
    fn containers_nest_and_close_at_the_end() {
        let mut b = Builder::new(false);
        b.open_container(Container::Quote);
        b.open_container(Container::List(None));
        b.open_container(Container::Item);
        b.text("one");
        b.close_container(Container::Item);
        b.text("loose");
        let doc = b.finish();
        assert_eq!(
            doc.blocks,
            vec![Block::Quote(vec![Block::List {
                start: None,
                items: vec![
                    vec![Block::Paragraph(vec![text("one")])],
                    vec![Block::Paragraph(vec![text("loose")])]
                ]
            }])]
        );
    }

    #[test]
    fn inline_mentions_only_when_asked() {
        for on in [true, false] {
            let mut b = Builder::new(on);
            b.text("hi @{8:joe|Joe}");
            let doc = b.finish();
            let Block::Paragraph(inlines) = &doc.blocks[0] else {
                panic!("{doc:?}");
            };
            assert_eq!(inlines.len(), if on { 2 } else { 1 });
        }
    }

    #[test]
    fn depth_is_bounded() {
        let mut b = Builder::new(false);
        for _ in 0..1000 {
            b.open_container(Container::Quote);
            b.open(Span::Bold);
        }
        b.text("deep");
        for _ in 0..1000 {
            b.close(&Span::Bold);
            b.close_container(Container::Quote);
        }
        let doc = b.finish();
        fn depth(blocks: &[Block]) -> usize {
            blocks
                .iter()
                .map(|block| match block {
                    Block::Quote(inner) => 1 + depth(inner),
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
        }
        assert!(depth(&doc.blocks) <= MAX_DEPTH);
    }
}
