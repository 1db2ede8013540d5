//! The state machine of one stream: which lines belong together, and the event they make.
//!
//! A line *continues* when `pattern` matches it (or, with `negate`, when it does not). With
//! `what => previous` a continuing line joins the lines before it, and any other line starts a
//! new event; with `what => next` a continuing line joins the lines after it, and any other
//! line ends the event it is in. That is Logstash's rule, line for line.
//!
//! The merged event is the first line's event (its fields, `@timestamp` and metadata) with the
//! messages joined by `\n`, tagged `multiline_tag` when it holds more than one line, and
//! holding every merged line's [`Finalizers`](crate::pipeline::receipt::Finalizers), so each
//! line's receipt resolves when the merged event has been output. An event made of one line
//! is passed on untouched (its message is not copied).
//!
//! Limits are true maxima: an event never holds more than `max_lines` lines, and its message
//! grows past `max_bytes` only when a single line is that long (lines are never split). When a
//! line would cross a limit, the event so far is cut, tagged
//! `multiline_codec_max_lines_reached` or `multiline_codec_max_bytes_reached` as Logstash tags
//! it, and the line begins the next one. (Logstash checks the limits after the fact, so its
//! events can hold `max_lines + 1` lines.) Joining is linear: each line is copied once.

use crate::event::{Event, FieldRef, Text, Value};
use crate::filters::grok::{self, GrokError, Matcher, PatternLibrary};

/// `what`: which neighbour a continuing line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Previous,
    Next,
}

/// Why an event left its stream; the `reason` label of `sluice_multiline_flushes_total`.
/// Listed in [`Flush::ALL`]'s order, which `as usize` indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// The pattern said the event is complete.
    Pattern,
    MaxLines,
    MaxBytes,
    /// No line for `auto_flush_interval`.
    AutoFlush,
    /// The stream was the least recently used when a new one needed room.
    Evicted,
    /// The input is stopping (or its source ended).
    Shutdown,
}

impl Flush {
    pub const ALL: [Flush; 6] = [
        Flush::Pattern,
        Flush::MaxLines,
        Flush::MaxBytes,
        Flush::AutoFlush,
        Flush::Evicted,
        Flush::Shutdown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Flush::Pattern => "pattern",
            Flush::MaxLines => "max_lines",
            Flush::MaxBytes => "max_bytes",
            Flush::AutoFlush => "auto_flush",
            Flush::Evicted => "evicted",
            Flush::Shutdown => "shutdown",
        }
    }

    /// The tag Logstash puts on an event cut by this limit.
    fn tag(self) -> Option<Text> {
        match self {
            Flush::MaxLines => Some(Text::from_static("multiline_codec_max_lines_reached")),
            Flush::MaxBytes => Some(Text::from_static("multiline_codec_max_bytes_reached")),
            _ => None,
        }
    }
}

/// The compiled settings that decide how lines join; shared by every stream of an input.
pub struct Rule {
    pattern: Matcher,
    negate: bool,
    what: What,
    max_lines: usize,
    max_bytes: usize,
    /// `multiline_tag`; `None` when set to the empty string.
    tag: Option<Text>,
}

/// A [`Rule`]'s settings, with Logstash's defaults.
pub struct RuleSettings<'a> {
    /// A grok pattern (`%{…}` references resolved in the library it is compiled against).
    pub pattern: &'a str,
    pub negate: bool,
    pub what: What,
    pub max_lines: usize,
    pub max_bytes: usize,
    /// `multiline_tag`; empty for none.
    pub tag: &'a str,
}

impl Default for RuleSettings<'_> {
    fn default() -> Self {
        RuleSettings {
            pattern: "",
            negate: false,
            what: What::Previous,
            max_lines: 500,
            max_bytes: 10 << 20,
            tag: "multiline",
        }
    }
}

/// The lines of one stream waiting for the line that completes them.
pub struct Pending {
    /// The first line's event; its message is replaced when the event is finished.
    first: Event,
    /// The joined message once a second line has arrived; until then the first line's message
    /// stays where it is.
    joined: Option<Vec<u8>>,
    lines: usize,
    /// Length of the joined message.
    bytes: usize,
}

fn message_field() -> &'static FieldRef {
    static MESSAGE: std::sync::OnceLock<FieldRef> = std::sync::OnceLock::new();
    MESSAGE.get_or_init(|| FieldRef::parse("message").expect("a valid reference"))
}

/// The line an event carries: its `message` when that is a string.
pub fn line_of(event: &Event) -> Option<&Text> {
    match event.fields().get("message") {
        Some(Value::String(text)) => Some(text),
        _ => None,
    }
}

impl Pending {
    fn start(event: Event, bytes: usize) -> Pending {
        Pending {
            first: event,
            joined: None,
            lines: 1,
            bytes,
        }
    }

    fn append(&mut self, mut event: Event, line: &[u8]) {
        let joined = self.joined.get_or_insert_with(|| {
            let first = line_of(&self.first).map_or(&[][..], |t| t.as_bytes());
            let mut joined = Vec::with_capacity((first.len() + 1 + line.len()) * 2);
            joined.extend_from_slice(first);
            joined
        });
        joined.push(b'\n');
        joined.extend_from_slice(line);
        self.lines += 1;
        self.bytes += 1 + line.len();
        let absorbed = event.take_finalizers();
        self.first.finalizers_mut().merge(absorbed);
    }

    /// Lines held so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Length of the message held so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Rule {
    pub fn new(settings: RuleSettings, library: &PatternLibrary) -> Result<Rule, GrokError> {
        Ok(Rule {
            pattern: grok::compile_pattern(settings.pattern, library)?,
            negate: settings.negate,
            what: settings.what,
            max_lines: settings.max_lines.max(1),
            max_bytes: settings.max_bytes.max(1),
            tag: (!settings.tag.is_empty()).then(|| Text::from(settings.tag)),
        })
    }

    /// Whether `line` continues an event (the pattern's verdict after `negate`).
    fn continues(&self, line: &str) -> bool {
        self.pattern.is_match(line) != self.negate
    }

    /// Feeds one line's event to a stream whose unfinished event is `pending`; every event it
    /// completes goes to `emit` with the reason and its number of lines. The line is the
    /// event's string `message` (callers pass events without one around the codec).
    pub fn feed(
        &self,
        pending: &mut Option<Pending>,
        event: Event,
        emit: &mut impl FnMut(Event, Flush, usize),
    ) {
        let line = line_of(&event).cloned().unwrap_or_default();
        let continues = self.continues(line.as_str());
        let line = line.as_bytes();
        match self.what {
            What::Previous => {
                if let Some(held) = pending.as_mut() {
                    if continues {
                        match self.limit_crossed(held, line) {
                            None => return held.append(event, line),
                            Some(limit) => self.emit(pending.take(), limit, emit),
                        }
                    } else {
                        self.emit(pending.take(), Flush::Pattern, emit);
                    }
                }
                // A line longer than max_bytes alone could only ever be cut: out it goes.
                if line.len() >= self.max_bytes {
                    let alone = self.finish(Pending::start(event, line.len()), Flush::MaxBytes);
                    return emit(alone, Flush::MaxBytes, 1);
                }
                *pending = Some(Pending::start(event, line.len()));
            }
            What::Next => {
                match pending.as_mut() {
                    Some(held) => match self.limit_crossed(held, line) {
                        None => held.append(event, line),
                        Some(limit) => {
                            self.emit(pending.take(), limit, emit);
                            *pending = Some(Pending::start(event, line.len()));
                        }
                    },
                    None => *pending = Some(Pending::start(event, line.len())),
                }
                let held = pending.as_ref().expect("set just above");
                if held.bytes >= self.max_bytes {
                    self.emit(pending.take(), Flush::MaxBytes, emit);
                } else if !continues {
                    self.emit(pending.take(), Flush::Pattern, emit);
                }
            }
        }
    }

    /// The limit `held` would cross by taking `line`, if any.
    fn limit_crossed(&self, held: &Pending, line: &[u8]) -> Option<Flush> {
        if held.lines >= self.max_lines {
            Some(Flush::MaxLines)
        } else if held.bytes + 1 + line.len() > self.max_bytes {
            Some(Flush::MaxBytes)
        } else {
            None
        }
    }

    fn emit(
        &self,
        pending: Option<Pending>,
        reason: Flush,
        emit: &mut impl FnMut(Event, Flush, usize),
    ) {
        if let Some(pending) = pending {
            let lines = pending.lines;
            emit(self.finish(pending, reason), reason, lines);
        }
    }

    /// The event `pending` makes, flushed for `reason`.
    pub fn finish(&self, pending: Pending, reason: Flush) -> Event {
        let Pending {
            mut first,
            joined,
            lines,
            ..
        } = pending;
        if let Some(joined) = joined {
            // Joined from UTF-8 lines with `\n`: still UTF-8.
            let text = Text::from_utf8(bytes::Bytes::from(joined))
                .expect("UTF-8 lines joined by newlines are UTF-8");
            first.insert(message_field(), Value::String(text));
        }
        if lines > 1 {
            if let Some(tag) = &self.tag {
                first.add_tag(tag.clone());
            }
        }
        if let Some(tag) = reason.tag() {
            first.add_tag(tag);
        }
        first
    }
}
