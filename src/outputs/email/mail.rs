//! One mail's content: the output's templates rendered for an event, then turned into a MIME
//! message as Logstash's email output shapes it (a plain `body`; with `htmlbody`, a
//! `multipart/alternative` whose HTML part has the `contenttype`; files in `attachments`
//! around it in a `multipart/mixed`).

use std::path::PathBuf;

use lettre::message::header::{self, ContentType};
use lettre::message::{Attachment, Mailboxes, MultiPart, SinglePart};
use lettre::Message;

use crate::event::{Event, Template};

/// The output's string settings, each a template rendered per event.
pub struct Templates {
    pub from: Template,
    pub to: Template,
    pub cc: Option<Template>,
    pub bcc: Option<Template>,
    pub replyto: Option<Template>,
    pub subject: Template,
    pub body: Template,
    pub htmlbody: Option<Template>,
}

/// A mail's headers and bodies as text, before any address is parsed.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub replyto: String,
    pub subject: String,
    pub body: String,
    pub htmlbody: String,
}

impl Templates {
    pub fn render(&self, event: &Event) -> Rendered {
        let optional = |t: &Option<Template>| {
            t.as_ref()
                .map(|t| t.render_to_string(event))
                .unwrap_or_default()
        };
        Rendered {
            from: self.from.render_to_string(event),
            to: self.to.render_to_string(event),
            cc: optional(&self.cc),
            bcc: optional(&self.bcc),
            replyto: optional(&self.replyto),
            subject: self.subject.render_to_string(event),
            body: self.body.render_to_string(event),
            htmlbody: optional(&self.htmlbody),
        }
    }
}

/// How the message's parts are typed and what is attached.
pub struct Shape {
    /// The HTML part's content type (`contenttype`).
    pub html_type: ContentType,
    pub attachments: Vec<PathBuf>,
}

impl Shape {
    /// The message for `mail`. An error is permanent: an address that does not parse or an
    /// attachment that cannot be read will not get better by trying again.
    pub fn message(&self, mail: &Rendered) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(
                mail.from
                    .trim()
                    .parse()
                    .map_err(|e| format!("`from` {:?}: {e}", mail.from))?,
            )
            .mailbox(header::To::from(addresses("to", &mail.to)?))
            .subject(mail.subject.as_str());
        if !mail.cc.trim().is_empty() {
            builder = builder.mailbox(header::Cc::from(addresses("cc", &mail.cc)?));
        }
        if !mail.bcc.trim().is_empty() {
            builder = builder.mailbox(header::Bcc::from(addresses("bcc", &mail.bcc)?));
        }
        if !mail.replyto.trim().is_empty() {
            builder = builder.mailbox(header::ReplyTo::from(addresses("replyto", &mail.replyto)?));
        }
        let content = if mail.htmlbody.is_empty() {
            Content::Single(SinglePart::plain(mail.body.clone()))
        } else {
            let html = SinglePart::builder()
                .header(self.html_type.clone())
                .body(mail.htmlbody.clone());
            Content::Multi(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(mail.body.clone()))
                    .singlepart(html),
            )
        };
        let built = if self.attachments.is_empty() {
            match content {
                Content::Single(part) => builder.singlepart(part),
                Content::Multi(part) => builder.multipart(part),
            }
        } else {
            let mut mixed = match content {
                Content::Single(part) => MultiPart::mixed().singlepart(part),
                Content::Multi(part) => MultiPart::mixed().multipart(part),
            };
            for path in &self.attachments {
                let bytes = std::fs::read(path)
                    .map_err(|e| format!("attachment {}: {e}", path.display()))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let octets =
                    ContentType::parse("application/octet-stream").expect("a valid content type");
                mixed = mixed.singlepart(Attachment::new(name).body(bytes, octets));
            }
            builder.multipart(mixed)
        };
        built.map_err(|e| e.to_string())
    }
}

enum Content {
    Single(SinglePart),
    Multi(MultiPart),
}

/// A comma-separated list of addresses, as Logstash's `to`, `cc` and `bcc` take them.
fn addresses(setting: &str, list: &str) -> Result<Mailboxes, String> {
    list.parse::<Mailboxes>()
        .map_err(|e| format!("`{setting}` {list:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str) -> Rendered {
        Rendered {
            from: "logstash.alert@example.com".into(),
            to: to.into(),
            cc: String::new(),
            bcc: String::new(),
            replyto: String::new(),
            subject: "s".into(),
            body: "b".into(),
            htmlbody: String::new(),
        }
    }

    fn shape(attachments: Vec<PathBuf>) -> Shape {
        Shape {
            html_type: ContentType::TEXT_HTML,
            attachments,
        }
    }

    #[test]
    fn an_address_that_does_not_parse_after_rendering_is_an_error_naming_the_setting() {
        let error = shape(vec![]).message(&mail("%{[missing]}")).unwrap_err();
        assert!(error.starts_with("`to` \"%{[missing]}\""), "{error}");
        assert!(shape(vec![]).message(&mail("a@b.c, d@e.f")).is_ok());
    }

    #[test]
    fn a_missing_attachment_is_an_error_naming_the_file() {
        let error = shape(vec!["/nonexistent/runbook.txt".into()])
            .message(&mail("a@b.c"))
            .unwrap_err();
        assert!(
            error.starts_with("attachment /nonexistent/runbook.txt:"),
            "{error}"
        );
    }
}
