//! A fast reader for the plain block YAML that nearly every manifest is written in, producing
//! exactly the events (and byte spans) saphyr-parser would, or declining the file.
//!
//! saphyr's scanner is general (it handles every construct of YAML 1.2) and was about 40 % of
//! the instructions of a `validate` run on a large repository. Generated and hand-written
//! Kubernetes manifests use a small part of the language: block mappings and sequences
//! indented with spaces, single-line plain and quoted scalars, and single-line flow
//! collections such as `{cpu: "1"}`. This module reads that part only, several times faster,
//! and returns `None` at the first thing outside it (a tab, a non-ASCII byte, an anchor, a
//! block scalar, an escape, a multi-line scalar or flow collection, anything malformed), so the
//! caller parses that file with saphyr instead. It never reports an error itself: saphyr stays
//! the single judge of what is invalid and of every message.
//!
//! The events are saphyr's, with saphyr's positions for them, which are not always obvious: a
//! block mapping starts at its first key; a block sequence starts at its first dash, except one
//! written at the same indentation as the mapping key that holds it (an "indentless" sequence),
//! which starts at its first item's content; a block collection ends where the next token
//! starts (the next line's content, a `---`, or the end of the text); an empty value sits on
//! its key's colon. A differential test (`tests::agrees_with_saphyr`, and the property test in
//! plugin/tests/properties.rs over generated text) holds this module to saphyr's stream.

use saphyr_parser::{Event, ScalarStyle};
use std::borrow::Cow;

/// One event with its byte span, as [`crate::parse`] consumes them.
pub type Spanned<'t> = (Event<'t>, u32, u32);

/// Deepest nesting read here; deeper files go to saphyr (which applies the real limit).
const MAX_DEPTH: usize = 64;
/// saphyr refuses implicit keys longer than 1024 characters; leave those to it.
const MAX_KEY_LENGTH: usize = 1000;

/// Where the reader's events go, as it reads: the tree builder takes them directly (gathering
/// them first cost a tenth of reading).
pub trait Sink<'t> {
    /// Takes one event spanning `start..end`; `Err(Stop)` ends the reading.
    fn event(&mut self, event: Event<'t>, start: u32, end: u32) -> Result<(), Stop>;
}

/// A sink's request to stop reading (it found enough wrong with the text).
pub struct Stop;

/// How a [`read`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Every event of the text went to the sink.
    Whole,
    /// The sink stopped the reading.
    Stopped,
    /// The text uses something this reader does not handle. The sink has had some of its
    /// events: the caller starts over with saphyr.
    Declined,
}

/// Reads every document of `text`, handing the events to `sink` as they are read.
pub fn read<'t>(text: &'t str, sink: &mut impl Sink<'t>) -> Read {
    // Printable ASCII and newlines only: byte offsets are character offsets, no tabs, no CR.
    // A fold, which the compiler vectorises (`all` stops early, and goes byte by byte).
    if text.bytes().fold(false, |other, b| other | (b != b'\n' && !(0x20..0x7f).contains(&b))) {
        return Read::Declined;
    }
    let mut reader = Reader { text, bytes: text.as_bytes(), sink, stopped: false, depth: 0 };
    match reader.stream() {
        Some(()) => Read::Whole,
        None if reader.stopped => Read::Stopped,
        None => Read::Declined,
    }
}

/// The events of every document of `text`, or `None` when the text uses anything this reader
/// does not handle (the caller then uses saphyr).
pub fn events(text: &str) -> Option<Vec<Spanned<'_>>> {
    struct Gather<'t>(Vec<Spanned<'t>>);
    impl<'t> Sink<'t> for Gather<'t> {
        fn event(&mut self, event: Event<'t>, start: u32, end: u32) -> Result<(), Stop> {
            self.0.push((event, start, end));
            Ok(())
        }
    }
    let mut gather = Gather(Vec::new());
    match read(text, &mut gather) {
        Read::Whole | Read::Stopped => Some(gather.0),
        Read::Declined => None,
    }
}

struct Reader<'t, 's, S> {
    text: &'t str,
    bytes: &'t [u8],
    sink: &'s mut S,
    /// The sink asked to stop: the `None` that unwinds the reading is not a decline.
    stopped: bool,
    depth: usize,
}

/// Where the next significant line starts: its indentation and content offset, or the end.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Next {
    /// A line with content: its first non-space byte and that byte's column.
    Line { at: usize, column: usize },
    /// A `---` line starting the next document.
    Marker { at: usize },
    /// The end of the text.
    End,
}

impl Next {
    /// Where a collection ending before this point ends, as saphyr marks it.
    fn mark(self, len: usize) -> u32 {
        match self {
            Next::Line { at, .. } | Next::Marker { at } => at as u32,
            Next::End => len as u32,
        }
    }
}

fn is_space(b: u8) -> bool {
    b == b' '
}

impl<'t, S: Sink<'t>> Reader<'t, '_, S> {
    fn byte(&self, at: usize) -> u8 {
        self.bytes.get(at).copied().unwrap_or(b'\n')
    }

    #[must_use]
    fn push(&mut self, event: Event<'t>, start: usize, end: usize) -> Option<()> {
        if self.sink.event(event, start as u32, end as u32).is_err() {
            self.stopped = true;
            return None;
        }
        Some(())
    }

    fn line_end(&self, from: usize) -> usize {
        memchr::memchr(b'\n', &self.bytes[from..]).map_or(self.bytes.len(), |i| from + i)
    }

    /// The next line at or after `from` (a line start) holding content, skipping blank and
    /// comment-only lines. `None` for a line this reader does not handle (`...`, a `---`
    /// followed by content, a directive).
    fn next_line(&self, mut from: usize) -> Option<Next> {
        loop {
            if from >= self.bytes.len() {
                return Some(Next::End);
            }
            let end = self.line_end(from);
            let line = &self.bytes[from..end];
            let indent = line.iter().take_while(|&&b| is_space(b)).count();
            let content = &line[indent..];
            if content.is_empty() || content[0] == b'#' {
                from = end + 1;
                continue;
            }
            if indent == 0 {
                if line == b"---" {
                    return Some(Next::Marker { at: from });
                }
                if line.starts_with(b"---") || line.starts_with(b"...") || line[0] == b'%' {
                    return None;
                }
            }
            return Some(Next::Line { at: from + indent, column: indent });
        }
    }

    /// The line start after the line holding `at`.
    fn after_line(&self, at: usize) -> usize {
        self.line_end(at) + 1
    }

    /// Checks that only spaces and an optional comment follow `at` on its line.
    fn rest_is_blank(&self, at: usize) -> Option<()> {
        let end = self.line_end(at);
        let rest = &self.bytes[at..end];
        let spaces = rest.iter().take_while(|&&b| is_space(b)).count();
        match rest.get(spaces) {
            None => Some(()),
            Some(b'#') if spaces > 0 => Some(()),
            Some(_) => None,
        }
    }

    fn stream(&mut self) -> Option<()> {
        let mut next = self.next_line(0)?;
        let mut explicit = false;
        loop {
            if let Next::Marker { at } = next {
                explicit = true;
                next = self.next_line(self.after_line(at))?;
            }
            let Next::Line { at, column } = next else {
                // An empty document (`---` at the end, or two in a row) or an empty stream:
                // saphyr marks those with an empty scalar in places not worth copying.
                return if explicit { None } else { Some(()) };
            };
            if column != 0 {
                return None;
            }
            next = self.block_node(at, None)?;
            let mark = next.mark(self.bytes.len()) as usize;
            self.push(Event::DocumentEnd, mark, mark)?;
            match next {
                Next::End => return Some(()),
                Next::Marker { .. } => {}
                Next::Line { .. } => return None,
            }
        }
    }

    /// Reads the node starting at `at` (content on a line, possibly after `- `). `parent` is
    /// the column of the collection holding it (None at the document root): a scalar's next
    /// line may not be indented further than it. Returns what follows the node.
    fn block_node(&mut self, at: usize, parent: Option<usize>) -> Option<Next> {
        let column = at - self.line_start(at);
        match self.byte(at) {
            b'-' if self.byte(at + 1) == b' ' => self.block_sequence(at, column, false),
            b'{' | b'[' => {
                let end = self.flow(at)?;
                if self.byte(end) == b':' {
                    return None;
                }
                self.rest_is_blank(end)?;
                self.after_scalar(end, parent)
            }
            _ => {
                if self.key_end(at).is_some() {
                    return self.block_mapping(at, column);
                }
                let end = self.block_scalar(at)?;
                self.after_scalar(end, parent)
            }
        }
    }

    fn line_start(&self, at: usize) -> usize {
        memchr::memrchr(b'\n', &self.bytes[..at]).map_or(0, |i| i + 1)
    }

    /// After a scalar (or flow collection) ending on its line at `end`: the next line, which
    /// must not continue it (be indented past the collection holding it).
    fn after_scalar(&self, end: usize, parent: Option<usize>) -> Option<Next> {
        let next = self.next_line(self.after_line(end))?;
        if let Next::Line { column, .. } = next
            && parent.is_none_or(|p| column > p)
        {
            return None;
        }
        Some(next)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block sequence whose first dash is at `at`, in column `column`.
    fn block_sequence(&mut self, at: usize, column: usize, indentless: bool) -> Option<Next> {
        self.enter()?;
        let start = if indentless { self.item_content(at)? } else { at };
        self.push(Event::SequenceStart(0, None), start, start)?;
        let mut dash = at;
        let next = loop {
            let content = self.item_content(dash)?;
            let next = self.block_node(content, Some(column))?;
            match next {
                Next::Line { at, column: c }
                    if c == column && self.byte(at) == b'-' && self.byte(at + 1) == b' ' =>
                {
                    dash = at;
                }
                Next::Line { column: c, .. } if c > column || (c == column && !indentless) => {
                    return None;
                }
                _ => break next,
            }
        };
        let mark = next.mark(self.bytes.len()) as usize;
        self.push(Event::SequenceEnd, mark, mark)?;
        self.depth -= 1;
        Some(next)
    }

    /// The content after the dash at `dash` (`- ` and any further spaces), on the same line.
    fn item_content(&self, dash: usize) -> Option<usize> {
        let mut at = dash + 1;
        while self.byte(at) == b' ' {
            at += 1;
        }
        (self.byte(at) != b'\n' && self.byte(at) != b'#').then_some(at)
    }

    /// If a mapping key starts at `at`, the offset of its colon.
    fn key_end(&self, at: usize) -> Option<usize> {
        let end = match self.byte(at) {
            b'"' | b'\'' => self.quoted_end(at)?,
            _ => {
                let (end, colon) = self.plain_extent(at, false)?;
                if !colon {
                    return None;
                }
                end
            }
        };
        (self.byte(end) == b':' && matches!(self.byte(end + 1), b' ' | b'\n')).then_some(end)
    }

    /// A block mapping whose first key starts at `at`, in column `column`.
    fn block_mapping(&mut self, at: usize, column: usize) -> Option<Next> {
        self.enter()?;
        self.push(Event::MappingStart(0, None), at, at)?;
        let mut key = at;
        let next = loop {
            let colon = self.key_end(key)?;
            if colon - key > MAX_KEY_LENGTH {
                return None;
            }
            self.scalar(key, colon)?;
            let mut value = colon + 1;
            while self.byte(value) == b' ' {
                value += 1;
            }
            let next = if matches!(self.byte(value), b'\n' | b'#') {
                match self.next_line(self.after_line(colon))? {
                    Next::Line { at, column: c } if c > column => {
                        self.block_node(at, Some(column))?
                    }
                    Next::Line { at, column: c }
                        if c == column && self.byte(at) == b'-' && self.byte(at + 1) == b' ' =>
                    {
                        self.block_sequence(at, column, true)?
                    }
                    next => {
                        self.push(
                            Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None),
                            colon,
                            colon,
                        )?;
                        next
                    }
                }
            } else {
                match self.byte(value) {
                    b'{' | b'[' => {
                        let end = self.flow(value)?;
                        self.rest_is_blank(end)?;
                        self.after_scalar(end, Some(column))?
                    }
                    b'-' if self.byte(value + 1) == b' ' => return None,
                    _ => {
                        let end = self.block_scalar(value)?;
                        self.after_scalar(end, Some(column))?
                    }
                }
            };
            match next {
                Next::Line { at, column: c } if c == column => {
                    self.key_end(at)?;
                    key = at;
                }
                Next::Line { column: c, .. } if c > column => return None,
                _ => break next,
            }
        };
        let mark = next.mark(self.bytes.len()) as usize;
        self.push(Event::MappingEnd, mark, mark)?;
        self.depth -= 1;
        Some(next)
    }

    /// A single-line scalar value in block context starting at `at`; returns where it ends.
    /// The rest of the line must be blank or a comment.
    fn block_scalar(&mut self, at: usize) -> Option<usize> {
        let end = match self.byte(at) {
            b'"' | b'\'' => self.quoted_end(at)?,
            _ => {
                let (end, colon) = self.plain_extent(at, false)?;
                if colon {
                    return None;
                }
                end
            }
        };
        self.scalar(at, end)?;
        self.rest_is_blank(end)?;
        Some(end)
    }

    /// Emits the scalar written at `start..end` (quotes included for quoted ones).
    fn scalar(&mut self, start: usize, end: usize) -> Option<()> {
        let (text, style, span_end) = match self.byte(start) {
            b'"' => {
                (&self.text[start + 1..end - 1], ScalarStyle::DoubleQuoted, self.token_end(end))
            }
            b'\'' => {
                (&self.text[start + 1..end - 1], ScalarStyle::SingleQuoted, self.token_end(end))
            }
            _ => (&self.text[start..end], ScalarStyle::Plain, end),
        };
        self.push(Event::Scalar(Cow::Borrowed(text), style, 0, None), start, span_end)
    }

    /// The end (after the closing quote) of a quoted scalar on one line, without escapes.
    fn quoted_end(&self, at: usize) -> Option<usize> {
        let quote = self.byte(at);
        let mut i = at + 1;
        loop {
            match self.byte(i) {
                b'\n' | b'\\' => return None,
                b if b == quote => break,
                _ => i += 1,
            }
        }
        // `''` inside single quotes is an escaped quote; leave those to saphyr.
        if quote == b'\'' && self.byte(i + 1) == b'\'' {
            return None;
        }
        Some(i + 1)
    }

    /// The end of a plain scalar starting at `at`, and whether it stopped at a `: ` (a key).
    /// In flow context it also stops at `,[]{}`. `None` for a first character this reader
    /// leaves to saphyr (indicators).
    fn plain_extent(&self, at: usize, flow: bool) -> Option<(usize, bool)> {
        let first = self.byte(at);
        let plain_start = first.is_ascii_alphanumeric()
            || matches!(
                first,
                b'.' | b'/' | b'_' | b'~' | b'+' | b'$' | b'(' | b'=' | b'^' | b';' | b'<'
            )
            || (first == b'-' && self.byte(at + 1).is_ascii_alphanumeric());
        if !plain_start {
            return None;
        }
        if flow { self.plain_extent_bytewise(at, flow) } else { Some(self.block_plain_extent(at)) }
    }

    /// [`Reader::plain_extent`] in block context, where only a line break, `: ` (or `:` at the
    /// end of a line) and ` #` end the scalar: it jumps between those bytes instead of looking
    /// at each one, since block scalars run to kilobytes (ciphertexts, certificates).
    fn block_plain_extent(&self, at: usize) -> (usize, bool) {
        let mut from = at;
        loop {
            let stop = memchr::memchr3(b'\n', b':', b'#', &self.bytes[from..])
                .map_or(self.bytes.len(), |offset| from + offset);
            // The first byte starts a plain scalar, so `stop > at` wherever `stop - 1` is read.
            let key = match self.byte(stop) {
                b':' if matches!(self.byte(stop + 1), b' ' | b'\n') => Some(true),
                b'#' if self.byte(stop - 1) == b' ' => Some(false),
                b':' | b'#' => None,
                _ => Some(false), // a line break, or the end of the text
            };
            if let Some(key) = key {
                // Spaces before the stop are not part of the scalar.
                let end =
                    at + self.bytes[at..stop].iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
                return (end, key);
            }
            from = stop + 1;
        }
    }

    /// [`Reader::plain_extent`] one byte at a time, as flow context needs (its ends depend on
    /// more bytes); after the first byte's check.
    fn plain_extent_bytewise(&self, at: usize, flow: bool) -> Option<(usize, bool)> {
        let mut i = at;
        let mut end = at;
        loop {
            let b = self.byte(i);
            match b {
                b'\n' => return Some((end, false)),
                b':' if matches!(self.byte(i + 1), b' ' | b'\n')
                    || (flow && matches!(self.byte(i + 1), b',' | b'[' | b']' | b'{' | b'}')) =>
                {
                    return Some((end, true));
                }
                b'#' if self.byte(i - 1) == b' ' => return Some((end, false)),
                b',' | b'[' | b']' | b'{' | b'}' if flow => return Some((end, false)),
                // saphyr refuses a word of a flow plain scalar that is `-` before `,[]{}`
                // (`{a: b -}`); found by the subset fuzz target.
                b'-' if flow
                    && self.byte(i - 1) == b' '
                    && matches!(self.byte(i + 1), b',' | b'[' | b']' | b'{' | b'}') =>
                {
                    return None;
                }
                b' ' => i += 1,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
    }

    /// A flow collection written on one line starting at `at` (`{` or `[`); returns the offset
    /// after its closing bracket.
    fn flow(&mut self, at: usize) -> Option<usize> {
        self.enter()?;
        let mapping = self.byte(at) == b'{';
        let close = if mapping { b'}' } else { b']' };
        self.push(
            if mapping { Event::MappingStart(0, None) } else { Event::SequenceStart(0, None) },
            at,
            self.token_end(at + 1),
        )?;
        let mut i = self.skip_spaces(at + 1);
        if self.byte(i) != close {
            loop {
                i = self.flow_node(i)?;
                if mapping {
                    if self.byte(i) != b':' || self.byte(i + 1) != b' ' {
                        return None;
                    }
                    i = self.flow_node(self.skip_spaces(i + 1))?;
                } else if self.byte(i) == b':' {
                    return None;
                }
                match self.byte(i) {
                    b',' => {
                        i = self.skip_spaces(i + 1);
                        if matches!(self.byte(i), b'}' | b']' | b',') {
                            return None;
                        }
                    }
                    b if b == close => break,
                    _ => return None,
                }
            }
        }
        self.push(
            if mapping { Event::MappingEnd } else { Event::SequenceEnd },
            i,
            self.token_end(i + 1),
        )?;
        self.depth -= 1;
        Some(i + 1)
    }

    /// Where saphyr ends the span of a quoted scalar or a bracket ending at `at`: past the
    /// spaces after it and, when one follows, the comment to the end of the line.
    fn token_end(&self, at: usize) -> usize {
        let after = self.skip_spaces(at);
        if after > at && self.byte(after) == b'#' { self.line_end(after) } else { after }
    }

    fn skip_spaces(&self, mut at: usize) -> usize {
        while self.byte(at) == b' ' {
            at += 1;
        }
        at
    }

    /// A node inside a flow collection at `at`; returns the offset after it and any spaces.
    fn flow_node(&mut self, at: usize) -> Option<usize> {
        let end = match self.byte(at) {
            b'{' | b'[' => self.flow(at)?,
            b'"' | b'\'' => {
                let end = self.quoted_end(at)?;
                self.scalar(at, end)?;
                end
            }
            _ => {
                let (end, _) = self.plain_extent(at, true)?;
                if end == at || self.byte(end) == b'#' {
                    return None;
                }
                self.scalar(at, end)?;
                end
            }
        };
        let after = self.skip_spaces(end);
        (after == end || self.byte(after) != b'#').then_some(after)
    }
}

/// saphyr's events for `text` in the shape [`events`] gives (byte offsets; only the events the
/// tree builder reads; `DocumentEnd` spans zeroed, since nothing reads them), or `None` when
/// saphyr finds an error. For differential tests; offsets are exact for ASCII text only.
pub fn saphyr_events(text: &str) -> Option<Vec<Spanned<'_>>> {
    let mut events = Vec::new();
    for next in saphyr_parser::Parser::new_from_str(text) {
        let (event, span) = next.ok()?;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::Nothing => {}
            Event::DocumentEnd => events.push((Event::DocumentEnd, 0, 0)),
            event => events.push((event, span.start.index() as u32, span.end.index() as u32)),
        }
    }
    Some(events)
}

/// Holds this reader to saphyr on `text`: `Ok(false)` when it declines the text, `Ok(true)`
/// when it takes it and gives saphyr's events, `Err` with both streams when they differ (or
/// when it takes a text saphyr rejects).
pub fn check_against_saphyr(text: &str) -> Result<bool, String> {
    let Some(mut ours) = events(text) else {
        return Ok(false);
    };
    for event in &mut ours {
        if event.0 == Event::DocumentEnd {
            *event = (Event::DocumentEnd, 0, 0);
        }
    }
    match saphyr_events(text) {
        Some(theirs) if theirs == ours => Ok(true),
        theirs => Err(format!("{text:?}\n  subset: {ours:?}\n  saphyr: {theirs:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every case this reader takes must give saphyr's stream; cases it declines are listed.
    #[test]
    fn agrees_with_saphyr() {
        let taken = [
            "a: 1\n",
            "apiVersion: v1\nkind: X  # c\nmetadata:\n  name: a\n  labels: {team: t6, \"x\": 'y'}\n  e: []\n  f:\n# comment\nspec:\n  items: [a, b]\n  list:\n  - id: c\n    members: 1\n  - b\n  - - z\n\n---\nb: \"q\"\n",
            "k:\n- a\n- b\nm:\n  - x\n  - y: 1\n    z: 2\nn: 1",
            "a: 1\n# trailing\n\n",
            "- a\n- b: c\n  d: e\n- - f\n  - g\n",
            "---\na: 1\n---\nb: [x, {y: z}]\n",
            "just a scalar\n",
            "a:\n  b\nc: d\n",
            "a: http://x:80/y  \nb: nginx:1.2\nc: -1\nd: x#y\n",
            "a:\n\n  b: c\n\nd: e\n",
            "a: # nothing\nb: c\n",
            "r:\n  requests: {cpu: \"1\", memory: 4Gi}\n  limits: {cpu: \"1\", memory: 4Gi}\n",
            "a: \"q\" # c",
            "a: [ [x] , y ] # c\n",
            "a: {b: \"x\" , c: 'y' }\n",
        ];
        for text in taken {
            assert_eq!(check_against_saphyr(text), Ok(true), "{text:?}");
        }
        let declined = [
            "a: b\n  c\n",
            "a: &x 1\n",
            "a: |\n  x\n",
            "a:\tb\n",
            "a: \"x\\ny\"\n",
            "a: [x,\n  y]\n",
            "a: b: c\n",
            "- a\nb: c\n",
            "a: 1\n---\n",
            "---\n---\na: 1\n",
            "a: 'it''s'\n",
            "\u{e4}: 1\n",
            "a: 1\r\n",
            "a: [x, ]\n",
            "a: 1\n b: 2\n",
            "...\n",
            // saphyr refuses these (a `-` word before a flow indicator); found by fuzzing.
            "{n: i -}",
            "a: [x -, y]\n",
        ];
        for text in declined {
            assert_eq!(check_against_saphyr(text), Ok(false), "{text:?}");
        }
    }

    /// Pieces of YAML lines, valid and not, that the generators string together.
    const PIECES: &[&str] = &[
        "a:",
        "b: 1",
        "c: x y",
        "key: {cpu: \"1\", m: 4Gi}",
        "k: [a, b]",
        "k: []",
        "k: {}",
        "- x",
        "- y: 1",
        "- - z",
        "- ",
        "-",
        "- [a]",
        "- {a: b}",
        "\"q\": 'v'",
        "a: \"q\" # c",
        "# comment",
        "",
        "---",
        "...",
        "a: b: c",
        "a: -1",
        "a: x:y",
        "a: [x",
        "a: x]",
        "x",
        "a: x #y",
        "a:x",
        "a: 'x",
        "<<: {a: b}",
        "a: ~",
        "? x",
        "a: &b c",
        "a: *b",
        "a: |",
        "- a: b",
        "a: {x: [1, {y: z}]}",
        "a: [x: y]",
        "a: {x}",
        "k: v  ",
        "--- a",
        "a: ..b",
        "a: [ x , 'y' ] ",
        "- \"s\"  ",
        "a: {b: \"c\" }  # d",
        "name: conn-1",
        "  - id: c",
        "spec:",
        "metadata:",
        "- name: x",
        "  value: y",
        "items: [username, password]",
    ];
    const INDENTS: &[&str] = &["", "", "", " ", "  ", "  ", "    ", "      "];

    /// A deterministic sweep over many generated texts: every text taken agrees with saphyr,
    /// and enough of them are taken for the comparison to mean something.
    #[test]
    fn generated_texts_agree_with_saphyr() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut random = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut taken, total) = (0, 30_000);
        for _ in 0..total {
            let lines = random(10);
            let mut text = String::new();
            for _ in 0..lines {
                text.push_str(INDENTS[random(INDENTS.len())]);
                text.push_str(PIECES[random(PIECES.len())]);
                text.push('\n');
            }
            if random(4) == 0 {
                text.pop();
            }
            match check_against_saphyr(&text) {
                Ok(true) => taken += 1,
                Ok(false) => {}
                Err(difference) => panic!("{difference}"),
            }
        }
        assert!(taken * 10 > total, "only {taken} of {total} texts taken");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The block context's jumping scan ends every plain scalar where the byte-by-byte one
        /// does (texts of the bytes that matter to either, after a first byte that starts one).
        #[test]
        fn block_plain_scalars_end_where_the_bytewise_scan_ends_them(
            rest in proptest::collection::vec(prop::sample::select(&b"a:# -\n.\t"[..]), 0..40)
        ) {
            struct Ignore;
            impl<'t> Sink<'t> for Ignore {
                fn event(&mut self, _: Event<'t>, _: u32, _: u32) -> Result<(), Stop> {
                    Ok(())
                }
            }
            let text = String::from_utf8([&b"x"[..], &rest].concat()).unwrap();
            let mut sink = Ignore;
            let reader =
                Reader { text: &text, bytes: text.as_bytes(), sink: &mut sink, stopped: false, depth: 0 };
            prop_assert_eq!(Some(reader.block_plain_extent(0)), reader.plain_extent_bytewise(0, false));
        }
    }

    fn line() -> impl Strategy<Value = String> {
        (prop::sample::select(INDENTS), prop::sample::select(PIECES))
            .prop_map(|(i, p)| format!("{i}{p}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Whatever this reader takes, saphyr reads the same way (shrinks to a small case).
        #[test]
        fn generated_text_agrees_with_saphyr(lines in prop::collection::vec(line(), 0..12), newline in any::<bool>()) {
            let mut text = lines.join("\n");
            if newline {
                text.push('\n');
            }
            prop_assert_eq!(check_against_saphyr(&text).map(|_| ()), Ok(()));
        }
    }
}
