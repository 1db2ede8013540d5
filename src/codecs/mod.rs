//! Codecs: how inputs turn bytes into events and how `stdout` and `file` turn events into
//! bytes. Named and configured as in Logstash (`codec => json_lines`,
//! `codec => line { format => "%{message}" }`).

pub mod multiline;
mod rubydebug;

use std::time::Duration;

use crate::config::ast::Plugin;
use crate::config::error::{unknown_name_help, ConfigError};
use crate::config::settings::Settings;
use crate::event::{json, Event, Template, Text};
pub use multiline::Multiline;

/// Decodes one line of text into an event.
pub enum Decoder {
    /// `line` / `plain`: the line, without its line ending, becomes `message`.
    Line,
    /// `multiline`: each line becomes an event as for `line`, and the input joins them in
    /// their stream with [`Multiline::streams`].
    Multiline(Multiline),
}

const DECODERS: &[&str] = &["line", "multiline", "plain"];

impl Decoder {
    /// The `codec` setting of an input, `default` when absent. `default_auto_flush` is the
    /// multiline codec's `auto_flush_interval` on this input when the codec does not set one.
    pub fn from_settings(
        settings: &Settings,
        default: &str,
        default_auto_flush: Option<Duration>,
    ) -> Result<Decoder, ConfigError> {
        let Some(plugin) = settings.plugin("codec")? else {
            return Decoder::named(default, settings.span());
        };
        let codec_settings = Settings::new(&plugin, "codec")?;
        let decoder = match plugin.name.as_str() {
            "multiline" => Decoder::Multiline(Multiline::from_settings(
                &codec_settings,
                default_auto_flush,
            )?),
            name => {
                codec_settings.string("charset")?;
                Decoder::named(name, plugin.span)?
            }
        };
        codec_settings.finish()?;
        Ok(decoder)
    }

    fn named(name: &str, span: crate::config::source::Span) -> Result<Decoder, ConfigError> {
        match name {
            "line" | "plain" => Ok(Decoder::Line),
            other => Err(
                ConfigError::at(span, format!("unknown codec `{other}` for this input"))
                    .with_help(unknown_name_help(other, DECODERS)),
            ),
        }
    }

    pub fn decode_line(&self, line: &[u8]) -> Event {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = Text::from_utf8_lossy(bytes::Bytes::copy_from_slice(line));
        Event::from_message(text)
    }

    /// The multiline codec, when this is one.
    pub fn multiline(&self) -> Option<&Multiline> {
        match self {
            Decoder::Line => None,
            Decoder::Multiline(multiline) => Some(multiline),
        }
    }
}

/// Encodes events for `stdout` and `file`.
pub enum Encoder {
    /// Logstash's human-readable dump (keys sorted and aligned).
    Rubydebug { metadata: bool },
    /// One JSON document per line.
    JsonLines,
    /// One JSON document per event, without a separator.
    Json,
    /// A line rendered from a template (`format`, default `%{message}`).
    Line(Template),
    /// A dot per event.
    Dots,
}

const ENCODERS: &[&str] = &["dots", "json", "json_lines", "line", "plain", "rubydebug"];

impl Encoder {
    /// The `codec` setting of an output, `default` when absent.
    pub fn from_settings(settings: &Settings, default: &str) -> Result<Encoder, ConfigError> {
        let plugin = settings.plugin("codec")?.unwrap_or(Plugin {
            name: default.to_owned(),
            settings: Vec::new(),
            span: settings.span(),
        });
        let codec = Settings::new(&plugin, "codec")?;
        let encoder = match plugin.name.as_str() {
            "rubydebug" => Encoder::Rubydebug {
                metadata: codec.boolean_or("metadata", false)?,
            },
            "json_lines" => Encoder::JsonLines,
            "json" => Encoder::Json,
            "line" | "plain" => {
                let format = codec.string_or("format", "%{message}")?;
                Encoder::Line(
                    Template::compile(&format)
                        .map_err(|e| ConfigError::at(plugin.span, e.to_string()))?,
                )
            }
            "dots" => Encoder::Dots,
            other => {
                return Err(
                    ConfigError::at(plugin.span, format!("unknown codec `{other}`"))
                        .with_help(unknown_name_help(other, ENCODERS)),
                )
            }
        };
        codec.string("charset")?;
        codec.finish()?;
        Ok(encoder)
    }

    /// Appends `event`'s encoding to `out`.
    /// Whether encoding reads the event's fields; the JSON encoders write an untouched Beats
    /// event from the document it arrived as.
    pub fn reads_fields(&self) -> bool {
        match self {
            Encoder::Rubydebug { .. } => true,
            Encoder::JsonLines | Encoder::Json => false,
            Encoder::Line(format) => format.reads_fields(),
            Encoder::Dots => false,
        }
    }

    pub fn encode(&self, event: &Event, out: &mut Vec<u8>) {
        match self {
            Encoder::Rubydebug { metadata } => rubydebug::encode(event, *metadata, out),
            Encoder::JsonLines => {
                json::encode_event(event, out);
                out.push(b'\n');
            }
            Encoder::Json => json::encode_event(event, out),
            Encoder::Line(format) => {
                let mut line = String::new();
                format.render(event, &mut line);
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            Encoder::Dots => out.push(b'.'),
        }
    }
}
